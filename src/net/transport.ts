// The transport between cluster members, as a protocol host sees it: fire and
// forget, per-peer order kept, bounded. Two implementations share one
// conformance suite (test/net/transport-conformance.ts): TCP (tcp-transport.ts)
// and in-memory (memory-transport.ts).
//
// Delivery is best effort. A message may be lost when a peer is down, when a
// connection breaks, or when a peer's send queue is full (the OLDEST unsent
// message is dropped and counted). That is safe for consensus: Raft and Paxos
// retransmit (heartbeats, AppendEntries retries, prepare/accept retries) and
// never assume a message arrived. What a transport never does is reorder the
// messages it does deliver from one peer, or deliver a message twice.

import type { NodeId } from '../core/ids.js';

export type MessageHandler<M> = (from: NodeId, msg: M) => void;

export interface PeerStats {
  readonly peer: NodeId;
  readonly connected: boolean;
  /** Messages waiting to be written. */
  readonly queued: number;
  readonly sent: number;
  /** Batched writes (socket writes for TCP, delivery rounds in memory) that carried `sent`. */
  readonly writes: number;
  readonly received: number;
  /** Oldest unsent messages dropped because the queue was full. */
  readonly dropped: number;
}

export interface TransportStats {
  readonly peers: readonly PeerStats[];
  /** Connections closed for a protocol error (bad frame, bad hello, undecodable message). */
  readonly badConnections: number;
  /** Messages passed to send() after stop(). */
  readonly droppedAfterStop: number;
}

export interface Transport<M> {
  readonly id: NodeId;
  /** Starts listening and connecting. Messages sent before start wait in the queues. */
  start(): Promise<void>;
  /** Closes every connection and stops delivering; queued messages are dropped. A stopped transport stays stopped. */
  stop(): Promise<void>;
  /**
   * Queues `msg` for `to`; returns at once. Throws RangeError for an unknown peer or
   * this node itself, and FrameError when the message encodes over the frame-size limit.
   */
  send(to: NodeId, msg: M): void;
  /** Sets the one handler for incoming messages. */
  onMessage(handler: MessageHandler<M>): void;
  /** True while a connection to `peer` is up (what stats() reports, without building the report). */
  connected(peer: NodeId): boolean;
  stats(): TransportStats;
}

export interface QueueLimits {
  /** Unsent messages kept per peer; beyond it the oldest is dropped (default 10,000). */
  readonly maxQueuedMessages?: number;
  /** Largest frame sent or accepted (default 16 MiB). */
  readonly maxFrameBytes?: number;
}

export const DEFAULT_MAX_QUEUED_MESSAGES = 10_000;
