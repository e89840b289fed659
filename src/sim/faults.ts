// The fault vocabulary and the random fault schedule (the "nemesis"). Which
// faults may happen is chosen by `--faults`; when and where they happen is
// drawn from the seed. Every fault is undone after a while, and the liveness
// phase undoes whatever is still active.

import type { Prng } from '../core/prng.js';
import { bridge, groups, halves, isolate, oneWay, ring, type Partition } from './partitions.js';
import type { ProcessStatus } from './host.js';
import { OPERATOR_ACTIVITIES, type OperatorActivity } from './operator.js';

export const FAULT_NAMES = ['loss', 'dup', 'delay', 'partition', 'crash', 'pause', 'torn-write', 'slow-disk', 'reboot', 'role-partition', 'role-crash', 'reconfigure', 'transfer'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = {
  loss: 'windows of random message loss (5-30%) on all links or on the links of one node',
  dup: 'windows of message duplication (5-20%) on all links',
  delay: 'windows of extra network latency (5-50 ms) on all links; with the latency spread this also reorders',
  partition: 'partitions shaped like Jepsen\'s: isolate one node, majority/minority halves, bridge (overlapping majorities), ring, one-way',
  crash: 'power loss of a node (volatile state and unsynced writes lost), restarted later from its disk',
  pause: 'a node\'s process is stopped (SIGSTOP) and resumed later; its inputs queue up meanwhile',
  'torn-write': 'a crash keeps a random prefix of the records of the persist in flight',
  'slow-disk': 'windows where one node\'s disk is 10-100 times slower',
  reboot: 'a node crashes right after one of its writes becomes durable and restarts 0-2 ms later (armed at random and around role changes): a forgotten vote or promise gets a second chance',
  'role-partition': 'when a node\'s role changes (an election), it is often cut off soon after, alone or with one peer, for 0.05-1.5 s: old leaders in minorities, uncommitted tails',
  'role-crash': 'when a node\'s role changes, it sometimes crashes 0-30 ms later and restarts 50-500 ms later: leader churn',
  // Operator activity (src/sim/operator.ts): only protocols that offer it do anything with these (raft both, multipaxos transfer).
  reconfigure: 'an operator changes the membership through the leader (raft: remove a voter or demote it, add it back as a learner, promote it; single-server and joint changes); the liveness phase waits until every node is a voter again',
  transfer: 'an operator asks the leader to hand leadership to another up-to-date voter (raft: TimeoutNow; multipaxos: the leader steps down and releases its lease, the target campaigns at once)',
};

export function isOperatorActivity(f: FaultName): f is OperatorActivity {
  return (OPERATOR_ACTIVITIES as readonly string[]).includes(f);
}

export class FaultListError extends Error {
  override readonly name = 'FaultListError';
}

/** Parses `--faults`: 'all', 'none', or a comma-separated list of fault names. */
export function parseFaults(text: string): Set<FaultName> {
  const t = text.trim();
  if (t === 'all') return new Set(FAULT_NAMES);
  if (t === 'none' || t === '') return new Set();
  const out = new Set<FaultName>();
  for (const part of t.split(',')) {
    const name = part.trim();
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new FaultListError(`unknown fault '${name}' (known: ${FAULT_NAMES.join(', ')}, or all / none)`);
    }
    out.add(name as FaultName);
  }
  return out;
}

export function formatFaults(faults: ReadonlySet<FaultName>): string {
  if (faults.size === FAULT_NAMES.length) return 'all';
  if (faults.size === 0) return 'none';
  return FAULT_NAMES.filter((f) => faults.has(f)).join(',');
}

/** What the nemesis may do to the cluster (implemented by the Simulation). */
export interface FaultControl {
  readonly n: number;
  now(): number;
  at(timeMs: number, action: () => void): void;
  status(node: number): ProcessStatus;
  crash(node: number): void;
  restart(node: number): void;
  pause(node: number): void;
  resume(node: number): void;
  setPartition(p: Partition | null): void;
  setLinkFaults(node: number | null, loss: number, dup: number): void;
  setExtraDelay(ms: number): void;
  setSlowDisk(node: number, factor: number): void;
  /** Role changes seen in the nodes' views (the 'role-*' faults and 'reboot' react to them). */
  onRoleChange?(watch: (node: number, from: string, to: string) => void): void;
  /** A node's write became durable ('reboot' reacts to it). */
  onDurable?(watch: (node: number) => void): void;
}

export interface NemesisConfig {
  /** Mean gap between two fault actions, ms. */
  readonly meanGapMs: number;
  /** Range of how long a fault lasts, ms. */
  readonly durationMs: readonly [number, number];
}

export const DEFAULT_NEMESIS: NemesisConfig = { meanGapMs: 400, durationMs: [100, 2500] };

/** Faults drawn by the timer; 'torn-write' modifies crashes, the 'role-*' faults react to role changes, the operator runs 'reconfigure' and 'transfer'. */
type Action = Exclude<FaultName, 'torn-write' | 'role-partition' | 'role-crash' | OperatorActivity>;

