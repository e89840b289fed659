// Quorum arithmetic shared by every protocol.

import { assert } from './assert.js';

/** The smallest majority of n voters: floor(n/2) + 1. */
export function majority(n: number): number {
  assert(Number.isInteger(n) && n > 0, () => `quorum of ${n} voters`);
  return Math.floor(n / 2) + 1;
}

/**
 * The largest value that at least `quorum` of `values` reach: sort descending
 * and take the quorum-th. Raft §5.3 uses it on match indexes to find the
 * highest index stored on a majority.
 */
export function quorumValue(values: readonly number[], quorum: number): number {
  assert(quorum > 0 && quorum <= values.length, () => `quorum ${quorum} of ${values.length} values`);
  const sorted = values.slice().sort((a, b) => b - a);
  return sorted[quorum - 1] as number;
}

/** The three outcomes of a vote count (Raft §5.2, Paxos phase 1/2). */
export type VoteResult = 'won' | 'lost' | 'pending';

export function tallyVotes(granted: number, rejected: number, voters: number, quorum = majority(voters)): VoteResult {
  if (granted >= quorum) return 'won';
  if (voters - rejected < quorum) return 'lost';
  return 'pending';
}
