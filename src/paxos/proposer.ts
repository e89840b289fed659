// The proposer of single-decree Paxos ("Paxos Made Simple" §2.2). Phase 1:
// prepare(b) to the acceptors; with promises from a phase-1 quorum it proposes
// the value of the highest-ballot proposal they report (P2c), or its own when
// none was reported. Phase 2: accept(b, v). A nack carries the ballot the
// acceptor promised, so the next attempt jumps above it.
//
// Ballots are (round, node id); the round is written durably before the
// prepare that uses it leaves (`write` then `send`), so a restarted proposer
// never reuses a ballot.

import type { NodeId } from '../core/ids.js';
import { assert } from '../core/assert.js';
import { compareBallots, maxBallot, nextBallot, ballotEquals, type Ballot } from './ballot.js';
import type { Quorums } from './quorums.js';
import type { Proposal, SynodOut, SynodWrite } from './messages.js';

export type ProposerPhase = 'idle' | 'phase1' | 'phase2';


export class Proposer<V> {
  private roundUsed: number;
  private currentBallot: Ballot | null = null;
  private highestSeen: Ballot | null = null;
  private phaseNow: ProposerPhase = 'idle';
  private ownValue: V | null = null;
  private readonly promises = new Map<NodeId, Proposal<V> | null>();
  private proposedValue: V | null = null;

  constructor(
    readonly id: NodeId,
    private readonly acceptors: readonly NodeId[],
    private readonly quorums: Quorums,
    /** Bug switch: propose the own value despite a promise reporting an accepted one. */
    private readonly ignoreAcceptedValue = false,
    /** The highest round this proposer ever persisted (from its durable writes). */
    persistedRound = 0,
  ) {
    assert(acceptors.length === quorums.acceptors, 'quorum sizes computed for another acceptor count');
    this.roundUsed = persistedRound;
  }

  get ballot(): Ballot | null {
    return this.currentBallot;
  }
  get phase(): ProposerPhase {
    return this.phaseNow;
  }
  get round(): number {
    return this.roundUsed;
  }
  /** The value sent in phase 2 of the current ballot, if it got there. */
  get proposed(): V | null {
    return this.proposedValue;
  }
  get highestBallotSeen(): Ballot | null {
    return this.highestSeen;
  }

  /** The value to propose when no acceptor reports one. Kept across attempts. */
  setValue(value: V): void {
    if (this.ownValue === null) this.ownValue = value;
  }

  get value(): V | null {
    return this.ownValue;
  }

  /** Phase 1a with a fresh ballot above everything seen. */
  startRound(out: SynodOut<V>): Ballot {
    const b = nextBallot(this.id, this.roundUsed, this.highestSeen);
    this.roundUsed = b.round;
    this.currentBallot = b;
    this.highestSeen = maxBallot(this.highestSeen, b);
    this.phaseNow = 'phase1';
    this.proposedValue = null;
    this.promises.clear();
    out.write({ type: 'round', round: b.round });
    for (const a of this.acceptors) out.send(a, { type: 'prepare', ballot: b });
    return b;
  }

  onPromise(from: NodeId, ballot: Ballot, accepted: Proposal<V> | null, out: SynodOut<V>): void {
    if (this.phaseNow !== 'phase1' || !ballotEquals(ballot, this.currentBallot)) return;
    if (!this.acceptors.includes(from)) return;
    this.promises.set(from, accepted);
    if (this.promises.size < this.quorums.phase1) return;
    const value = this.valueToPropose();
    if (value === null) {
      // Nothing accepted anywhere in the quorum and nothing of our own: no need to choose.
      this.phaseNow = 'idle';
      return;
    }
    this.phaseNow = 'phase2';
    this.proposedValue = value;
    for (const a of this.acceptors) out.send(a, { type: 'accept', ballot: this.currentBallot as Ballot, value });
  }

  /** P2c: the value of the highest-ballot proposal reported by the quorum, else our own. */
  private valueToPropose(): V | null {
    let best: Proposal<V> | null = null;
    for (const p of this.promises.values()) {
      if (p !== null && (best === null || compareBallots(p.ballot, best.ballot) > 0)) best = p;
    }
    if (best !== null && !this.ignoreAcceptedValue) return best.value;
    return this.ownValue ?? best?.value ?? null;
  }

  /** A refusal. Returns true when it ends the current attempt (the caller retries later). */
  onNack(ballot: Ballot, promised: Ballot): boolean {
    this.highestSeen = maxBallot(this.highestSeen, promised);
    if (this.phaseNow === 'idle' || !ballotEquals(ballot, this.currentBallot)) return false;
    this.phaseNow = 'idle';
    return true;
  }

  /** Another proposer's ballot was observed (e.g. in a heartbeat or prepare). */
  observe(ballot: Ballot | null): void {
    this.highestSeen = maxBallot(this.highestSeen, ballot);
  }

  /** Gives up the current attempt (the decree is known, or another leader took over). */
  stop(): void {
    this.phaseNow = 'idle';
  }

  static persistedRound<V>(writes: readonly SynodWrite<V>[]): number {
    let r = 0;
    for (const w of writes) if (w.type === 'round') r = Math.max(r, w.round);
    return r;
  }
}
