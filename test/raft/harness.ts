// A small in-test network for Raft nodes: messages wait in a queue until the
// test delivers them; links can be cut; disks keep every durable write so that
// nodes can crash and recover. The state machine is a list of applied commands,
// checked for State Machine Safety after every batch.

import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import type { LogIndex } from '../../src/core/ids.js';
import type { Effects } from '../../src/core/effects.js';
import type { LogOutput } from '../../src/core/replicated-log.js';
import { RaftNode, type RaftOptions } from '../../src/raft/index.js';
import type { RaftMessage, RaftWrite } from '../../src/raft/types.js';

export type Cmd = string;
/** The state machine's snapshot: the applied commands by index (index 0 unused). */
export type Sm = (Cmd | null)[];
export type Msg = RaftMessage<Cmd>;
export type Write = RaftWrite<Cmd, Sm>;
export type Node = RaftNode<Cmd, Sm>;

export interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly msg: Msg;
}

export const ids = (...ns: number[]): NodeId[] => ns.map((n) => NodeId(n));

export type Overrides = Partial<Omit<RaftOptions<Cmd, Sm>, 'id' | 'rng'>>;

export class Net {
  readonly nodes = new Map<number, Node>();
  readonly disks = new Map<number, Write[]>();
  /** Applied state machine per node: sm[i] is the command applied at index i. */
  readonly sms = new Map<number, Sm>();
  readonly reads = new Map<number, { ctx: number; index: number | null }[]>();
  readonly events: { node: number; kind: string; detail: Record<string, unknown> }[] = [];
  queue: InFlight[] = [];
  readonly down = new Set<number>();
  private readonly cut = new Set<string>();
  drop: (m: InFlight) => boolean = () => false;
  /** Lets a test alter a message in flight (after `drop`). */
  rewrite: (m: InFlight) => Msg = (m) => m.msg;
  /** Every batch, in order, per node (for tests of the effect ordering). */
  readonly batches = new Map<number, Effects<Write, Msg, LogOutput<Cmd, Sm>>[]>();
  /** The first command ever applied at each index, by any node. */
  private readonly appliedAt = new Map<number, Cmd | null>();
  private readonly rng: Prng;

  constructor(
    readonly members: NodeId[],
    readonly overrides: Overrides = {},
    seed = 1,
    perNode: (id: number) => Overrides = () => ({}),
  ) {
    this.rng = new Prng(seed);
    this.perNode = perNode;
    for (const id of members) this.start(id, null);
  }

  private readonly perNode: (id: number) => Overrides;

  options(id: number): RaftOptions<Cmd, Sm> {
    return { id: NodeId(id), peers: this.members, rng: this.rng.fork(`node-${id}-${this.rng.nextU32()}`), electionTimeoutTicks: 10, ...this.overrides, ...this.perNode(id) };
  }

  /** Starts a node fresh (writes null) or from the given durable writes. */
  start(id: number, writes: Write[] | null): Node {
    const n = writes === null ? RaftNode.create(this.options(id)) : RaftNode.recover(this.options(id), writes);
    this.nodes.set(id, n);
    this.disks.set(id, writes === null ? [] : [...writes]);
    this.sms.set(id, [null]);
    this.down.delete(id);
    this.flush(id);
    return n;
  }

  node(id: number): Node {
    const n = this.nodes.get(id);
    assert.ok(n !== undefined, `no node ${id}`);
    return n;
  }

  crash(id: number): void {
    this.down.add(id);
    this.queue = this.queue.filter((m) => m.from !== id && m.to !== id);
  }

  restart(id: number): Node {
    return this.start(id, this.disks.get(id) ?? []);
  }

  isolate(id: number): void {
    for (const other of this.members) if (other !== id) this.cutLink(id, other);
  }

