// The fault vocabulary and the random fault schedule (the "nemesis"). Which
// faults may happen is chosen by `--faults`; when and where they happen is
// drawn from the seed. Every fault is undone after a while, and the liveness
// phase undoes whatever is still active.

import type { Prng } from '../core/prng.js';
import { bridge, halves, isolate, oneWay, ring, type Partition } from './partitions.js';
import type { ProcessStatus } from './host.js';

export const FAULT_NAMES = ['loss', 'dup', 'delay', 'partition', 'crash', 'pause', 'torn-write', 'slow-disk'] as const;
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
};

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
}

export interface NemesisConfig {
  /** Mean gap between two fault actions, ms. */
  readonly meanGapMs: number;
  /** Range of how long a fault lasts, ms. */
  readonly durationMs: readonly [number, number];
}

export const DEFAULT_NEMESIS: NemesisConfig = { meanGapMs: 400, durationMs: [100, 2500] };

type Action = Exclude<FaultName, 'torn-write'>;

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

  constructor(private readonly ctl: FaultControl, private readonly rng: Prng, faults: ReadonlySet<FaultName>, private readonly config: NemesisConfig = DEFAULT_NEMESIS) {
    this.actions = [...faults].filter((f): f is Action => f !== 'torn-write');
  }

  start(): void {
    if (this.actions.length > 0) this.scheduleNext();
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
    }
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
