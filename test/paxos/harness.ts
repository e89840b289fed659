// A small in-test network for Paxos nodes: per-message random delays (whole
// ticks), drops, partitions, crashes and restarts from the durable writes a node
// made. Deterministic for a seed. Counts messages by type.

import { NodeId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import type { Effects } from '../../src/core/effects.js';

export interface HarnessNode<M, W, O> {
  readonly id: NodeId;
  tick(): void;
  step(from: NodeId, msg: M): void;
  ready(): Effects<W, M, O> | null;
  advance(): void;
}

interface InFlight<M> {
  readonly at: number;
  readonly seq: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly msg: M;
}

export interface NetOptions {
  readonly seed?: number;
  readonly minDelay?: number;
  readonly maxDelay?: number;
  readonly dropRate?: number;
}

export class Net<M extends { readonly type: string }, W, O, N extends HarnessNode<M, W, O>> {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, N>();
  readonly durable = new Map<NodeId, W[]>();
  readonly outputs = new Map<NodeId, O[]>();
  readonly counts = new Map<string, number>();
  readonly down = new Set<NodeId>();
  /** Paused nodes neither tick nor receive; their messages wait (a long GC pause). */
  readonly paused = new Set<NodeId>();
  readonly rng: Prng;
  now = 0;
  /** Messages are dropped while this returns true for (from, to). */
  cut: (from: NodeId, to: NodeId, msg: M) => boolean = () => false;
  /** Every delivered message goes through this hook first (for tests that watch traffic). */
  onDeliver: (from: NodeId, to: NodeId, msg: M) => void = () => {};
  private queue: InFlight<M>[] = [];
  private seq = 0;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly dropRate: number;

  constructor(
    n: number,
    private readonly make: (id: NodeId, members: readonly NodeId[], durable: readonly W[] | null) => N,
    opts: NetOptions = {},
  ) {
    this.ids = Array.from({ length: n }, (_, i) => NodeId(i + 1));
    this.rng = new Prng(opts.seed ?? 1);
    this.minDelay = opts.minDelay ?? 1;
    this.maxDelay = opts.maxDelay ?? 1;
    this.dropRate = opts.dropRate ?? 0;
    for (const id of this.ids) {
      this.durable.set(id, []);
      this.outputs.set(id, []);
      this.nodes.set(id, make(id, this.ids, null));
    }
  }

  node(id: number): N {
    const n = this.nodes.get(NodeId(id));
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  out(id: number): O[] {
    return this.outputs.get(NodeId(id)) ?? [];
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  /** Executes a node's effects until it has none (persist is instant and durable). */
  flush(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || this.down.has(id)) return;
    for (let fx = node.ready(); fx !== null; fx = node.ready()) {
      for (const e of fx.sendNow) this.enqueue(id, e.to, e.msg);
      this.durable.get(id)?.push(...fx.persist);
      for (const e of fx.sendAfterPersist) this.enqueue(id, e.to, e.msg);
      this.outputs.get(id)?.push(...fx.outputs);
      node.advance();
    }
  }

  enqueue(from: NodeId, to: NodeId, msg: M): void {
    this.counts.set(msg.type, (this.counts.get(msg.type) ?? 0) + 1);
    this.counts.set('*', (this.counts.get('*') ?? 0) + 1);
    if (this.cut(from, to, msg) || this.rng.chance(this.dropRate)) return;
    const delay = from === to ? 0 : this.rng.int(this.minDelay, this.maxDelay);
    this.queue.push({ at: this.now + delay, seq: this.seq++, from, to, msg });
  }

  /** Runs an action on a node and executes its effects. */
  act(id: number, f: (n: N) => void): void {
    const nid = NodeId(id);
    if (this.down.has(nid)) return;
    f(this.node(id));
    this.flush(nid);
  }

  /** Delivers every message due now (including ones sent while delivering, if due). */
  deliverDue(): void {
    for (;;) {
      const due = this.queue.filter((m) => m.at <= this.now && !this.paused.has(m.to)).sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (due.length === 0) return;
      const first = due[0] as InFlight<M>;
      this.queue = this.queue.filter((m) => m !== first);
      if (this.down.has(first.to) || this.cut(first.from, first.to, first.msg)) continue;
      this.onDeliver(first.from, first.to, first.msg);
      this.act(first.to, (n) => n.step(first.from, first.msg));
    }
  }

  /** One tick: every live node ticks, then due messages are delivered. */
  step(): void {
    this.now++;
    for (const id of this.ids) if (!this.down.has(id) && !this.paused.has(id)) this.act(id, (n) => n.tick());
    this.deliverDue();
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.step();
  }

  /** Runs until `done` holds; returns the ticks it took, or null after `maxTicks`. */
  runUntil(done: () => boolean, maxTicks: number): number | null {
    const start = this.now;
    while (!done()) {
      if (this.now - start >= maxTicks) return null;
      this.step();
    }
    return this.now - start;
  }

  crash(id: number): void {
    const nid = NodeId(id);
    this.down.add(nid);
    this.queue = this.queue.filter((m) => m.to !== nid);
  }

  restart(id: number): void {
    const nid = NodeId(id);
    this.down.delete(nid);
    this.outputs.set(nid, []);
    this.nodes.set(nid, this.make(nid, this.ids, this.durable.get(nid) ?? []));
    this.flush(nid);
  }

  get inFlight(): number {
    return this.queue.length;
  }
}
