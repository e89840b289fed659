// The learner of single-decree Paxos ("Paxos Made Simple" §2.3): a value is
// chosen when a phase-2 quorum of acceptors accepted it under the SAME ballot.
// Acceptances of an equal value under different ballots must not be added up:
// no single ballot may have a quorum, and a later ballot can then choose another
// value (see test/paxos/learner.test.ts for the five-acceptor counterexample).

import type { NodeId } from '../core/ids.js';
import { assert } from '../core/assert.js';
import { compareBallots, showBallot, type Ballot } from './ballot.js';
import type { Quorums } from './quorums.js';

/** Ballots counted at once; beyond it the lowest is forgotten (that only delays learning: a learner can ask). */
export const MAX_BALLOTS_COUNTED = 1024;

export class Learner<V> {
  /** Acceptors that accepted, per ballot (or per value with the mutant). */
  private readonly votes = new Map<string, { readonly value: V; readonly ballot: Ballot; readonly from: Set<NodeId> }>();
  private learned: { value: V } | null = null;

  constructor(
    private readonly acceptors: readonly NodeId[],
    private readonly quorums: Quorums,
    /** Bug switch: count acceptances of one value under different ballots together. */
    private readonly learnMixedBallots = false,
    private readonly valueKey: (v: V) => string = (v) => JSON.stringify(v),
  ) {}

  get chosen(): { readonly value: V } | null {
    return this.learned;
  }

  /** Returns the value when this acceptance makes it learned. */
  onAccepted(from: NodeId, ballot: Ballot, value: V): { value: V } | null {
    if (this.learned !== null || !this.acceptors.includes(from)) return null;
    const key = this.learnMixedBallots ? `v:${this.valueKey(value)}` : `b:${showBallot(ballot)}`;
    let entry = this.votes.get(key);
    if (entry === undefined) {
      if (this.votes.size >= MAX_BALLOTS_COUNTED) this.forgetLowest();
      entry = { value, ballot, from: new Set() };
      this.votes.set(key, entry);
    }
    // Invariant: one ballot carries one value (a proposer sends one value per ballot).
    assert(this.learnMixedBallots || this.valueKey(entry.value) === this.valueKey(value), () => `two values under ballot ${showBallot(ballot)}`);
    entry.from.add(from);
    if (entry.from.size < this.quorums.phase2) return null;
    this.learned = { value };
    this.votes.clear();
    return this.learned;
  }

  private forgetLowest(): void {
    let lowest: [string, Ballot] | null = null;
    for (const [k, e] of this.votes) if (lowest === null || compareBallots(e.ballot, lowest[1]) < 0) lowest = [k, e.ballot];
    if (lowest !== null) this.votes.delete(lowest[0]);
  }

  /** Told by another learner (relay) or in answer to an `ask`. */
  learn(value: V): { value: V } | null {
    if (this.learned !== null) return null;
    this.learned = { value };
    this.votes.clear();
    return this.learned;
  }

  /** Distinct ballots being counted (bounded by the proposals seen before learning). */
  get pendingBallots(): number {
    return this.votes.size;
  }
}
