// Quorum sizes for Paxos, flexible (Howard, Malkhi, Spiegelman, "Flexible Paxos:
// Quorum intersection revisited", 2016). Safety needs only that every phase-1
// quorum intersects every phase-2 quorum: |Q1| + |Q2| > N. Phase-2 quorums need
// not intersect each other, so a small Q2 (fast steady state) can be paid for
// with a large Q1 (slower leader change).

import { majority } from '../core/quorum.js';

export type QuorumErrorCode = 'quorums-do-not-intersect' | 'quorum-out-of-range' | 'no-acceptors';

/** A quorum configuration that cannot be safe. Thrown at construction, before any message is sent. */
export class QuorumConfigError extends Error {
  override readonly name = 'QuorumConfigError';
  constructor(
    readonly code: QuorumErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Quorums {
  readonly acceptors: number;
  /** Acceptors needed to complete phase 1 (prepare/promise). */
  readonly phase1: number;
  /** Acceptors needed to choose a value in phase 2 (accept/accepted). */
  readonly phase2: number;
}

export interface QuorumOptions {
  readonly phase1?: number | undefined;
  readonly phase2?: number | undefined;
}

/** Quorum sizes for `acceptors` acceptors; majorities unless given. Throws QuorumConfigError when unsafe. */
export function makeQuorums(acceptors: number, opts: QuorumOptions = {}): Quorums {
  if (!Number.isInteger(acceptors) || acceptors < 1) {
    throw new QuorumConfigError('no-acceptors', `Paxos needs at least one acceptor, got ${acceptors}`);
  }
  const phase1 = opts.phase1 ?? majority(acceptors);
  const phase2 = opts.phase2 ?? majority(acceptors);
  for (const [name, q] of [['phase-1', phase1], ['phase-2', phase2]] as const) {
    if (!Number.isInteger(q) || q < 1 || q > acceptors) {
      throw new QuorumConfigError('quorum-out-of-range', `${name} quorum must be an integer in [1, ${acceptors}], got ${q}`);
    }
  }
  if (phase1 + phase2 <= acceptors) {
    throw new QuorumConfigError(
      'quorums-do-not-intersect',
      `flexible quorums need |Q1| + |Q2| > N so that every phase-1 quorum meets every phase-2 quorum: ` +
        `${phase1} + ${phase2} <= ${acceptors}; raise the phase-1 or the phase-2 quorum`,
    );
  }
  return { acceptors, phase1, phase2 };
}

/** Reads optional `phase1Quorum` / `phase2Quorum` numbers from protocol options. */
export function quorumOptionsFrom(options: Readonly<Record<string, unknown>>): QuorumOptions {
  const read = (k: string): number | undefined => {
    const v = options[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw new QuorumConfigError('quorum-out-of-range', `option ${k} must be a number, got ${typeof v}`);
    return v;
  };
  return { phase1: read('phase1Quorum'), phase2: read('phase2Quorum') };
}
