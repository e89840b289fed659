// The 3PC termination protocol, the side of the participant elected for a
// round (Skeen 1981; Bernstein, Hadzilacos & Goodman §7.5). It collects the
// states of the live participants and decides by them:
//   some committed            -> commit      some aborted -> abort
//   some pre-committed        -> pre-commit the uncertain ones, then commit
//   all uncertain             -> abort (no site can have committed)
// A site that does not answer in time is taken as failed. With a perfect
// failure detector that is true and the rule is safe; under a network
// partition it is not, and the two sides may decide differently.

import type { NodeId, TxId } from '../../core/ids.js';
import type { Outcome } from '../types.js';
import type { ThreePcState } from './messages.js';

export type TerminationStep =
  | { readonly type: 'wait' }
  | { readonly type: 'decide'; readonly outcome: Outcome }
  | { readonly type: 'pre-commit'; readonly to: readonly NodeId[] };

export class TerminationRound {
  readonly reports = new Map<NodeId, ThreePcState>();
  readonly acks = new Set<NodeId>();
  phase: 'collecting' | 'pre-committing' | 'done' = 'collecting';
  private waitingFor: NodeId[] = [];

  constructor(
    readonly tx: TxId,
    readonly round: number,
    readonly participants: readonly NodeId[],
    public since: number,
  ) {}

  report(from: NodeId, state: ThreePcState): void {
    if (this.phase === 'collecting') this.reports.set(from, state);
  }

  ack(from: NodeId): void {
    if (this.phase === 'pre-committing') this.acks.add(from);
  }

  /** What to do now; `timedOut` when the phase's time is up (silent sites are taken as failed). */
  next(timedOut: boolean): TerminationStep {
    if (this.phase === 'collecting') {
      if (!timedOut && this.reports.size < this.participants.length) {
        // An outcome already known settles it at once.
        const known = this.knownOutcome();
        return known === null ? { type: 'wait' } : this.finish(known);
      }
      return this.decideByStates();
    }
    if (this.phase === 'pre-committing') {
      if (timedOut || this.waitingFor.every((p) => this.acks.has(p))) return this.finish('commit');
      return { type: 'wait' };
    }
    return { type: 'wait' };
  }

  private knownOutcome(): Outcome | null {
    const states = [...this.reports.values()];
    if (states.includes('committed')) return 'commit';
    if (states.includes('aborted')) return 'abort';
    return null;
  }

  private decideByStates(): TerminationStep {
    const known = this.knownOutcome();
    if (known !== null) return this.finish(known);
    const states = [...this.reports.entries()];
    if (!states.some(([, s]) => s === 'pre-committed')) return this.finish('abort');
    this.phase = 'pre-committing';
    this.waitingFor = states.filter(([, s]) => s === 'uncertain').map(([p]) => p);
    if (this.waitingFor.length === 0) return this.finish('commit');
    return { type: 'pre-commit', to: this.waitingFor };
  }

  private finish(outcome: Outcome): TerminationStep {
    this.phase = 'done';
    return { type: 'decide', outcome };
  }
}
