// A small deterministic cluster for the commit protocols: the tests drive it
// step by step, and the message report measures normal-case costs with it.
// It is not the simulator (src/sim): no faulty disk, no random schedule of
// faults; crashes, restarts and partitions happen when the caller says so.
// Messages take `latencyTicks` (or a seeded draw in [1, maxLatencyTicks]).

import { Prng } from '../core/prng.js';
import { NodeId, TxId } from '../core/ids.js';
import type { Message, ProtocolEvent } from '../core/replicated-log.js';
import type { Invariant, NodeContext, SimNode, SimOutput } from '../sim/protocol.js';
import type { CommitReply, CommitRequest, CommitView, Outcome } from './types.js';

export interface NodeFactory<M extends Message, W> {
  create(ctx: NodeContext): SimNode<M, W, CommitRequest, CommitReply>;
  recover(ctx: NodeContext, durable: readonly W[]): SimNode<M, W, CommitRequest, CommitReply>;
}

export interface ClusterConfig {
  readonly size: number;
  readonly seed?: number;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly mutants?: readonly string[];
  readonly maxLatencyTicks?: number;
  readonly invariants?: readonly Invariant[];
}

/**
 * Which durable writes are lazy: a participant's record of an outcome it was
 * told (nothing waits for it). Every other write of these protocols precedes
 * a message or a reply that rests on it, locally delivered or not: forced.
 */
export function isLazyWrite(w: unknown): boolean {
  const r = w as { type?: string; role?: string; outcome?: string };
  if (r.type === 'rm-outcome') return true;
  return r.type === 'outcome' && r.role !== 'coordinator' && r.outcome === 'commit';
}

interface InFlight<M> {
  readonly at: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly msg: M;
  readonly depth: number;
}

interface Slot<M extends Message, W> {
  node: SimNode<M, W, CommitRequest, CommitReply> | null;
  readonly disk: W[];
  readonly ctx: NodeContext;
}

export interface SentRecord {
  readonly from: number;
  readonly to: number;
  readonly type: string;
  readonly depth: number;
}

export interface DecidedRecord {
  readonly node: number;
  readonly tx: string;
  readonly outcome: Outcome;
  readonly role: string;
  readonly depth: number;
  readonly time: number;
}

export class Cluster<M extends Message, W> {
  readonly ids: readonly NodeId[];
  time = 0;
  readonly sent: SentRecord[] = [];
  readonly decided: DecidedRecord[] = [];
  readonly events: { node: number; event: ProtocolEvent }[] = [];
  readonly replies = new Map<number, CommitReply>();
  writes = 0;
  forcedWrites = 0;
  readonly violations: string[] = [];
  private readonly slots: Slot<M, W>[] = [];
  private queue: InFlight<M>[] = [];
  private readonly blocked = new Set<string>();
  private readonly rng: Prng;
  private nextRequest = 1;
  private eventNo = 0;

  constructor(
    private readonly factory: NodeFactory<M, W>,
    private readonly cfg: ClusterConfig,
  ) {
    this.rng = new Prng(cfg.seed ?? 1);
    this.ids = Array.from({ length: cfg.size }, (_, i) => NodeId(i));
    for (const id of this.ids) {
      const ctx: NodeContext = {
        id,
        members: this.ids,
        rng: this.rng.fork(`node-${id}`),
        mutants: new Set(cfg.mutants ?? []),
        options: cfg.options ?? {},
      };
      this.slots.push({ node: factory.create(ctx), disk: [], ctx });
    }
  }

  node(id: number): SimNode<M, W, CommitRequest, CommitReply> | null {
    return this.slot(id).node;
  }

  view(id: number): CommitView | null {
    const n = this.slot(id).node;
    return n === null ? null : (n.view() as CommitView);
  }

  disk(id: number): readonly W[] {
    return this.slot(id).disk;
  }

  isUp(id: number): boolean {
    return this.slot(id).node !== null;
  }

  /** A client asks `to` (the coordinator by default) to commit `tx` (again, with `retry`); returns the request id. */
  begin(tx: string, to = 0, retry = false): number {
    const requestId = this.nextRequest++;
    const n = this.slot(to).node;
    if (n !== null) {
      n.request(requestId, retry ? { type: 'begin', tx: TxId(tx), retry } : { type: 'begin', tx: TxId(tx) });
      this.flush(to, 0);
    }
    return requestId;
  }

