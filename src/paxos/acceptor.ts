// The acceptor of single-decree Paxos ("Paxos Made Simple" §2.2, P1a): it
// promises to ignore ballots below the highest prepare it answered, and
// accepts a proposal unless it promised a higher ballot. Its state is durable
// BEFORE the promise or accepted message leaves (effects.ts: `write` then
// `send`), so a restart never breaks a promise.

import type { NodeId } from '../core/ids.js';
import { assert } from '../core/assert.js';
import { compareBallots, maxBallot, type Ballot } from './ballot.js';
import type { Proposal, SynodOut, SynodWrite } from './messages.js';

export interface AcceptorMutants {
  /** Bug: accept a proposal whose ballot is below the promise. */
  readonly acceptLowerBallot: boolean;
  /** Bug: do not persist a promise, so a restarted acceptor forgets it. */
  readonly forgetPromise: boolean;
}

export const NO_ACCEPTOR_MUTANTS: AcceptorMutants = { acceptLowerBallot: false, forgetPromise: false };

export interface AcceptorState<V> {
  readonly promised: Ballot | null;
  readonly accepted: Proposal<V> | null;
}


export class Acceptor<V> {
  private promisedBallot: Ballot | null;
  private acceptedProposal: Proposal<V> | null;

  constructor(
    private readonly mutants: AcceptorMutants = NO_ACCEPTOR_MUTANTS,
    state: AcceptorState<V> = { promised: null, accepted: null },
  ) {
    this.promisedBallot = state.promised;
    this.acceptedProposal = state.accepted;
  }

  get promised(): Ballot | null {
    return this.promisedBallot;
  }

  get accepted(): Proposal<V> | null {
    return this.acceptedProposal;
  }

  /** Phase 1b. */
  onPrepare(from: NodeId, ballot: Ballot, out: SynodOut<V>): void {
    if (this.promisedBallot !== null && compareBallots(ballot, this.promisedBallot) < 0) {
      out.sendImmediately(from, { type: 'nack', ballot, promised: this.promisedBallot });
      return;
    }
    if (compareBallots(ballot, this.promisedBallot) > 0) {
      this.promisedBallot = ballot;
      if (!this.mutants.forgetPromise) out.write({ type: 'promise', ballot });
    }
    out.send(from, { type: 'promise', ballot, accepted: this.acceptedProposal });
  }

  /** Phase 2b: `notify` are the learners told of the acceptance (plus the proposer). */
  onAccept(from: NodeId, ballot: Ballot, value: V, notify: readonly NodeId[], out: SynodOut<V>): void {
    const below = this.promisedBallot !== null && compareBallots(ballot, this.promisedBallot) < 0;
    if (below && !this.mutants.acceptLowerBallot) {
      out.sendImmediately(from, { type: 'nack', ballot, promised: this.promisedBallot as Ballot });
      return;
    }
    this.promisedBallot = maxBallot(this.promisedBallot, ballot);
    this.acceptedProposal = { ballot, value };
    out.write({ type: 'accept', ballot, value });
    const to = notify.includes(from) ? notify : [from, ...notify];
    for (const n of to) out.send(n, { type: 'accepted', ballot, value });
    // Invariant: an acceptor never holds an accepted ballot above its promise.
    assert(compareBallots(this.acceptedProposal.ballot, this.promisedBallot) <= 0, 'accepted ballot above promise');
  }

  /** Rebuilds the acceptor from its durable writes, in order. */
  static recover<V>(writes: readonly SynodWrite<V>[], mutants: AcceptorMutants = NO_ACCEPTOR_MUTANTS): Acceptor<V> {
    let promised: Ballot | null = null;
    let accepted: Proposal<V> | null = null;
    for (const w of writes) {
      if (w.type === 'promise') promised = maxBallot(promised, w.ballot);
      if (w.type === 'accept') {
        promised = maxBallot(promised, w.ballot);
        accepted = { ballot: w.ballot, value: w.value };
      }
    }
    return new Acceptor<V>(mutants, { promised, accepted });
  }
}
