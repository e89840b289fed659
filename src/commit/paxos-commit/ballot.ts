// Ballots and the learner's tally for Paxos Commit.
//
// Ballot 0 of instance i belongs to RM i alone (Gray & Lamport §4.1: the
// RM's phase 2a at ballot 0 needs no phase 1). Ballot b > 0 belongs to
// members[(b - 1) mod M]: b = round * M + index + 1, unique per node.

import type { NodeId } from '../../core/ids.js';
import type { Outcome } from '../types.js';
import type { InstanceValue, PaxosValue } from './messages.js';

export function ballotOf(round: number, index: number, members: number): number {
  return round * members + index + 1;
}

export function ballotOwner(ballot: number, members: readonly NodeId[]): NodeId {
  return members[(ballot - 1) % members.length] as NodeId;
}

/**
 * Learns chosen values from accepted (2b) messages: a value is chosen in an
 * instance once F+1 acceptors accepted it at the same ballot.
 */
export class Tally {
  // rm -> ballot -> acceptor -> value
  private readonly votes = new Map<NodeId, Map<number, Map<NodeId, PaxosValue>>>();
  private readonly chosen = new Map<NodeId, PaxosValue>();
  private readonly chosenAt = new Map<NodeId, number>();

  constructor(private readonly quorum: number) {}

  add(acceptor: NodeId, ballot: number, values: readonly InstanceValue[]): void {
    for (const { rm, value } of values) {
      let byBallot = this.votes.get(rm);
      if (byBallot === undefined) this.votes.set(rm, (byBallot = new Map()));
      let byAcceptor = byBallot.get(ballot);
      if (byAcceptor === undefined) byBallot.set(ballot, (byAcceptor = new Map()));
      byAcceptor.set(acceptor, value);
      if (byAcceptor.size >= this.quorum && !this.chosen.has(rm)) {
        this.chosen.set(rm, value);
        this.chosenAt.set(rm, ballot);
      }
    }
  }

  chosenValue(rm: NodeId): PaxosValue | undefined {
    return this.chosen.get(rm);
  }

  /** True when the RM proposed this value itself (ballot 0) and so already knows it. */
  chosenByItsRm(rm: NodeId): boolean {
    return this.chosenAt.get(rm) === 0;
  }

  /** Commit iff every instance chose prepared; abort as soon as one chose aborted (§4). */
  outcome(participants: readonly NodeId[]): Outcome | null {
    let all = true;
    for (const rm of participants) {
      const v = this.chosen.get(rm);
      if (v === 'aborted') return 'abort';
      if (v === undefined) all = false;
    }
    return all ? 'commit' : null;
  }
}
