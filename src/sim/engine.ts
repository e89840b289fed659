// The simulator's engine (after TigerBeetle's VOPR): the event loop, the
// network and client plumbing, invariant checks and the trace. The controls
// (faults, playground actions) are in simulation.ts. One seed decides
// everything: link latencies, disk latencies, tick phases, faults, the
// workload. Virtual time advances from event to event through a priority queue
// ordered by (time, sequence number); nothing depends on the wall clock.
//
// A Simulation can be stepped one event at a time, run to a time, or driven by
// hand (the playground): crash / restart / pause / resume a node, force a tick,
// drop an in-flight message, partition and heal, submit a client request, and
// read every node's view and the messages in flight. Invariants are checked
// after every event; the first violation stops the run.

import { NodeId } from '../core/ids.js';
import { Prng } from '../core/prng.js';
import type { Message } from '../core/replicated-log.js';
import { Disk, type DiskConfig, DEFAULT_DISK } from './disk.js';
import { NodeHost, type AnyNode, type HostEnv, type ProcessStatus } from './host.js';
import { DEFAULT_NETWORK, Network, roundUs, type NetworkConfig } from './network.js';
import type { Invariant, NodeContext, NodeView, ProtocolSpec, SimOutput } from './protocol.js';
import { EventKind, EventQueue, type SimEvent } from './queue.js';
import { TRACE_TYPES, type TraceEvent, type TraceSink, type TraceType } from './trace.js';
import type { Workload } from './workload.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = ProtocolSpec<any, any, any, any>;

export interface SimulationConfig {
  readonly spec: AnySpec;
  readonly seed: number;
  readonly nodes: number;
  readonly mutants?: ReadonlySet<string>;
  readonly options?: Readonly<Record<string, unknown>>;
  /** A crash keeps a random prefix of the in-flight persist (fault 'torn-write'). */
  readonly tornWrites?: boolean;
  readonly network?: NetworkConfig;
  readonly disk?: DiskConfig;
  /** Inputs a busy or paused node may queue; more are dropped like lost messages. */
  readonly inputQueueLimit?: number;
}

export interface Violation {
  readonly seed: number;
  /** The simulator step at which the invariant failed. */
  readonly event: number;
  readonly timeMs: number;
  readonly invariant: string;
  readonly message: string;
}

export interface InFlightMessage {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly msg: Message;
  readonly sentAt: number;
  readonly deliverAt: number;
}

export const MAX_NODES = 15;

export class SimulationEngine {
  readonly seed: number;
  readonly n: number;
  readonly members: readonly NodeId[];
  readonly spec: AnySpec;
  /** The scenario's random stream. */
  readonly rng: Prng;
  /** The random fault schedule's stream. */
  readonly faultRng: Prng;
  /** The operator's stream (membership changes, transfers: src/sim/operator.ts). */
  readonly operatorRng: Prng;
  protected readonly rareCounts = new Map<string, number>();
  protected readonly eventCounts = new Map<string, number>();
  protected time = 0;
  protected eventNo = 0;
  protected inStep = false;
  protected violationValue: Violation | null = null;
  protected readonly queue = new EventQueue();
  protected readonly hosts: NodeHost[] = [];
  readonly network: Network;
  protected nSend = 0;
  protected nDeliver = 0;
  protected nRequest = 0;
  protected nextMessageId = 1;
  protected nextRequestId = 1;
  protected readonly sinks: { sink: TraceSink; types: ReadonlySet<TraceType> | null }[] = [];
  /** Per trace type: does any subscriber want it? (No trace object is built otherwise.) */
  protected readonly want: Record<TraceType, boolean> = Object.fromEntries(TRACE_TYPES.map((t) => [t, false])) as Record<TraceType, boolean>;
  protected readonly invariants: readonly Invariant[];
  protected readonly viewsScratch: NodeView[] = [];
  protected readonly nodeRng: Prng;
  protected readonly tickRng: Prng;
  protected readonly tornWrites: boolean;
  protected readonly mutants: ReadonlySet<string>;
  protected readonly options: Readonly<Record<string, unknown>>;
  protected workload: Workload<unknown, unknown> | null = null;
  readonly workloadRng: Prng;
  /** Replies to requests submitted by hand (`submit`), by request id. */
  readonly replies = new Map<number, unknown>();
  protected readonly manualRequests = new Set<number>();
  /** Called when a node's view shows a new role (elections, step-downs, crashes and restarts). */
  protected readonly roleWatchers: ((node: number, from: string, to: string) => void)[] = [];
  /** The role each node's view showed at the last check ('down' while crashed). */
  protected readonly lastRoles: string[] = [];
  /** Called when a node's persist became durable (after its continuation ran). */
  protected readonly durableWatchers: ((node: number) => void)[] = [];