  partition(...groups: number[][]): void {
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs ready/advance until the node has nothing more to say. */
  flush(id: number): void {
    const n = this.node(id);
    for (let guard = 0; guard < 1000; guard++) {
      const fx = n.ready();
      if (fx === null) return;
      let list = this.batches.get(id);
      if (list === undefined) this.batches.set(id, (list = []));
      list.push(fx);
      if (list.length > 200) list.shift();
      for (const e of fx.sendNow) this.queue.push({ from: NodeId(id), to: e.to, msg: e.msg });
      this.disks.get(id)?.push(...fx.persist);
      for (const e of fx.sendAfterPersist) this.queue.push({ from: NodeId(id), to: e.to, msg: e.msg });
      for (const o of fx.outputs) this.output(id, o);
      n.advance();
    }
    assert.fail(`node ${id} never settles`);
  }

  private output(id: number, o: LogOutput<Cmd, Sm>): void {
    const sm = this.sms.get(id) as Sm;
    switch (o.type) {
      case 'committed':
        for (const e of o.entries) {
          assert.equal(e.index, sm.length, `node ${id} applies ${e.index} after ${sm.length - 1}`);
          sm.push(e.command);
          const first = this.appliedAt.get(e.index);
          if (first === undefined) this.appliedAt.set(e.index, e.command);
          // State Machine Safety (Raft §5.4.3).
          else assert.equal(e.command, first, `State Machine Safety: node ${id} applied ${String(e.command)} at ${e.index}, another applied ${String(first)}`);
        }
        return;
      case 'restore':
        this.sms.set(id, [...o.snapshot]);
        return;
      case 'read-ready':
      case 'read-failed': {
        let r = this.reads.get(id);
        if (r === undefined) this.reads.set(id, (r = []));
        r.push({ ctx: o.ctx, index: o.type === 'read-ready' ? o.index : null });
        return;
      }
      case 'event':
        this.events.push({ node: id, kind: o.event.kind, detail: (o.event.detail ?? {}) as Record<string, unknown> });
        return;
    }
  }

  /** Delivers one queued message (the first that matches `pick`); returns false when none is left. */
  deliverOne(pick: (m: InFlight) => boolean = () => true): boolean {
    const i = this.queue.findIndex(pick);
    if (i < 0) return false;
    const [m] = this.queue.splice(i, 1) as [InFlight];
    if (this.down.has(m.to) || this.down.has(m.from) || this.cut.has(`${m.from}>${m.to}`) || this.drop(m)) return true;
    this.node(m.to).step(m.from, this.rewrite(m));
    this.flush(m.to);
    return true;
  }

  /** Delivers until the queue is empty. */
  deliver(max = 100000): number {
    let n = 0;
    while (n < max && this.deliverOne()) n++;
    assert.ok(n < max, 'network never quiesces');
    return n;
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) {
      if (this.down.has(id)) return;
      this.node(id).tick();
      this.flush(id);
    }
  }

  /** Ticks every live node once, then delivers everything. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.nodes.keys()) this.tick(id);
      this.deliver();
    }
  }

  /** Ticks only `id` until it starts an election, then delivers: it wins if it can. */
  elect(id: number): void {
    const n = this.node(id);
    for (let i = 0; i < 100 && n.status().role !== 'leader'; i++) {
      this.tick(id);
      this.deliver();
    }
    assert.equal(n.status().role, 'leader', `node ${id} did not become leader`);
  }

  propose(id: number, cmd: Cmd): void {
    const r = this.node(id).propose(cmd);
    assert.deepEqual(r, { ok: true });
    this.flush(id);
  }

  readIndex(id: number, ctx: number): void {
    this.node(id).readIndex(ctx);
    this.flush(id);
  }

  applied(id: number): Sm {
    return this.sms.get(id) as Sm;
  }

  /** Commands applied by `id`, without the log's own entries. */
  commands(id: number): Cmd[] {
    return this.applied(id).filter((c): c is Cmd => c !== null);
  }

  leaders(): number[] {
    return [...this.nodes.entries()].filter(([id, n]) => !this.down.has(id) && n.status().role === 'leader').map(([id]) => id);
  }

  eventsOf(kind: string): { node: number; kind: string; detail: Record<string, unknown> }[] {
    return this.events.filter((e) => e.kind === kind);
  }

  logTerms(id: number): number[] {
    return [...this.node(id).view().logTerms];
  }
}

/** Durable writes for a node whose log has the given terms at 1..n (index 1 is the bootstrap entry, term 1). */
export function syntheticDisk(members: NodeId[], terms: number[], term: number): Write[] {
  assert.equal(terms[0], 1);
  const conf = { voters: members, outgoing: [], learners: [], learnersNext: [] };
  const entries: Write = {
    type: 'entries',
    entries: terms.map((t, k) =>
      k === 0
        ? { type: 'conf' as const, index: 1 as LogIndex, term: 1 as never, bytes: 64, change: { type: 'bootstrap' as const, conf } }
        : { type: 'command' as const, index: (k + 1) as LogIndex, term: t as never, bytes: 20, command: `t${t}i${k + 1}` },
    ),
  };
  return [entries, { type: 'hard-state', term: term as never, vote: null, commit: 1 as LogIndex }];
}
