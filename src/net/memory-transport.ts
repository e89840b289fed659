// An in-memory transport with the TCP transport's semantics: per-peer order,
// bounded per-peer queues that drop the oldest message while the peer is
// down, messages encoded through the same codec (so what cannot cross the
// wire fails here too), and delivery on a later event-loop turn.

import type { NodeId } from '../core/ids.js';
import { Codec } from './codec.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAME_HEADER_BYTES, FRAME_MESSAGE } from './frame.js';
import { SendQueue } from './send-queue.js';
import { DEFAULT_MAX_QUEUED_MESSAGES } from './transport.js';
import type { MessageHandler, QueueLimits, Transport, TransportStats } from './transport.js';

/** The shared medium; one per simulated cluster. */
export class MemoryNetwork {
  readonly members = new Map<NodeId, MemoryTransport<unknown>>();

  /** A transport for `id`; `peers` are the other members. Replaces a stopped one with the same id. */
  transport<M>(id: NodeId, peers: readonly NodeId[], limits: QueueLimits = {}): MemoryTransport<M> {
    const t = new MemoryTransport<M>(this, id, peers, limits);
    this.members.set(id, t as MemoryTransport<unknown>);
    return t;
  }

  /** The running transport of `id`, if any. */
  running(id: NodeId): MemoryTransport<unknown> | undefined {
    const t = this.members.get(id);
    return t?.isRunning === true ? t : undefined;
  }
}

interface Link {
  readonly queue: SendQueue;
  sent: number;
  writes: number;
  received: number;
  scheduled: boolean;
}

export class MemoryTransport<M> implements Transport<M> {
  private readonly codec = new Codec();
  private readonly links = new Map<NodeId, Link>();
  private readonly maxFrameBytes: number;
  private handler: MessageHandler<M> = () => undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private droppedAfterStop = 0;

  constructor(
    private readonly network: MemoryNetwork,
    readonly id: NodeId,
    peers: readonly NodeId[],
    limits: QueueLimits,
  ) {
    this.maxFrameBytes = limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    for (const p of peers) {
      if (p === id) continue;
      this.links.set(p, { queue: new SendQueue(limits.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES), sent: 0, writes: 0, received: 0, scheduled: false });
    }
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  start(): Promise<void> {
    if (this.state === 'stopped') return Promise.reject(new Error('a stopped transport cannot be restarted; create a new one'));
    this.state = 'running';
    for (const id of this.links.keys()) this.schedule(id);
    // Peers holding messages for us can deliver them now.
    for (const other of this.network.members.values()) if (other !== (this as unknown) && other.isRunning) other.schedule(this.id);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    for (const l of this.links.values()) l.queue.clear();
    return Promise.resolve();
  }

  send(to: NodeId, msg: M): void {
    const link = this.links.get(to);
    if (link === undefined) throw new RangeError(`node ${this.id} has no peer ${to}`);
    if (this.state === 'stopped') {
      this.droppedAfterStop++;
      return;
    }
    link.queue.push(encodeFrame(FRAME_MESSAGE, this.codec.encode(msg), this.maxFrameBytes));
    this.schedule(to);
  }

  onMessage(handler: MessageHandler<M>): void {
    this.handler = handler;
  }

  connected(peer: NodeId): boolean {
    return this.links.has(peer) && this.isRunning && this.network.running(peer) !== undefined;
  }

  stats(): TransportStats {
    const peers = [...this.links.entries()].map(([peer, l]) => ({
      peer,
      connected: this.isRunning && this.network.running(peer) !== undefined,
      queued: l.queue.length,
      sent: l.sent,
      writes: l.writes,
      received: l.received,
      dropped: l.queue.dropped,
    }));
    return { peers, badConnections: 0, droppedAfterStop: this.droppedAfterStop };
  }

  /** Delivers what is queued for `to` on a later turn, if both ends are up. */
  schedule(to: NodeId): void {
    const link = this.links.get(to);
    if (link === undefined || link.scheduled || link.queue.length === 0) return;
    link.scheduled = true;
    setImmediate(() => {
      link.scheduled = false;
      this.deliver(to, link);
    });
  }

  private deliver(to: NodeId, link: Link): void {
    if (!this.isRunning) return;
    const target = this.network.running(to) as MemoryTransport<M> | undefined;
    if (target === undefined) return; // stays queued until the peer starts
    link.writes++;
    for (const frame of link.queue.takeBatch(Number.POSITIVE_INFINITY)) {
      link.sent++;
      target.receive(this.id, frame);
    }
  }

  private receive(from: NodeId, frame: Buffer): void {
    const link = this.links.get(from);
    if (link === undefined || !this.isRunning) return;
    link.received++;
    this.handler(from, this.codec.decode(frame.subarray(FRAME_HEADER_BYTES + 1)) as M);
  }
}