  constructor(config: SimulationConfig) {
    if (!Number.isInteger(config.nodes) || config.nodes < 1 || config.nodes > MAX_NODES) {
      throw new RangeError(`nodes must be an integer in 1..${MAX_NODES}, got ${config.nodes}`);
    }
    this.seed = config.seed;
    this.n = config.nodes;
    this.spec = config.spec;
    this.members = [...Array(this.n).keys()].map((i) => NodeId(i));
    this.mutants = config.mutants ?? new Set();
    this.options = config.options ?? {};
    this.tornWrites = config.tornWrites ?? false;
    const root = new Prng(config.seed);
    this.network = new Network(this.n, root.fork('network'), config.network ?? DEFAULT_NETWORK);
    this.nodeRng = root.fork('nodes');
    this.tickRng = root.fork('ticks');
    this.rng = root.fork('scenario');
    this.faultRng = root.fork('faults');
    this.workloadRng = root.fork('workload');
    this.operatorRng = root.fork('operator');
    this.invariants = config.spec.invariants();
    const env: HostEnv = {
      send: (from, to, msg) => this.send(from, to, msg),
      output: (from, o) => this.output(from, o),
      scheduleSync: (node, inc, delay, records) => this.scheduleSync(node, inc, delay, records),
    };
    const limit = config.inputQueueLimit ?? 1024;
    for (let i = 0; i < this.n; i++) {
      this.hosts.push(new NodeHost(i, new Disk(root.fork(`disk-${i}`), config.disk ?? DEFAULT_DISK), env, limit));
    }
    // Starting the nodes is event 0: an exception there is a violation like any other.
    this.inStep = true;
    try {
      for (let i = 0; i < this.n; i++) {
        const host = this.hosts[i] as NodeHost;
        host.start(this.spec.create(this.context(i)));
        this.scheduleTick(i, this.tickRng.float() * this.spec.tickMs);
      }
    } catch (err) {
      this.fail('exception', describeError(err));
    } finally {
      this.inStep = false;
    }
  }

  // ---- reading -------------------------------------------------------------

  now(): number {
    return this.time;
  }

  /** Simulator steps executed so far (the number a violation reports). */
  get events(): number {
    return this.eventNo;
  }

  get violation(): Violation | null {
    return this.violationValue;
  }

  status(node: number): ProcessStatus {
    return this.host(node).status;
  }

  /** Every node's view; a crashed node shows as role 'down'. */
  views(): NodeView[] {
    return this.hosts.map((h) => (h.node === null ? { id: NodeId(h.index), role: 'down' } : h.node.view()));
  }

  /** The messages in the network now, by delivery time. */
  inFlight(): InFlightMessage[] {
    const out: InFlightMessage[] = [];
    for (const e of this.queue.pending()) {
      if (e.kind === EventKind.Deliver) out.push({ id: e.a, from: e.b, to: e.node, msg: e.payload as Message, sentAt: e.c, deliverAt: e.time });
    }
    return out.sort((a, b) => a.deliverAt - b.deliverAt || a.id - b.id);
  }

  /** Counters of faults, message fates and protocol events so far. */
  get counts(): ReadonlyMap<string, number> {
    const out = new Map(this.rareCounts);
    if (this.nSend > 0) out.set('send', this.nSend);
    if (this.nDeliver > 0) out.set('deliver', this.nDeliver);
    if (this.nRequest > 0) out.set('request', this.nRequest);
    for (const [k, n] of this.eventCounts) out.set(`event:${k}`, n);
    return out;
  }

  /** The protocol node running as `node` now (null while it is down), for tests and the playground. */
  nodeAt(node: number): AnyNode | null {
    return this.host(node).node;
  }

  /** Inputs waiting at a node (busy with its disk, or paused). */
  queuedInputs(node: number): number {
    return this.host(node).queued;
  }

