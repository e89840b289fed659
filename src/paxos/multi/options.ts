// Options of a Multi-Paxos node, validated at construction.

import { makeQuorums, quorumOptionsFrom, type QuorumOptions } from '../quorums.js';

export interface MultiPaxosOptions {
  readonly heartbeatTicks: number;
  /** A follower that hears no leader for a random electionTicks..2*electionTicks campaigns. */
  readonly electionTicks: number;
  /** A configuration chosen in slot k governs slots from k + alpha on. */
  readonly alpha: number;
  /** Slots in flight beyond the last one known chosen (pipelining); at most alpha. */
  readonly window: number;
  /** Slots per accept message (batching). */
  readonly maxBatch: number;
  /** Proposals waiting for a slot; beyond it propose() answers 'overloaded'. */
  readonly maxQueue: number;
  /** Unacknowledged accepts are sent again after this many ticks. */
  readonly resendTicks: number;
  /** A catch-up request not answered is sent again after this many ticks. */
  readonly catchupTicks: number;
  /** Chosen slots per catch-up message. */
  readonly maxCatchupEntries: number;
  /** Serve reads on the leader's lease (clock assumption, see docs/paxos.md) instead of a quorum round per read batch. */
  readonly leaseReads: boolean;
  /** The lease is this much shorter than the followers' guard, for clock drift. */
  readonly leaseMarginTicks: number;
  /** Keep digests of proposed and chosen values for the simulator's invariants. */
  readonly trackDigests: boolean;
  readonly quorums: QuorumOptions;
}

export class MultiPaxosOptionError extends Error {
  override readonly name = 'MultiPaxosOptionError';
}

function int(o: Readonly<Record<string, unknown>>, key: string, dflt: number, min: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new MultiPaxosOptionError(`option ${key} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function bool(o: Readonly<Record<string, unknown>>, key: string, dflt: boolean): boolean {
  const v = o[key] ?? dflt;
  if (typeof v !== 'boolean') throw new MultiPaxosOptionError(`option ${key} must be a boolean, got ${String(v)}`);
  return v;
}

/** Reads and checks options; throws QuorumConfigError for unsafe quorum sizes, MultiPaxosOptionError for the rest. */
export function multiPaxosOptions(members: number, o: Readonly<Record<string, unknown>> = {}): MultiPaxosOptions {
  const electionTicks = int(o, 'electionTicks', 10, 3);
  const alpha = int(o, 'alpha', 64, 1);
  const window = int(o, 'window', alpha, 1);
  if (window > alpha) throw new MultiPaxosOptionError(`option window (${window}) must not exceed alpha (${alpha}): the configuration of a slot in flight must be known`);
  const leaseMarginTicks = int(o, 'leaseMarginTicks', 2, 1);
  if (leaseMarginTicks >= electionTicks) throw new MultiPaxosOptionError(`option leaseMarginTicks (${leaseMarginTicks}) must be below electionTicks (${electionTicks})`);
  const quorums = quorumOptionsFrom(o);
  makeQuorums(members, quorums);
  return {
    heartbeatTicks: int(o, 'heartbeatTicks', 2, 1),
    electionTicks,
    alpha,
    window,
    maxBatch: int(o, 'maxBatch', 64, 1),
    maxQueue: int(o, 'maxQueue', 10_000, 1),
    resendTicks: int(o, 'resendTicks', 3, 1),
    catchupTicks: int(o, 'catchupTicks', 3, 1),
    maxCatchupEntries: int(o, 'maxCatchupEntries', 256, 1),
    leaseReads: bool(o, 'leaseReads', false),
    leaseMarginTicks,
    trackDigests: bool(o, 'trackDigests', true),
    quorums,
  };
}