/** How the faults that react to protocol activity behave (probabilities per role change, windows in ms). */
const REACTIVE = {
  /** Chance, for each other node, that a role change arms a reboot of it at its next durable write. */
  rebootOnRole: 0.35,
  /** How long an armed reboot waits for a durable write before it lapses. */
  rebootArmedMs: [20, 200] as const,
  rebootRestartMs: [0, 2] as const,
  partitionOnRole: 0.3,
  partitionDelayMs: [0, 40] as const,
  partitionMs: [50, 1500] as const,
  crashOnRole: 0.15,
  crashDelayMs: [0, 30] as const,
  crashRestartMs: [50, 500] as const,
  /** After a reactive fault strikes, the next waits this long: faults cluster around elections without keeping the cluster down. */
  quietMs: [100, 600] as const,
};

/**
 * Draws faults at random times. At most a minority of nodes is crashed or
 * paused at once, so the safety phase still sees progress; partitions and
 * message faults are independent of that bound.
 */
export class Nemesis {
  private stopped = false;
  private partitioned = false;
  private lossOn = false;
  private dupOn = false;
  private lossRate = 0;
  private lossScope: number | null = null;
  private dupRate = 0;
  private delayOn = false;
  private readonly slow = new Set<number>();
  private readonly actions: Action[];
  /** Node -> virtual time until which its next durable write triggers a reboot. */
  private readonly armed = new Map<number, number>();
  /** No reactive fault of each kind ('reboot'; 'role-partition' and 'role-crash' together) strikes before these virtual times. */
  private readonly quietUntil = { reboot: 0, role: 0 };

  constructor(private readonly ctl: FaultControl, private readonly rng: Prng, private readonly faults: ReadonlySet<FaultName>, private readonly config: NemesisConfig = DEFAULT_NEMESIS) {
    this.actions = [...faults].filter((f): f is Action => f !== 'torn-write' && f !== 'role-partition' && f !== 'role-crash' && !isOperatorActivity(f));
  }

  start(): void {
    if (this.actions.length > 0) this.scheduleNext();
    const f = this.faults;
    if (f.has('reboot') || f.has('role-partition') || f.has('role-crash')) this.ctl.onRoleChange?.((node, from, to) => {
        // A start or a restart is no election: only changes between live roles count.
        if (from !== 'start' && from !== 'down' && to !== 'down') this.onRole(node);
      });
    if (f.has('reboot')) this.ctl.onDurable?.((node) => this.onDurable(node));
  }

  /** No more faults; pending undo actions become no-ops (the simulator heals everything). */
  stop(): void {
    this.stopped = true;
  }

  private scheduleNext(): void {
    this.ctl.at(this.ctl.now() + this.rng.exponential(this.config.meanGapMs), () => {
      if (this.stopped) return;
      this.act(this.rng.pick(this.actions));
      this.scheduleNext();
    });
  }

  private later(undo: () => void): void {
    const [d0, d1] = this.config.durationMs;
    this.ctl.at(this.ctl.now() + d0 + this.rng.float() * (d1 - d0), () => {
      if (!this.stopped) undo();
    });
  }

  private act(a: Action): void {
    switch (a) {
      case 'crash':
      case 'pause':
        this.stopNode(a);
        return;
      case 'partition':
        this.partition();
        return;
      case 'loss':
        if (this.lossOn) return;
        this.lossOn = true;
        this.lossRate = 0.05 + this.rng.float() * 0.25;
        this.lossScope = this.rng.chance(0.5) ? null : this.rng.int(0, this.ctl.n - 1);
        this.applyRates();
        this.later(() => ((this.lossOn = false), this.applyRates()));
        return;
      case 'dup':
        if (this.dupOn) return;
        this.dupOn = true;
        this.dupRate = 0.05 + this.rng.float() * 0.15;
        this.applyRates();
        this.later(() => ((this.dupOn = false), this.applyRates()));
        return;
      case 'delay':
        if (this.delayOn) return;
        this.delayOn = true;
        this.ctl.setExtraDelay(5 + this.rng.float() * 45);
        this.later(() => ((this.delayOn = false), this.ctl.setExtraDelay(0)));
        return;
      case 'slow-disk':
        this.slowDisk();
        return;
      case 'reboot':
        this.arm(this.rng.int(0, this.ctl.n - 1));
        return;
    }
  }

  private between(range: readonly [number, number]): number {
    return range[0] + this.rng.float() * (range[1] - range[0]);
  }

  /** Crashes and restarts may stop at most a minority of the nodes at once. */
  private mayStop(): boolean {
    let stopped = 0;
    for (let i = 0; i < this.ctl.n; i++) if (this.ctl.status(i) !== 'up') stopped++;
    return stopped < Math.floor((this.ctl.n - 1) / 2);
  }

  /** Protocol activity: a node's role changed. Elections are where votes, promises and uncommitted tails are at stake. */
  /** Whether a reactive fault may strike now; if so, the next one must wait a while. */
  private strike(kind: 'reboot' | 'role'): boolean {
    if (this.ctl.now() < this.quietUntil[kind]) return false;
    this.quietUntil[kind] = this.ctl.now() + this.between(REACTIVE.quietMs);
    return true;
  }