  /** Durable records on a node's disk (what a restart would recover from). */
  durable(node: number): readonly unknown[] {
    return this.host(node).disk.durable;
  }

  /** Time of the next pending event, or null when nothing is scheduled. */
  nextEventTime(): number | null {
    const e = this.queue.peek();
    return e === undefined ? null : e.time;
  }

  /** Calls `watch(node, from, to)` whenever a node's view shows a new role (checked after every event). */
  onRoleChange(watch: (node: number, from: string, to: string) => void): void {
    this.roleWatchers.push(watch);
  }

  /** Calls `watch(node)` whenever one of a node's writes has become durable (its fsync completed). */
  onDurable(watch: (node: number) => void): void {
    this.durableWatchers.push(watch);
  }

  // ---- driving -------------------------------------------------------------

  /** Subscribes to the trace stream (all of it, or only `types`); returns the unsubscribe function. */
  subscribe(sink: TraceSink, types?: readonly TraceType[]): () => void {
    const entry = { sink, types: types === undefined ? null : new Set(types) };
    this.sinks.push(entry);
    this.updateWants();
    return () => {
      const k = this.sinks.indexOf(entry);
      if (k >= 0) this.sinks.splice(k, 1);
      this.updateWants();
    };
  }

  protected updateWants(): void {
    for (const t of TRACE_TYPES) this.want[t] = this.sinks.some((s) => s.types === null || s.types.has(t));
  }

  /** Runs the next event. Returns false when the queue is empty or the run stopped on a violation. */
  step(): boolean {
    if (this.violationValue !== null) return false;
    for (;;) {
      const e = this.queue.pop();
      if (e === undefined) return false;
      if (this.isStale(e)) {
        this.queue.release(e);
        continue;
      }
      this.time = e.time;
      this.eventNo++;
      this.inStep = true;
      try {
        this.dispatch(e);
        this.checkInvariants();
      } catch (err) {
        this.fail('exception', describeError(err));
      } finally {
        this.inStep = false;
        this.queue.release(e);
      }
      return true;
    }
  }

  /** Runs every event up to and including virtual time `timeMs`; stops early on a violation or when `until()` holds. */
  runUntil(timeMs: number, until?: () => boolean): void {
    for (;;) {
      if (this.violationValue !== null) return;
      if (until !== undefined && until()) return;
      const next = this.queue.peek();
      if (next === undefined || next.time > timeMs) break;
      this.step();
    }
    if (this.violationValue === null && this.time < timeMs) this.time = timeMs;
  }

  /** Runs `action` at virtual time `timeMs` as its own event. */
  at(timeMs: number, action: () => void): void {
    this.queue.push(this.queue.alloc(Math.max(timeMs, this.time), EventKind.Callback, -1, 0, 0, action));
  }

  watch(action: (e: TraceEvent) => 'done' | 'continue'): void {
    const unsubscribe = this.subscribe((e) => {
      if (action(e) === 'done') unsubscribe();
    });
  }

  /** Marks a phase of the run in the trace. */
  phase(phase: 'safety' | 'liveness' | 'end'): void {
    this.emitIf('phase', () => ({ type: 'phase', i: this.eventNo, t: this.time, phase }));
  }

  /** Stops the run with a violation found outside the event loop (liveness, the workload's checks). */
  fail(invariant: string, message: string): void {
    if (this.violationValue !== null) return;
    this.violationValue = { seed: this.seed, event: this.eventNo, timeMs: this.time, invariant, message };
    this.emitIf('violation', () => ({ type: 'violation', i: this.eventNo, t: this.time, invariant, message }));
  }

  // ---- internals -----------------------------------------------------------

  protected host(node: number): NodeHost {
    const h = this.hosts[node];
    if (h === undefined) throw new RangeError(`no node ${node} in a cluster of ${this.n}`);
    return h;
  }

  protected context(i: number): NodeContext {
    const h = this.host(i);
    return { id: NodeId(i), members: this.members, rng: this.nodeRng.fork(`node-${i}-${h.incarnation}`), mutants: this.mutants, options: this.options };
  }

  /** Runs a control action: inside an event as part of it, from outside as an event of its own. */
  protected perform(action: () => void): void {
    if (this.inStep) {
      action();
      return;
    }
    if (this.violationValue !== null) return;
    this.eventNo++;
    this.inStep = true;
    try {
      action();
      this.checkInvariants();
    } catch (err) {
      this.fail('exception', describeError(err));
    } finally {
      this.inStep = false;
    }
  }