  crash(id: number): void {
    this.slot(id).node = null;
    // Messages already on the wire to it are lost with it.
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  restart(id: number): void {
    const s = this.slot(id);
    if (s.node !== null) return;
    s.node = this.factory.recover(s.ctx, s.disk.slice());
    this.flush(id, 0);
  }

  /** Messages between the two groups are dropped until heal(). */
  partition(a: readonly number[], b: readonly number[]): void {
    for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`).add(`${y}>${x}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Drops every message in flight that matches. */
  drop(match: (m: { from: number; to: number; msg: M }) => boolean): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((m) => !match(m));
    return before - this.queue.length;
  }

  inFlight(): readonly { from: number; to: number; msg: M }[] {
    return this.queue;
  }

  /** One tick: deliver what is due, then tick every live node. */
  tick(): void {
    this.time++;
    const due = this.queue.filter((m) => m.at <= this.time);
    this.queue = this.queue.filter((m) => m.at > this.time);
    for (const m of due) this.deliver(m);
    for (const id of this.ids) {
      const n = this.slot(id).node;
      if (n === null) continue;
      n.tick();
      this.flush(id, 0);
    }
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.tick();
  }

  /** Ticks until `done` holds; returns false when `maxTicks` pass first. */
  runUntil(done: () => boolean, maxTicks = 10_000): boolean {
    for (let i = 0; i < maxTicks; i++) {
      if (done()) return true;
      this.tick();
    }
    return done();
  }

  /** The outcome each live participant knows for `tx` (null: not known). */
  outcomes(tx: string): Map<number, Outcome | null> {
    const out = new Map<number, Outcome | null>();
    for (const id of this.ids) {
      const v = this.view(id);
      const t = v?.participant?.find((x) => x.tx === tx);
      if (v !== null && v.participant !== null) out.set(id, t?.outcome ?? null);
    }
    return out;
  }

  private slot(id: number): Slot<M, W> {
    const s = this.slots[id];
    if (s === undefined) throw new RangeError(`no node ${id}`);
    return s;
  }

  private deliver(m: InFlight<M>): void {
    const n = this.slot(m.to).node;
    if (n === null || this.blocked.has(`${m.from}>${m.to}`)) return;
    n.step(m.from, m.msg);
    this.flush(m.to, m.depth);
  }

  private flush(id: NodeId | number, depth: number): void {
    const s = this.slot(id);
    const n = s.node;
    if (n === null) return;
    for (let fx = n.ready(); fx !== null; fx = n.ready()) {
      for (const e of fx.sendNow) this.enqueue(id, e.to, e.msg, depth);
      s.disk.push(...fx.persist);
      this.writes += fx.persist.length;
      this.forcedWrites += fx.persist.filter((w) => !isLazyWrite(w)).length;
      for (const e of fx.sendAfterPersist) this.enqueue(id, e.to, e.msg, depth);
      for (const o of fx.outputs) this.output(id, o, depth);
      n.advance();
    }
    this.check();
  }

  private enqueue(from: number, to: NodeId, msg: M, depth: number): void {
    const max = this.cfg.maxLatencyTicks ?? 1;
    const latency = max <= 1 ? 1 : this.rng.int(1, max);
    this.sent.push({ from, to, type: msg.type, depth: depth + 1 });
    this.queue.push({ at: this.time + latency, from: NodeId(from), to, msg, depth: depth + 1 });
  }

  private output(id: number, o: SimOutput<CommitReply>, depth: number): void {
    if (o.type === 'reply') {
      this.replies.set(o.requestId, o.reply);
      return;
    }
    this.events.push({ node: id, event: o.event });
    const d = o.event.detail;
    if (o.event.kind === 'decided' && d !== undefined) {
      this.decided.push({ node: id, tx: String(d['tx']), outcome: d['outcome'] as Outcome, role: String(d['role']), depth, time: this.time });
    }
  }

  private check(): void {
    const invs = this.cfg.invariants ?? [];
    if (invs.length === 0) return;
    const views = this.ids.flatMap((id) => {
      const n = this.slot(id).node;
      return n === null ? [] : [n.view()];
    });
    this.eventNo++;
    for (const inv of invs) {
      const p = inv.check(views, this.eventNo);
      if (p !== null) this.violations.push(`${inv.name}: ${p}`);
    }
  }
}
