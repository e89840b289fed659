// The replicated-log interface that Raft and Multi-Paxos both offer, so that the
// key-value state machine, the simulator workload, the server and the playground
// run on either one unchanged.
//
// A log core is pure and synchronous. Inputs: tick, step, propose, readIndex,
// compact. Output: an effects batch (see effects.ts) whose outputs are
// `LogOutput`s, in log order.

import type { Effects } from './effects.js';
import type { LogIndex, NodeId } from './ids.js';

/** A protocol message: a discriminated union on `type`. */
export interface Message {
  readonly type: string;
}

/** One application command committed at `index`. `command` is null for the log's own entries (no-op, configuration). */
export interface CommittedEntry<C> {
  readonly index: LogIndex;
  readonly command: C | null;
}

/** A typed protocol event for the one trace stream (role change, election, snapshot, membership change...). */
export interface ProtocolEvent {
  readonly kind: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type LogOutput<C, S> =
  /** Entries now committed, to apply in order; indexes are consecutive across batches. */
  | { readonly type: 'committed'; readonly entries: readonly CommittedEntry<C>[] }
  /** A linearizable read asked with `readIndex(ctx)` may be served once the state machine has applied `index`. */
  | { readonly type: 'read-ready'; readonly ctx: number; readonly index: LogIndex }
  /** A read asked with `readIndex(ctx)` cannot be served here (leadership lost or not confirmed). */
  | { readonly type: 'read-failed'; readonly ctx: number; readonly leader: NodeId | null }
  /** Replace the state machine with this snapshot (sent by the leader to a follower that fell behind). */
  | { readonly type: 'restore'; readonly index: LogIndex; readonly snapshot: S }
  | { readonly type: 'event'; readonly event: ProtocolEvent };

export type ProposeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leader: NodeId | null }
  | { readonly ok: false; readonly reason: 'overloaded' | 'transferring' };

export interface LogStatus {
  readonly id: NodeId;
  /** 'leader' | 'follower' | 'candidate' | 'precandidate' | 'learner' for Raft; 'leader' | 'follower' | 'candidate' for Multi-Paxos. */
  readonly role: string;
  readonly leader: NodeId | null;
  /** Raft's term, or the round of Multi-Paxos's current ballot. */
  readonly term: number;
  readonly commitIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly voters: readonly NodeId[];
}

/**
 * W: durable write records; M: messages; C: application commands; S: state machine snapshots.
 * A host restarts a core from the durable writes it has kept (see each protocol's `recover`).
 */
export interface ReplicatedLog<C, S, W, M extends Message> {
  readonly id: NodeId;
  tick(): void;
  step(from: NodeId, msg: M): void;
  /** Append a command at the leader. Committed later through a 'committed' output. */
  propose(command: C): ProposeResult;
  /** Ask for a linearizable read point; answered by a 'read-ready' or 'read-failed' output carrying `ctx`. */
  readIndex(ctx: number): void;
  /** The state machine has a snapshot through `index`; entries up to it may be discarded. */
  compact(index: LogIndex, snapshot: S): void;
  /** Effects accumulated since the last call, or null when there are none. */
  ready(): Effects<W, M, LogOutput<C, S>> | null;
  /** The host executed the last ready() batch: its writes are durable, its messages sent. */
  advance(): void;
  status(): LogStatus;
}