  protected isStale(e: SimEvent): boolean {
    switch (e.kind) {
      case EventKind.Cancelled:
        return true;
      case EventKind.Tick:
      case EventKind.Synced:
        return (this.hosts[e.node] as NodeHost).incarnation !== e.a || (this.hosts[e.node] as NodeHost).status === 'down';
      default:
        return false;
    }
  }

  protected dispatch(e: SimEvent): void {
    switch (e.kind) {
      case EventKind.Deliver:
        this.deliver(e);
        return;
      case EventKind.Tick: {
        this.scheduleTick(e.node, e.time + this.spec.tickMs);
        if (this.want.tick) this.emit({ type: 'tick', i: this.eventNo, t: this.time, node: e.node });
        (this.hosts[e.node] as NodeHost).tick();
        return;
      }
      case EventKind.Synced: {
        if (this.want.synced) this.emit({ type: 'synced', i: this.eventNo, t: this.time, node: e.node, records: e.b });
        (this.hosts[e.node] as NodeHost).synced();
        for (const w of this.durableWatchers) w(e.node);
        return;
      }
      case EventKind.ClientDeliver:
        this.deliverRequest(e.node, e.a, e.payload);
        return;
      case EventKind.ClientReply:
        this.deliverReply(e.node, e.a, e.payload);
        return;
      case EventKind.ClientTimer:
        this.workload?.onTimer(e.a);
        return;
      case EventKind.Nemesis:
      case EventKind.Callback:
        (e.payload as () => void)();
        return;
      case EventKind.Cancelled:
        return;
    }
  }

  protected checkInvariants(): void {
    if ((this.invariants.length === 0 && this.roleWatchers.length === 0) || this.violationValue !== null) return;
    // Reuses one array; its length changes only when a node goes down or comes back.
    // When every view is the very object of the last check (a node that caches its
    // view returns the same object until its state changes), nothing can have changed.
    const views = this.viewsScratch;
    let k = 0;
    let changed = false;
    for (const h of this.hosts) {
      if (h.node === null) continue;
      const v = h.node.view();
      if (views[k] !== v) {
        views[k] = v;
        changed = true;
        if (this.roleWatchers.length > 0) this.noteRole(h.index, v.role);
      }
      k++;
    }
    if (views.length !== k) {
      views.length = k;
      changed = true;
    }
    if (this.roleWatchers.length > 0) for (const h of this.hosts) if (h.node === null) this.noteRole(h.index, 'down');
    if (!changed || this.invariants.length === 0) return;
    for (const inv of this.invariants) {
      const problem = inv.check(views, this.eventNo);
      if (problem !== null) {
        this.fail(inv.name, problem);
        return;
      }
    }
  }

  protected noteRole(node: number, role: string): void {
    const before = this.lastRoles[node] ?? 'start';
    if (before === role) return;
    this.lastRoles[node] = role;
    for (const w of this.roleWatchers) w(node, before, role);
  }

  protected scheduleTick(node: number, time: number): void {
    const h = this.hosts[node] as NodeHost;
    this.queue.push(this.queue.alloc(roundUs(time), EventKind.Tick, node, h.incarnation, 0, null));
  }

  protected scheduleSync(node: number, incarnation: number, delayMs: number, records: number): void {
    const syncAt = roundUs(this.time + delayMs);
    if (this.want.persist) this.emit({ type: 'persist', i: this.eventNo, t: this.time, node, records, syncAt });
    this.queue.push(this.queue.alloc(syncAt, EventKind.Synced, node, incarnation, records, null));
  }

  protected send(from: number, to: NodeId, msg: Message): void {
    const id = this.nextMessageId++;
    this.nSend++;
    const net = this.network;
    const reason = net.isBlocked(from, to) ? 'partition' : net.drawLoss(from, to) ? 'loss' : null;
    const deliverAt = roundUs(this.time + net.latency(from, to));
    if (this.want.send) this.emit({ type: 'send', i: this.eventNo, t: this.time, id, from, to, msg, deliverAt });
    if (reason !== null) {
      this.bump(`drop:${reason}`);
      this.emitIf('drop', () => ({ type: 'drop', i: this.eventNo, t: this.time, id, from, to, reason }));
      return;
    }
    this.enqueueMessage(id, from, to, msg, deliverAt);
    if (net.drawDuplicate(from, to)) {
      const dupId = this.nextMessageId++;
      const dupAt = roundUs(this.time + net.latency(from, to));
      this.bump('duplicate');
      this.emitIf('duplicate', () => ({ type: 'duplicate', i: this.eventNo, t: this.time, id: dupId, of: id, deliverAt: dupAt }));
      this.enqueueMessage(dupId, from, to, msg, dupAt);
    }
  }

