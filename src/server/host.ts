// Drives a pure protocol node (the same SimNode the simulator drives) in a real
// process: real timers for ticks, messages from the transport, client requests
// from the API; each effects batch executed in the one correct order
// (src/core/effects.ts) and acknowledged with advance().
//
// Inputs that arrive while a batch's writes are being made durable wait in a
// bounded inbox and are stepped together afterwards, so that many proposals
// share one log append and one fdatasync (group commit).

import type { NodeId } from '../core/ids.js';
import type { Message, ProtocolEvent } from '../core/replicated-log.js';
import type { SimNode } from '../sim/protocol.js';

export interface HostIo<M, W> {
  /** Resolves once every write is durable. */
  persist(writes: readonly W[]): Promise<void>;
  send(to: NodeId, msg: M): void;
  event?(e: ProtocolEvent): void;
}

export interface HostOptions {
  readonly tickMs: number;
  /** Most inputs waiting while a batch is in flight; client requests beyond it are refused. */
  readonly maxInbox?: number;
  /** Most client requests awaiting a reply. */
  readonly maxPending?: number;
}

export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}
export class HostStoppedError extends Error {
  override readonly name = 'HostStoppedError';
}
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

type Input<M, Req> =
  | { readonly type: 'tick' }
  | { readonly type: 'step'; readonly from: NodeId; readonly msg: M }
  | { readonly type: 'request'; readonly requestId: number; readonly req: Req };

interface Pending<Reply> {
  resolve(r: Reply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface HostStats {
  batches: number;
  writes: number;
  messagesSent: number;
  droppedMessages: number;
  refusedRequests: number;
  lastPersistMs: number;
}

export class NodeHost<M extends Message, W, Req, Reply> {
  private inbox: Input<M, Req>[] = [];
  private running = false;
  private stopped = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending<Reply>>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly maxInbox: number;
  private readonly maxPending: number;
  readonly stats: HostStats = { batches: 0, writes: 0, messagesSent: 0, droppedMessages: 0, refusedRequests: 0, lastPersistMs: 0 };
  /** Called after each executed batch (metrics, tests). */
  onBatch: ((persistMs: number, writes: number) => void) | undefined;
  /** Called when the loop fails (an I/O error making writes durable): the member must stop. */
  onFatal: ((err: Error) => void) | undefined;

  constructor(readonly node: SimNode<M, W, Req, Reply>, private readonly io: HostIo<M, W>, private readonly opts: HostOptions) {
    this.maxInbox = opts.maxInbox ?? 100_000;
    this.maxPending = opts.maxPending ?? 50_000;
  }

  start(): void {
    this.ticker = setInterval(() => this.push({ type: 'tick' }), this.opts.tickMs);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new HostStoppedError('the member is stopping'));
    }
    this.pending.clear();
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  /** A message from a peer. Dropped (and counted) when the inbox is full: the protocol retransmits. */
  deliver(from: NodeId, msg: M): void {
    if (this.stopped) return;
    if (this.inbox.length >= this.maxInbox) {
      this.stats.droppedMessages++;
      return;
    }
    this.push({ type: 'step', from, msg });
  }

  /** A client request; resolves with the node's reply. */
  request(req: Req, timeoutMs: number): Promise<Reply> {
    if (this.stopped) return Promise.reject(new HostStoppedError('the member is stopping'));
    if (this.inbox.length >= this.maxInbox || this.pending.size >= this.maxPending) {
      this.stats.refusedRequests++;
      return Promise.reject(new OverloadedError(`too many requests in flight (${this.pending.size}); retry later`));
    }
    const requestId = this.nextRequestId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestTimeoutError(`no reply within ${timeoutMs} ms (the request may still take effect)`));
      }, timeoutMs) : undefined;
      this.pending.set(requestId, { resolve, reject, timer });
      this.push({ type: 'request', requestId, req });
    });
  }

  private push(input: Input<M, Req>): void {
    this.inbox.push(input);
    this.schedule();
  }

  private schedule(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    // Let the current event-loop turn add more inputs first: they batch.
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped) {
        this.stepInbox();
        const fx = this.node.ready();
        if (fx === null) break;
        for (const e of fx.sendNow) this.io.send(e.to, e.msg);
        if (fx.persist.length > 0) {
          const t0 = performance.now();
          await this.io.persist(fx.persist);
          this.stats.lastPersistMs = performance.now() - t0;
          this.stats.writes += fx.persist.length;
        }
        for (const e of fx.sendAfterPersist) this.io.send(e.to, e.msg);
        this.stats.messagesSent += fx.sendNow.length + fx.sendAfterPersist.length;
        for (const o of fx.outputs) {
          if (o.type === 'reply') this.settle(o.requestId, o.reply);
          else this.io.event?.(o.event);
        }
        this.node.advance();
        this.stats.batches++;
        this.onBatch?.(this.stats.lastPersistMs, fx.persist.length);
      }
    } catch (err) {
      this.stopped = true;
      if (this.ticker) clearInterval(this.ticker);
      this.onFatal?.(err as Error);
    } finally {
      this.running = false;
    }
    if (this.inbox.length > 0 && !this.stopped) this.schedule();
  }

  private stepInbox(): void {
    const inputs = this.inbox;
    this.inbox = [];
    for (const input of inputs) {
      switch (input.type) {
        case 'tick': this.node.tick(); break;
        case 'step': this.node.step(input.from, input.msg); break;
        case 'request': this.node.request(input.requestId, input.req); break;
      }
    }
  }

  private settle(requestId: number, reply: Reply): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return; // timed out already
    this.pending.delete(requestId);
    if (p.timer) clearTimeout(p.timer);
    p.resolve(reply);
  }
}
