// The simulated network between nodes: per-link latency (a base plus an
// exponential tail, drawn from the seed, so messages overtake each other),
// per-link loss and duplication probabilities that faults change over time,
// an extra delay for "slow network" periods, and a partition matrix.

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import type { Partition } from './partitions.js';

export interface NetworkConfig {
  /** Range of the per-link base latency, ms. */
  readonly baseLatencyMs: readonly [number, number];
  /** Range of the per-link mean of the exponential tail, ms. */
  readonly tailLatencyMs: readonly [number, number];
  /** Latency of the client <-> node network, ms (base; the tail is the same shape). */
  readonly clientLatencyMs: number;
}

export const DEFAULT_NETWORK: NetworkConfig = {
  baseLatencyMs: [0.2, 2],
  tailLatencyMs: [0.1, 3],
  clientLatencyMs: 0.5,
};

/** Rounds virtual times to microseconds so traces stay short and exact. */
export function roundUs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export class Network {
  readonly n: number;
  private readonly base: Float64Array;
  private readonly tail: Float64Array;
  private readonly loss: Float64Array;
  private readonly dup: Float64Array;
  private extraDelayMs = 0;
  private blocked: Uint8Array | null = null;
  private partitionValue: Partition | null = null;

  constructor(n: number, private readonly rng: Prng, private readonly config: NetworkConfig = DEFAULT_NETWORK) {
    assert(n > 0, 'network of no nodes');
    this.n = n;
    this.base = new Float64Array(n * n);
    this.tail = new Float64Array(n * n);
    this.loss = new Float64Array(n * n);
    this.dup = new Float64Array(n * n);
    const [b0, b1] = config.baseLatencyMs;
    const [t0, t1] = config.tailLatencyMs;
    for (let i = 0; i < n * n; i++) {
      this.base[i] = b0 + rng.float() * (b1 - b0);
      this.tail[i] = t0 + rng.float() * (t1 - t0);
    }
  }

  /** Sample the one-way latency of a message now on link from -> to. */
  latency(from: number, to: number): number {
    const i = from * this.n + to;
    return (this.base[i] as number) + this.rng.exponential(this.tail[i] as number) + this.extraDelayMs;
  }

  clientLatency(): number {
    return this.config.clientLatencyMs + this.rng.exponential(this.config.clientLatencyMs);
  }

  /** Whether a message on from -> to is lost right now (a partition or a random loss). */
  isBlocked(from: number, to: number): boolean {
    return this.blocked !== null && this.blocked[from * this.n + to] === 1;
  }

  drawLoss(from: number, to: number): boolean {
    const p = this.loss[from * this.n + to] as number;
    return p > 0 && this.rng.float() < p;
  }

  drawDuplicate(from: number, to: number): boolean {
    const p = this.dup[from * this.n + to] as number;
    return p > 0 && this.rng.float() < p;
  }

  /** Sets loss and duplication on every link touching `node` (or all links when node is null). */
  setFaultRates(node: number | null, loss: number, dup: number): void {
    assert(loss >= 0 && loss <= 1 && dup >= 0 && dup <= 1, () => `bad rates loss=${loss} dup=${dup}`);
    for (let a = 0; a < this.n; a++) {
      for (let b = 0; b < this.n; b++) {
        if (node !== null && a !== node && b !== node) continue;
        this.loss[a * this.n + b] = loss;
        this.dup[a * this.n + b] = dup;
      }
    }
  }

  setExtraDelay(ms: number): void {
    assert(ms >= 0, 'negative delay');
    this.extraDelayMs = ms;
  }

  get extraDelay(): number {
    return this.extraDelayMs;
  }

  /** The largest loss / duplication probability on any link (for the trace). */
  maxRates(): { loss: number; dup: number } {
    let loss = 0;
    let dup = 0;
    for (let i = 0; i < this.n * this.n; i++) {
      loss = Math.max(loss, this.loss[i] as number);
      dup = Math.max(dup, this.dup[i] as number);
    }
    return { loss, dup };
  }

  setPartition(p: Partition | null): void {
    assert(p === null || p.n === this.n, 'partition of another cluster size');
    this.partitionValue = p;
    this.blocked = p === null ? null : p.blocked;
  }

  get partition(): Partition | null {
    return this.partitionValue;
  }
}
