// Configuration of a Raft node, its defaults and their validation. Timeouts are
// in ticks: the host decides how long a tick is.

import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';

/** Encodes a state-machine snapshot to text so that it can be sent in chunks (Raft §7). */
export interface SnapshotCodec<S> {
  encode(snapshot: S): string;
  decode(text: string): S;
}

/** Names of the deliberate bugs the simulator must catch (see docs/raft.md). */
export const RAFT_MUTANTS = {
  'double-vote': 'grants a second vote in a term it already voted in (breaks Election Safety, Raft §5.2)',
  'commit-old-term': "commits an earlier term's entry by counting replicas (the Figure 8 hazard, Raft §5.4.2)",
  'skip-log-check': 'accepts AppendEntries without checking the previous entry (breaks Log Matching, Raft §5.3)',
  'forget-vote': 'does not persist votedFor, so a restarted node can vote twice in a term (Raft Figure 2)',
  'stale-read': 'answers ReadIndex without confirming leadership with a heartbeat round (Raft §8)',
} as const;

export type RaftMutant = keyof typeof RAFT_MUTANTS;

export interface RaftOptions<C, S> {
  readonly id: NodeId;
  /** The initial voters when bootstrapping a new cluster; empty for a node that joins (it learns the configuration from the leader). */
  readonly peers: readonly NodeId[];
  /** Initial learners (non-voting members). */
  readonly learners?: readonly NodeId[];
  /** The only source of randomness (election timeouts). */
  readonly rng: Prng;
  /** Raft §5.2: a follower that hears nothing for a random [T, 2T) ticks starts an election. Default 10. */
  readonly electionTimeoutTicks?: number;
  /** A leader sends heartbeats every this many ticks. Default 1. Must be < electionTimeoutTicks. */
  readonly heartbeatTicks?: number;
  /** Thesis §9.6. Default true. */
  readonly preVote?: boolean;
  /** Thesis §6.2: a leader that has not heard from a quorum within an election timeout steps down; followers ignore votes while they hear from a leader. Default true. */
  readonly checkQuorum?: boolean;
  /** 'safe': ReadIndex confirms leadership with a heartbeat round; 'lease': a leader inside its lease answers at once (needs checkQuorum; see docs/raft.md). Default 'safe'. */
  readonly readOnly?: 'safe' | 'lease';
  /** Lease reads: ticks taken off the lease to allow for clock drift between nodes. Default 2. */
  readonly leaseMarginTicks?: number;
  /** Max bytes of entries in one AppendEntries (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Max entries in one AppendEntries. Default 512. */
  readonly maxEntriesPerMsg?: number;
  /** Max AppendEntries in flight to one follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Max bytes of entries in flight to one follower (0 = no byte limit). Default 32 MiB. */
  readonly maxInflightBytes?: number;
  /** Max bytes of proposed but uncommitted entries at the leader; beyond it propose() returns 'overloaded'. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Max pending linearizable reads (beyond it readIndex fails). Default 65536. */
  readonly maxPendingReads?: number;
  /** Chunk size of InstallSnapshot data, in characters. Default 64 KiB. */
  readonly snapshotChunkBytes?: number;
  /** The size of a command, for the byte limits. Default: length of its JSON text. */
  readonly commandBytes?: (command: C) => number;
  /** Default: JSON. */
  readonly snapshotCodec?: SnapshotCodec<S>;
  /** Emit 'commit' events for the trace (one per commit advance). Default true. */
  readonly commitEvents?: boolean;
  /** Deliberate bugs (RAFT_MUTANTS); never set outside tests and the simulator. */
  readonly mutants?: ReadonlySet<string>;
}

export interface ResolvedOptions<C, S> {
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly rng: Prng;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly readOnly: 'safe' | 'lease';
  readonly leaseMarginTicks: number;
  readonly maxSizePerMsg: number;
  readonly maxEntriesPerMsg: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedBytes: number;
  readonly maxPendingReads: number;
  readonly snapshotChunkBytes: number;
  readonly commandBytes: (command: C) => number;
  readonly snapshotCodec: SnapshotCodec<S>;
  readonly commitEvents: boolean;
  readonly mutants: ReadonlySet<RaftMutant>;
}

function jsonBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  const text = JSON.stringify(value);
  return text === undefined ? 0 : text.length;
}

function positiveInt(value: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`raft option ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** Fills defaults and rejects bad settings with a message naming the option. */
export function resolveOptions<C, S>(o: RaftOptions<C, S>): ResolvedOptions<C, S> {
  const electionTimeoutTicks = positiveInt(o.electionTimeoutTicks ?? 10, 'electionTimeoutTicks', 2);
  const heartbeatTicks = positiveInt(o.heartbeatTicks ?? 1, 'heartbeatTicks');
  if (heartbeatTicks >= electionTimeoutTicks) {
    throw new RangeError(`raft option heartbeatTicks (${heartbeatTicks}) must be below electionTimeoutTicks (${electionTimeoutTicks})`);
  }
  const checkQuorum = o.checkQuorum ?? true;
  const readOnly = o.readOnly ?? 'safe';
  if (readOnly === 'lease' && !checkQuorum) throw new RangeError("raft option readOnly 'lease' needs checkQuorum: true");
  const leaseMarginTicks = positiveInt(o.leaseMarginTicks ?? 2, 'leaseMarginTicks', 0);
  if (readOnly === 'lease' && leaseMarginTicks >= electionTimeoutTicks) {
    throw new RangeError('raft option leaseMarginTicks must be below electionTimeoutTicks');
  }
  const mutants = new Set<RaftMutant>();
  for (const m of o.mutants ?? []) {
    if (!(m in RAFT_MUTANTS)) throw new RangeError(`unknown raft mutant '${m}' (known: ${Object.keys(RAFT_MUTANTS).join(', ')})`);
    mutants.add(m as RaftMutant);
  }
  const voters = new Set(o.peers);
  for (const l of o.learners ?? []) if (voters.has(l)) throw new RangeError(`raft: node ${l} is both a peer and a learner`);
  return {
    id: o.id,
    peers: [...o.peers],
    learners: [...(o.learners ?? [])],
    rng: o.rng,
    electionTimeoutTicks,
    heartbeatTicks,
    preVote: o.preVote ?? true,
    checkQuorum,
    readOnly,
    leaseMarginTicks,
    maxSizePerMsg: positiveInt(o.maxSizePerMsg ?? 1024 * 1024, 'maxSizePerMsg'),
    maxEntriesPerMsg: positiveInt(o.maxEntriesPerMsg ?? 512, 'maxEntriesPerMsg'),
    maxInflightMsgs: positiveInt(o.maxInflightMsgs ?? 256, 'maxInflightMsgs'),
    maxInflightBytes: positiveInt(o.maxInflightBytes ?? 32 * 1024 * 1024, 'maxInflightBytes', 0),
    maxUncommittedBytes: positiveInt(o.maxUncommittedBytes ?? 64 * 1024 * 1024, 'maxUncommittedBytes'),
    maxPendingReads: positiveInt(o.maxPendingReads ?? 65536, 'maxPendingReads'),
    snapshotChunkBytes: positiveInt(o.snapshotChunkBytes ?? 64 * 1024, 'snapshotChunkBytes'),
    commandBytes: o.commandBytes ?? jsonBytes,
    snapshotCodec: o.snapshotCodec ?? { encode: (s) => JSON.stringify(s), decode: (t) => JSON.parse(t) as S },
    commitEvents: o.commitEvents ?? true,
    mutants,
  };
}
