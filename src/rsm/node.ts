// A replicated state machine of the user's own over any replicated log (Raft or
// Multi-Paxos): the embedding API's pure part. Commands are proposed through
// the log and answered with the state machine's result once applied; reads
// wait for the log's read index (Raft §6.4) and are then served from local
// state. Like the key-value node (src/kv/adapter.ts), it is a SimNode, so the
// same object runs in the simulator and in a process (src/server/replica.ts).

import { assert, assertNever } from '../core/assert.js';
import type { Effects } from '../core/effects.js';
import type { LogIndex, NodeId } from '../core/ids.js';
import type { LogOutput, Message, ReplicatedLog } from '../core/replicated-log.js';
import type { NodeView, SimNode, SimOutput } from '../sim/protocol.js';

/** The user's deterministic state machine. Every member applies the same commands in the same order. */
export interface StateMachine<C, R, S> {
  /** Applies one committed command; must be deterministic (no clock, no randomness, no I/O). */
  apply(command: C, index: number): R;
  /** The whole state, for log compaction and for members that fell behind. */
  snapshot(): S;
  /** Replaces the whole state. */
  restore(snapshot: S): void;
}

/** A log entry: the command and who is waiting for its result. */
export interface RsmCommand<C> {
  readonly origin: string;
  readonly seq: number;
  readonly command: C;
}

/** A state-machine snapshot as the log carries it: the user's state and the index it holds. */
export interface RsmSnapshot<S> {
  readonly index: number;
  readonly state: S;
}

export type RsmRequest<C> =
  | { readonly type: 'propose'; readonly origin: string; readonly seq: number; readonly command: C }
  /** A linearizable read point: answered once the local state holds every write acknowledged before it. */
  | { readonly type: 'read' };

export type RsmReply<R> =
  | { readonly ok: true; readonly type: 'applied'; readonly index: number; readonly result: R }
  | { readonly ok: true; readonly type: 'readable'; readonly index: number }
  /** Had no effect: retry at `leader`. */
  | { readonly ok: false; readonly error: 'not-leader'; readonly leader: NodeId | null }
  /** Leadership was lost after proposing: the command may or may not be applied. */
  | { readonly ok: false; readonly error: 'unknown' }
  /** Too many requests waiting, or the log is overloaded: no effect; retry later. */
  | { readonly ok: false; readonly error: 'busy' };

export interface RsmNodeOptions {
  /** Compact the log every this many applied entries (0: never). */
  readonly snapshotEveryEntries?: number;
  /** Most requests waiting at once. */
  readonly maxPending?: number;
}

interface PendingProposal {
  readonly requestId: number;
  readonly term: number;
}

export class RsmNode<C, R, S, W, M extends Message> implements SimNode<M, W, RsmRequest<C>, RsmReply<R>> {
  private applied = 0;
  private lastSnapshot = 0;
  private readonly proposals = new Map<string, PendingProposal>();
  private readonly reads = new Map<number, { requestId: number; index: number | null }>();
  private nextCtx = 1;
  private outbox: SimOutput<RsmReply<R>>[] = [];
  private batchOpen = false;

  constructor(
    readonly log: ReplicatedLog<RsmCommand<C>, RsmSnapshot<S>, W, M>,
    readonly sm: StateMachine<C, R, S>,
    private readonly opts: RsmNodeOptions = {},
  ) {}

