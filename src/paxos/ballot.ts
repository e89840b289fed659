// Ballots (Paxos Made Simple §2.2: "proposal numbers"). A ballot is a pair
// (round, node id): unique across proposers because the node id breaks ties,
// totally ordered by round first, then node id. A proposer persists the round
// before it uses it (see proposer.ts), so a restart never reuses a ballot.

import type { Brand, NodeId } from '../core/ids.js';

export type Ballot = Brand<{ readonly round: number; readonly node: NodeId }, 'Ballot'>;

export function Ballot(round: number, node: NodeId): Ballot {
  if (!Number.isSafeInteger(round) || round < 0) throw new RangeError(`ballot round must be a non-negative safe integer, got ${round}`);
  return { round, node } as Ballot;
}

/** Negative when a < b, zero when equal, positive when a > b. null sorts below every ballot. */
export function compareBallots(a: Ballot | null, b: Ballot | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (a.round !== b.round) return a.round - b.round;
  return a.node - b.node;
}

export function ballotEquals(a: Ballot | null, b: Ballot | null): boolean {
  return compareBallots(a, b) === 0;
}

export function maxBallot(a: Ballot | null, b: Ballot | null): Ballot | null {
  return compareBallots(a, b) >= 0 ? a : b;
}

export function showBallot(b: Ballot | null): string {
  return b === null ? '-' : `${b.round}.${b.node}`;
}

/** The next ballot of `node` above both its own persisted round and any ballot it has seen. */
export function nextBallot(node: NodeId, ownRound: number, seen: Ballot | null): Ballot {
  return Ballot(Math.max(ownRound, seen?.round ?? 0) + 1, node);
}
