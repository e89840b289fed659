// One playground run: a Simulation built from a RunSetup, the user's actions
// applied at their event indexes, and going back and forth in time by
// re-running from the seed (the simulator is deterministic, so event N of a
// re-run is event N of the first run).

import type { NodeId} from '../../src/core/ids.js';
import { ClientId, TxId } from '../../src/core/ids.js';
import { checkLinearizability } from '../../src/check/linearizability.js';
import { findProtocol } from '../../src/sim/registry.js';
import { Simulation, type AnySpec } from '../../src/sim/simulation.js';
import type { TraceEvent, TraceType } from '../../src/sim/trace.js';
import type { Workload } from '../../src/sim/workload.js';
import { resolveWorkload } from '../../src/sim/workloads.js';
import { KvWorkload } from '../../src/sim/kv-workload.js';
import type { NetworkConfig } from '../../src/sim/network.js';
import type { Action, RunSetup } from './url.js';

/**
 * Slower links than the simulator's default (0.2-5 ms), so that messages can be
 * watched in flight; still far below every protocol's timeouts (>= 100 ms).
 */
export const PLAYGROUND_NETWORK: NetworkConfig = { baseLatencyMs: [8, 18], tailLatencyMs: [1, 4], clientLatencyMs: 4 };

/** Limit on simulator events a run may reach in the playground (a re-run must stay quick). */
export const MAX_EVENTS = 2_000_000;
/** Force-timeout gives up after this many forced ticks. */
const MAX_FORCED_TICKS = 200;
const LOG_LINES = 300;
const SHOWN: readonly TraceType[] = ['protocol', 'request', 'crash', 'restart', 'pause', 'resume', 'partition', 'heal', 'drop', 'violation'];

export type Linearizability = { readonly result: 'ok' | 'unknown' | 'none'; readonly detail: string } | { readonly result: 'illegal'; readonly detail: string };

export class Session {
  readonly spec: AnySpec;
  sim!: Simulation;
  workload: Workload<unknown, unknown> | null = null;
  /** Recent trace events worth showing (protocol events, faults, violations); see `logLines`. */
  private recent: TraceEvent[] = [];
  /** The furthest event this run has reached (the timeline's end). */
  maxEvent = 0;
  private actions: Action[];
  private next = 0;
  /** Listeners of every trace event (tours watch the run through it). */
  private readonly watchers = new Set<(e: TraceEvent) => void>();

  /** `traceSends`: also trace every message sent (tours count them; it costs speed). */
  constructor(readonly setup: RunSetup, actions: readonly Action[], private readonly traceSends = false) {
    const spec = findProtocol(setup.protocol);
    if (spec === undefined) throw new Error(`unknown protocol ${setup.protocol}`);
    this.spec = spec;
    this.actions = [...actions].sort((a, b) => a.at - b.at);
    this.rebuild();
  }

  get allActions(): readonly Action[] {
    return this.actions;
  }

  get events(): number {
    return this.sim.events;
  }

  watch(f: (e: TraceEvent) => void): () => void {
    this.watchers.add(f);
    return () => this.watchers.delete(f);
  }

  private rebuild(): void {
    const s = this.setup;
    const mutants = new Set(s.mutant === null || s.mutant === '' ? [] : [s.mutant]);
    this.sim = new Simulation({ spec: this.spec, seed: s.seed, nodes: s.nodes, mutants, options: s.options, network: PLAYGROUND_NETWORK });
    this.recent = [];
    this.next = 0;
    // Only the types shown or watched: the simulator builds no trace object nobody wants.
    this.sim.subscribe((e) => this.onTrace(e), this.traceSends ? [...SHOWN, 'send'] : SHOWN);
    this.workload = null;
    if (s.clients > 0) {
      const factory = resolveWorkload(this.spec.name, this.spec.workload);
      this.workload = factory({ clients: s.clients, options: {} });
      this.sim.attachWorkload(this.workload);
    }
  }

  private onTrace(e: TraceEvent): void {
    for (const w of this.watchers) w(e);
    if (e.type === 'send' || e.type === 'request' || (e.type === 'drop' && e.reason !== 'manual')) return;
    this.recent.push(e);
    if (this.recent.length > 2 * LOG_LINES) this.recent.splice(0, this.recent.length - LOG_LINES);
  }

  /** The latest `count` events as readable lines, newest first. */
  logLines(count: number): string[] {
    const out: string[] = [];
    for (let k = this.recent.length - 1; k >= 0 && out.length < count; k--) {
      const line = describe(this.recent[k] as TraceEvent);
      if (line !== null) out.push(line);
    }
    return out;
  }

  /** Applies the recorded action due at the current event, if any (skipping any left behind). */
  private applyDue(): void {
    while (this.next < this.actions.length && (this.actions[this.next] as Action).at <= this.sim.events) {
      const a = this.actions[this.next] as Action;
      this.next++;
      if (a.at === this.sim.events) {
        this.perform(a);
        return;
      }
    }
  }