  get id(): NodeId {
    return this.log.id;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  tick(): void {
    this.log.tick();
  }

  step(from: NodeId, msg: M): void {
    this.log.step(from, msg);
  }

  request(requestId: number, req: RsmRequest<C>): void {
    if (this.proposals.size + this.reads.size >= (this.opts.maxPending ?? 10_000)) return this.reply(requestId, { ok: false, error: 'busy' });
    switch (req.type) {
      case 'read': {
        const ctx = this.nextCtx++;
        this.reads.set(ctx, { requestId, index: null });
        return this.log.readIndex(ctx);
      }
      case 'propose': {
        const key = `${req.origin}\u0000${req.seq}`;
        if (this.proposals.has(key)) return this.reply(requestId, { ok: false, error: 'busy' });
        const r = this.log.propose({ origin: req.origin, seq: req.seq, command: req.command });
        if (!r.ok) return this.reply(requestId, r.reason === 'not-leader' ? { ok: false, error: 'not-leader', leader: r.leader } : r.reason === 'transferring' ? { ok: false, error: 'not-leader', leader: null } : { ok: false, error: 'busy' });
        return void this.proposals.set(key, { requestId, term: this.log.status().term });
      }
      default:
        return assertNever(req, 'request');
    }
  }

  ready(): Effects<W, M, SimOutput<RsmReply<R>>> | null {
    assert(!this.batchOpen, 'rsm: ready() called again before advance()');
    const fx = this.log.ready();
    if (fx !== null) {
      this.batchOpen = true;
      for (const o of fx.outputs) this.handle(o);
    }
    this.failLostProposals();
    this.serveReads();
    const outputs = this.outbox;
    this.outbox = [];
    if (fx === null && outputs.length === 0) return null;
    return { sendNow: fx?.sendNow ?? [], persist: fx?.persist ?? [], sendAfterPersist: fx?.sendAfterPersist ?? [], outputs };
  }

  advance(): void {
    if (this.batchOpen) {
      this.batchOpen = false;
      this.log.advance();
    }
    const every = this.opts.snapshotEveryEntries ?? 0;
    if (every > 0 && this.applied - this.lastSnapshot >= every) {
      this.lastSnapshot = this.applied;
      this.log.compact(this.applied as LogIndex, { index: this.applied, state: this.sm.snapshot() });
    }
  }

  view(): NodeView {
    const s = this.log.status();
    return { id: s.id, role: s.role, term: s.term, leader: s.leader, commitIndex: s.commitIndex, applied: this.applied, pending: this.proposals.size + this.reads.size };
  }

  private reply(requestId: number, reply: RsmReply<R>): void {
    this.outbox.push({ type: 'reply', requestId, reply });
  }

  private handle(o: LogOutput<RsmCommand<C>, RsmSnapshot<S>>): void {
    switch (o.type) {
      case 'committed':
        for (const e of o.entries) this.apply(e.index, e.command);
        return;
      case 'read-ready': {
        const r = this.reads.get(o.ctx);
        if (r !== undefined) r.index = o.index;
        return;
      }
      case 'read-failed': {
        const r = this.reads.get(o.ctx);
        if (r === undefined) return;
        this.reads.delete(o.ctx);
        return this.reply(r.requestId, { ok: false, error: 'not-leader', leader: o.leader });
      }
      case 'restore':
        if (o.index <= this.applied) return;
        // Invariant: a snapshot handed over at index i holds the state after applying i.
        assert(o.snapshot.index === o.index, () => `rsm: snapshot for index ${o.index} holds ${o.snapshot.index}`);
        this.sm.restore(o.snapshot.state);
        this.applied = o.index;
        this.lastSnapshot = o.index;
        return;
      case 'event':
        return void this.outbox.push({ type: 'event', event: o.event });
      default:
        return assertNever(o, 'log output');
    }
  }

  private apply(index: number, entry: RsmCommand<C> | null): void {
    // Entries at or below the applied index were applied before, or are inside a restored snapshot.
    if (index <= this.applied) return;
    // Invariant: entries are applied in log order, one at a time.
    assert(index === this.applied + 1, () => `rsm: entry ${index} applied after ${this.applied}`);
    this.applied = index;
    if (entry === null) return;
    const result = this.sm.apply(entry.command, index);
    const key = `${entry.origin}\u0000${entry.seq}`;
    const waiting = this.proposals.get(key);
    if (waiting === undefined) return;
    this.proposals.delete(key);
    this.reply(waiting.requestId, { ok: true, type: 'applied', index, result });
  }

  private failLostProposals(): void {
    if (this.proposals.size === 0) return;
    const st = this.log.status();
    for (const [key, p] of this.proposals) {
      if (st.role === 'leader' && st.term === p.term) continue;
      this.proposals.delete(key);
      this.reply(p.requestId, { ok: false, error: 'unknown' });
    }
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index === null || r.index > this.applied) continue;
      this.reads.delete(ctx);
      this.reply(r.requestId, { ok: true, type: 'readable', index: this.applied });
    }
  }
}