  private onRole(node: number): void {
    if (this.stopped) return;
    const f = this.faults;
    if (f.has('reboot')) {
      // The others' next writes are likely votes or promises for this node's election.
      for (let other = 0; other < this.ctl.n; other++) if (other !== node && this.rng.chance(REACTIVE.rebootOnRole)) this.arm(other);
    }
    if (f.has('role-partition') && !this.partitioned && this.ctl.n >= 3 && this.rng.chance(REACTIVE.partitionOnRole) && this.strike('role')) {
      this.partitioned = true;
      const order = this.rng.shuffle([...Array(this.ctl.n).keys()].filter((i) => i !== node));
      // Alone, or with one peer: either way a minority of a cluster of 5 or more.
      const minority = this.ctl.n >= 5 && this.rng.chance(0.5) ? [node, order[0] as number] : [node];
      const rest = order.filter((i) => !minority.includes(i));
      this.ctl.at(this.ctl.now() + this.between(REACTIVE.partitionDelayMs), () => {
        if (this.stopped) return;
        this.ctl.setPartition(groups(this.ctl.n, [minority, rest]));
        this.ctl.at(this.ctl.now() + this.between(REACTIVE.partitionMs), () => ((this.partitioned = false), this.stopped || this.ctl.setPartition(null)));
      });
    }
    if (f.has('role-crash') && this.rng.chance(REACTIVE.crashOnRole) && this.strike('role')) {
      this.ctl.at(this.ctl.now() + this.between(REACTIVE.crashDelayMs), () => {
        if (this.stopped || this.ctl.status(node) !== 'up' || !this.mayStop()) return;
        this.ctl.crash(node);
        this.ctl.at(this.ctl.now() + this.between(REACTIVE.crashRestartMs), () => this.ctl.status(node) === 'down' && this.ctl.restart(node));
      });
    }
  }

  private arm(node: number): void {
    this.armed.set(node, this.ctl.now() + this.between(REACTIVE.rebootArmedMs));
  }

  /** 'reboot': the write just became durable and its follow-up messages are out; then the power goes. */
  private onDurable(node: number): void {
    const until = this.armed.get(node);
    if (until === undefined || this.stopped) return;
    this.armed.delete(node);
    if (this.ctl.now() > until) return;
    const restartAfter = this.between(REACTIVE.rebootRestartMs);
    // Its own event at the same instant: the invariants see the state the write made durable before the power goes.
    this.ctl.at(this.ctl.now(), () => {
      if (this.stopped || this.ctl.status(node) !== 'up' || !this.mayStop() || !this.strike('reboot')) return;
      this.ctl.crash(node);
      this.ctl.at(this.ctl.now() + restartAfter, () => this.ctl.status(node) === 'down' && this.ctl.restart(node));
    });
  }

  private applyRates(): void {
    this.ctl.setLinkFaults(null, 0, this.dupOn ? this.dupRate : 0);
    if (this.lossOn) this.ctl.setLinkFaults(this.lossScope, this.lossRate, this.dupOn ? this.dupRate : 0);
  }

  private stopNode(kind: 'crash' | 'pause'): void {
    const n = this.ctl.n;
    let stoppedCount = 0;
    const up: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.ctl.status(i);
      if (s === 'up') up.push(i);
      else stoppedCount++;
    }
    if (up.length === 0 || stoppedCount >= Math.floor((n - 1) / 2)) return;
    const node = this.rng.pick(up);
    if (kind === 'crash') {
      this.ctl.crash(node);
      this.later(() => this.ctl.status(node) === 'down' && this.ctl.restart(node));
    } else {
      this.ctl.pause(node);
      this.later(() => this.ctl.status(node) === 'paused' && this.ctl.resume(node));
    }
  }

  private partition(): void {
    if (this.partitioned) return;
    const p = this.drawPartition();
    if (p === null) return;
    this.partitioned = true;
    this.ctl.setPartition(p);
    this.later(() => ((this.partitioned = false), this.ctl.setPartition(null)));
  }

  private drawPartition(): Partition | null {
    const n = this.ctl.n;
    if (n < 2) return null;
    const order = this.rng.shuffle([...Array(n).keys()]);
    const shapes = ['isolate', 'halves', 'one-way'];
    if (n >= 3) shapes.push('bridge');
    if (n >= 4) shapes.push('ring');
    const shape = this.rng.pick(shapes);
    const first = order[0] as number;
    if (shape === 'isolate') return isolate(n, first);
    if (shape === 'halves') return halves(n, order);
    if (shape === 'one-way') return oneWay(n, first);
    if (shape === 'bridge') return bridge(n, order);
    return ring(n, order);
  }

  private slowDisk(): void {
    const node = this.rng.int(0, this.ctl.n - 1);
    if (this.slow.has(node)) return;
    this.slow.add(node);
    this.ctl.setSlowDisk(node, 10 + this.rng.float() * 90);
    this.later(() => (this.slow.delete(node), this.ctl.setSlowDisk(node, 1)));
  }
}
