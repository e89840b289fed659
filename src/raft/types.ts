// The data of the Raft core: log entries, configurations, snapshots, the
// messages peers exchange (Raft Figure 2 plus the thesis's extensions) and the
// durable writes a host must make. All are plain data, safe to clone or encode.

import type { LogIndex, NodeId, Term } from '../core/ids.js';

// ---------------------------------------------------------------- membership

/**
 * Raft §6 / thesis §4.3: a cluster configuration. `outgoing` is non-empty only
 * while in the joint configuration C_old,new: decisions then need a majority of
 * `voters` (C_new) AND a majority of `outgoing` (C_old). `learnersNext` are
 * voters of C_old that become learners when the joint configuration is left.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly outgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  /**
   * Opaque data the host attaches to a configuration (the server keeps its
   * member directory here: names and peer URLs). Set by the last change that
   * carried one; kept through snapshots, so it reaches every member. Raft
   * never reads it.
   */
  readonly context?: string;
}

export type ConfChangeOp =
  | { readonly type: 'add-voter'; readonly node: NodeId }
  | { readonly type: 'add-learner'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

export type ConfChange =
  /** The first entry of every bootstrapped log: the initial configuration. */
  | { readonly type: 'bootstrap'; readonly conf: ConfState }
  /**
   * Apply `ops`. A single voter change (or learner-only changes) applies in one
   * step (thesis §4.1); anything larger, or `joint: true`, enters C_old,new.
   */
  | { readonly type: 'change'; readonly ops: readonly ConfChangeOp[]; readonly joint: boolean; readonly context?: string }
  /** Leave the joint configuration: C_new alone (Raft §6). */
  | { readonly type: 'leave-joint' };

// ---------------------------------------------------------------- log

export type Entry<C> =
  | { readonly type: 'command'; readonly index: LogIndex; readonly term: Term; readonly bytes: number; readonly command: C }
  /** Raft §8: the entry a new leader appends to commit an entry of its own term. */
  | { readonly type: 'noop'; readonly index: LogIndex; readonly term: Term; readonly bytes: number }
  | { readonly type: 'conf'; readonly index: LogIndex; readonly term: Term; readonly bytes: number; readonly change: ConfChange };

/** Raft §7: what a snapshot replaces: the log through `index`, and the configuration then. */
export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly conf: ConfState;
}

export interface Snapshot<S> {
  readonly meta: SnapshotMeta;
  readonly data: S;
}

// ---------------------------------------------------------------- durable writes

/**
 * What the host keeps on disk, in order. `recover(config, writes)` rebuilds a
 * node from the writes that survived.
 */
export type RaftWrite<C, S> =
  /** Raft Figure 2 "persistent state": currentTerm, votedFor; commit is kept to re-apply faster. */
  | { readonly type: 'hard-state'; readonly term: Term; readonly vote: NodeId | null; readonly commit: LogIndex }
  /** Entries from `entries[0].index` on; any stored entries at or after that index are replaced. */
  | { readonly type: 'entries'; readonly entries: readonly Entry<C>[] }
  /** A snapshot through meta.index; entries up to it are dropped (a matching suffix is kept). */
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot<S> };

// ---------------------------------------------------------------- messages

export interface RequestVote {
  readonly type: 'RequestVote';
  readonly term: Term;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** Thesis §3.10: sent after TimeoutNow; voters skip the leader-lease check. */
  readonly transfer: boolean;
}

export interface RequestVoteResponse {
  readonly type: 'RequestVoteResponse';
  readonly term: Term;
  readonly granted: boolean;
}

/** Thesis §9.6: "would you vote for me at `term`?" — changes no voter's state. */
export interface PreVote {
  readonly type: 'PreVote';
  readonly term: Term;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
}

export interface PreVoteResponse {
  readonly type: 'PreVoteResponse';
  /** The term asked about when granted; the voter's own term when refused. */
  readonly term: Term;
  readonly granted: boolean;
}

export interface AppendEntries<C> {
  readonly type: 'AppendEntries';
  readonly term: Term;
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly Entry<C>[];
  readonly leaderCommit: LogIndex;
}

export interface AppendEntriesResponse {
  readonly type: 'AppendEntriesResponse';
  readonly term: Term;
  readonly success: boolean;
  /** On success: the follower's log matches the leader's through this index. On failure: the prevLogIndex refused. */
  readonly index: LogIndex;
  /** On failure (fast back-off, Raft §5.3): the follower's term at prevLogIndex, or 0 when its log is shorter. */
  readonly conflictTerm: Term;
  /** On failure: the follower's first index of conflictTerm, or its lastIndex + 1 when its log is shorter. */
  readonly conflictIndex: LogIndex;
}

/** An empty AppendEntries: asserts leadership, carries commit, confirms read rounds (Raft §8). */
export interface Heartbeat {
  readonly type: 'Heartbeat';
  readonly term: Term;
  /** min(follower's match, leader commit): never beyond what the follower is known to hold. */
  readonly commit: LogIndex;
  readonly readRound: number;
}

export interface HeartbeatResponse {
  readonly type: 'HeartbeatResponse';
  readonly term: Term;
  readonly readRound: number;
}

/** Raft §7: one chunk of a snapshot; every chunk repeats the metadata. */
export interface InstallSnapshot {
  readonly type: 'InstallSnapshot';
  readonly term: Term;
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly data: string;
  readonly done: boolean;
}

export interface InstallSnapshotResponse {
  readonly type: 'InstallSnapshotResponse';
  readonly term: Term;
  /** The snapshot index being received (or the follower's commit when it needs none). */
  readonly index: LogIndex;
  /** The next byte the follower expects: the leader resumes from here after a loss. */
  readonly nextOffset: number;
  readonly done: boolean;
}

/** Thesis §3.10: start an election now (leadership transfer). */
export interface TimeoutNow {
  readonly type: 'TimeoutNow';
  readonly term: Term;
}

/** A follower forwards a linearizable read to the leader (Raft §8, thesis §6.4). */
export interface ReadIndexRequest {
  readonly type: 'ReadIndexRequest';
  readonly term: Term;
  readonly ctx: number;
}

export interface ReadIndexResponse {
  readonly type: 'ReadIndexResponse';
  readonly term: Term;
  readonly ctx: number;
  /** null: refused (not leader, or leadership lost). */
  readonly index: LogIndex | null;
}

export type RaftMessage<C> =
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries<C>
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type RaftRole = 'follower' | 'precandidate' | 'candidate' | 'leader' | 'learner';

/** Results of the requests beyond `propose`. */
export type RequestResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leader: NodeId | null }
  | { readonly ok: false; readonly reason: 'transferring' | 'overloaded' | 'conf-change-pending' | 'invalid'; readonly message?: string };