  /**
   * One step: the action recorded at the current event if there is one (an
   * action taken at event k is event k + 1), else the next simulator event.
   * Returns false when nothing happened.
   */
  stepOne(): boolean {
    if (this.sim.violation !== null || this.sim.events >= MAX_EVENTS) return false;
    const before = this.sim.events;
    this.applyDue();
    if (this.sim.events === before && !this.sim.step()) return false;
    this.maxEvent = Math.max(this.maxEvent, this.sim.events);
    return true;
  }

  /** Runs every event up to virtual time `t` (at most `budget` events). Returns false when the run cannot go on. */
  runTo(t: number, budget = 20_000): boolean {
    for (let k = 0; k < budget; k++) {
      const next = this.sim.nextEventTime();
      const due = this.next < this.actions.length && (this.actions[this.next] as Action).at === this.sim.events;
      if (!due && (next === null || next > t)) return true;
      if (!this.stepOne()) return false;
    }
    return true;
  }

  /** Goes to event `n`: forward by stepping, backward by re-running from the seed. */
  goTo(n: number): void {
    if (n < this.sim.events) this.rebuild();
    while (this.sim.events < n && this.stepOne()) {
      /* stepping */
    }
    // A client request is no simulator event of its own (it is queued for delivery):
    // one taken at event n belongs to the state shown at n.
    while (this.next < this.actions.length && (this.actions[this.next] as Action).at === n && (this.actions[this.next] as Action).kind === 'request') {
      this.perform(this.actions[this.next] as Action);
      this.next++;
    }
  }

  /** Records a user action at the current event and performs it; later recorded actions are forgotten. */
  act(a: Action): void {
    this.actions = this.actions.filter((x) => x.at < this.sim.events);
    this.actions.push(a);
    this.next = this.actions.length;
    this.perform(a);
    this.maxEvent = this.sim.events;
  }

  private perform(a: Action): void {
    const sim = this.sim;
    switch (a.kind) {
      case 'crash':
        return sim.crash(a.node);
      case 'restart':
        return sim.restart(a.node);
      case 'pause':
        return sim.pause(a.node);
      case 'resume':
        return sim.resume(a.node);
      case 'tick':
        return sim.tickNode(a.node);
      case 'timeout':
        return this.forceTimeout(a.node);
      case 'drop':
        sim.dropMessage(a.id);
        return;
      case 'partition':
        return sim.partition(a.groups);
      case 'heal':
        return sim.heal();
      case 'request':
        sim.submit(a.node, this.requestFor(a.at));
        return;
    }
  }

  /** Ticks a node until its role changes (it campaigns), or gives up. */
  private forceTimeout(node: number): void {
    const role = (): string => (this.sim.views()[node] as { role: string }).role;
    const start = role();
    for (let k = 0; k < MAX_FORCED_TICKS && role() === start && this.sim.status(node) === 'up'; k++) this.sim.tickNode(node);
  }

  /** The request a user sends at event `at` (deterministic, so a replay sends the same). */
  requestFor(at: number): unknown {
    switch (this.spec.name) {
      case 'paxos':
        return { value: `v${at}` };
      case '2pc':
      case '3pc':
      case 'paxos-commit':
        return { type: 'begin', tx: TxId(`web${at}`) };
      default:
        return { client: ClientId('web'), seq: at + 1, op: { f: 'write', key: 'x', value: `v${at}` } };
    }
  }

  /** The linearizability verdict of the kv clients' history so far (kv protocols only). */
  linearizability(maxSteps = 300_000): Linearizability {
    if (!(this.workload instanceof KvWorkload)) return { result: 'none', detail: 'no key-value clients in this run' };
    const history = this.workload.events();
    const v = checkLinearizability(history, { maxSteps });
    switch (v.result) {
      case 'ok':
        return { result: 'ok', detail: `${Math.ceil(history.length / 2)} operations linearizable` };
      case 'unknown':
        return { result: 'unknown', detail: v.reason };
      case 'illegal':
        return { result: 'illegal', detail: `key ${v.key}: ${v.explanation}` };
    }
  }

  nodeIds(): NodeId[] {
    return this.sim.members.slice();
  }
}

function describe(e: TraceEvent): string | null {
  const at = `#${e.i} ${e.t.toFixed(1)}ms`;
  switch (e.type) {
    case 'protocol': {
      const d = e.event.detail ?? {};
      const rest = Object.entries(d)
        .filter(([k]) => k !== 'node')
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      return `${at} n${e.node} ${e.event.kind} ${rest}`;
    }
    case 'crash':
      return `${at} n${e.node} CRASH (lost ${e.lostWrites} writes)`;
    case 'restart':
      return `${at} n${e.node} restart from ${e.durableWrites} durable writes`;
    case 'pause':
    case 'resume':
      return `${at} n${e.node} ${e.type}`;
    case 'partition':
      return `${at} partition (${e.blocked.length} links cut)`;
    case 'heal':
      return `${at} heal`;
    case 'drop':
      return e.reason === 'manual' ? `${at} message ${e.id} ${e.from}→${e.to} dropped by hand` : null;
    case 'violation':
      return `${at} VIOLATION ${e.invariant}: ${e.message}`;
    default:
      return null;
  }
}