  protected enqueueMessage(id: number, from: number, to: number, msg: Message, deliverAt: number): void {
    const e = this.queue.alloc(deliverAt, EventKind.Deliver, to, id, from, msg);
    e.c = this.time;
    this.queue.push(e);
  }

  protected deliver(e: SimEvent): void {
    const id = e.a;
    const from = e.b;
    const to = e.node;
    const h = this.hosts[to] as NodeHost;
    const reason = this.network.isBlocked(from, to) ? 'partition' : h.status === 'down' ? 'down' : null;
    if (reason === null && h.message(from, e.payload as Message)) {
      this.nDeliver++;
      if (this.want.deliver) this.emit({ type: 'deliver', i: this.eventNo, t: this.time, id, from, to });
      return;
    }
    const why = reason ?? 'queue-full';
    this.bump(`drop:${why}`);
    this.emitIf('drop', () => ({ type: 'drop', i: this.eventNo, t: this.time, id, from, to, reason: why }));
  }

  protected sendRequest(node: NodeId, req: unknown): number {
    const id = this.nextRequestId++;
    this.host(node);
    this.queue.push(this.queue.alloc(roundUs(this.time + this.network.clientLatency()), EventKind.ClientDeliver, node, id, 0, req));
    return id;
  }

  protected deliverRequest(node: number, requestId: number, req: unknown): void {
    const h = this.hosts[node] as NodeHost;
    if (h.status !== 'down' && h.request(requestId, req)) {
      this.nRequest++;
      if (this.want.request) this.emit({ type: 'request', i: this.eventNo, t: this.time, node, requestId, req });
      return;
    }
    const reason = h.status === 'down' ? 'down' : 'queue-full';
    this.bump(`request-lost:${reason}`);
    this.emitIf('drop', () => ({ type: 'drop', i: this.eventNo, t: this.time, id: requestId, from: -1, to: node, reason }));
  }

  protected deliverReply(node: number, requestId: number, reply: unknown): void {
    if (this.want.reply) this.emit({ type: 'reply', i: this.eventNo, t: this.time, node, requestId, reply });
    if (this.manualRequests.delete(requestId)) this.replies.set(requestId, reply);
    else this.workload?.onReply(requestId, NodeId(node), reply);
  }

  protected output(from: number, o: SimOutput<unknown>): void {
    if (o.type === 'reply') {
      this.queue.push(this.queue.alloc(roundUs(this.time + this.network.clientLatency()), EventKind.ClientReply, from, o.requestId, 0, o.reply));
      return;
    }
    const kind = o.event.kind;
    this.eventCounts.set(kind, (this.eventCounts.get(kind) ?? 0) + 1);
    if (this.want.protocol) this.emit({ type: 'protocol', i: this.eventNo, t: this.time, node: from, event: o.event });
  }

  protected networkChanged(): void {
    const r = this.network.maxRates();
    const extraDelayMs = this.network.extraDelay;
    this.bump('network-change');
    this.emitIf('network', () => ({ type: 'network', i: this.eventNo, t: this.time, loss: roundUs(r.loss), dup: roundUs(r.dup), extraDelayMs: roundUs(extraDelayMs) }));
  }

  protected bump(key: string): void {
    this.rareCounts.set(key, (this.rareCounts.get(key) ?? 0) + 1);
  }

  protected emitIf(type: TraceType, make: () => TraceEvent): void {
    if (this.want[type]) this.emit(make());
  }

  protected emit(e: TraceEvent): void {
    for (const s of this.sinks) if (s.types === null || s.types.has(e.type)) s.sink(e);
  }
}

/** An exception thrown inside a step (a protocol's failed assertion, usually): its message, then where. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const where = (err.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at ')).slice(0, 6).map((l) => l.trim());
  return [`${err.name}: ${err.message}`, ...where].join('\n');
}
