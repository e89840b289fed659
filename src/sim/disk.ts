// A node's simulated disk. A persist is one write of a batch of records
// followed by an fsync; only when the fsync completes are the records durable.
// A crash keeps the synced records and, with torn writes enabled, a random
// prefix of the records of the persist that was in flight (the write reached
// the platters partly; record granularity, as a write-ahead log with
// checksummed records would recover it).

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';

export interface DiskConfig {
  /** Range of the write latency of one persist, ms. */
  readonly writeMs: readonly [number, number];
  /** Range of the base fsync latency, ms (plus an exponential tail of the same mean). */
  readonly fsyncMs: readonly [number, number];
}

export const DEFAULT_DISK: DiskConfig = { writeMs: [0.01, 0.05], fsyncMs: [0.1, 0.4] };

/** Limit on the records one disk keeps: a protocol that writes more in one run has a runaway loop. */
export const MAX_DURABLE_RECORDS = 2_000_000;

export interface CrashOutcome {
  /** Records of the in-flight persist that were lost. */
  readonly lost: number;
  /** Records of the in-flight persist that survived as a torn prefix. */
  readonly tornKept: number;
}

export class Disk<W> {
  /** Synced persists, one chunk each (flattened only when someone reads `durable`). */
  private readonly chunks: (readonly W[])[] = [];
  private syncedCount = 0;
  private flat: W[] | null = [];
  private inflight: readonly W[] | null = null;
  /** Latency multiplier while a slow-disk fault is active (1 = normal). */
  slowFactor = 1;

  constructor(private readonly rng: Prng, private readonly config: DiskConfig = DEFAULT_DISK) {}

  /** The records that would survive a crash now, oldest first. */
  get durable(): readonly W[] {
    if (this.flat === null) {
      const out: W[] = [];
      for (const c of this.chunks) for (const r of c) out.push(r);
      this.flat = out;
    }
    return this.flat;
  }

  get durableCount(): number {
    return this.syncedCount;
  }

  get busy(): boolean {
    return this.inflight !== null;
  }

  get inflightCount(): number {
    return this.inflight === null ? 0 : this.inflight.length;
  }

  /** Starts writing `records`; returns the ms until they are synced. */
  begin(records: readonly W[]): number {
    // Invariant: one persist at a time per node (the node is busy until it syncs).
    assert(this.inflight === null, 'a persist started while another is in flight');
    assert(records.length > 0, 'empty persist');
    this.inflight = records;
    const [w0, w1] = this.config.writeMs;
    const [f0, f1] = this.config.fsyncMs;
    const write = w0 + this.rng.float() * (w1 - w0);
    const fsyncBase = f0 + this.rng.float() * (f1 - f0);
    return (write + fsyncBase + this.rng.exponential(fsyncBase)) * this.slowFactor;
  }

  /** The fsync of the in-flight persist completed: its records are durable. */
  sync(): readonly W[] {
    const records = this.inflight;
    assert(records !== null, 'sync without a persist in flight');
    this.keep(records);
    this.inflight = null;
    return records;
  }

  /** Power loss: unsynced records are lost, or with `torn` a random prefix of them survives. */
  crash(torn: boolean): CrashOutcome {
    const records = this.inflight;
    this.inflight = null;
    if (records === null) return { lost: 0, tornKept: 0 };
    const kept = torn ? this.rng.int(0, records.length) : 0;
    if (kept > 0) this.keep(records.slice(0, kept));
    return { lost: records.length - kept, tornKept: kept };
  }

  private keep(records: readonly W[]): void {
    if (this.syncedCount + records.length > MAX_DURABLE_RECORDS) {
      throw new Error(`a node wrote more than ${MAX_DURABLE_RECORDS} durable records in one run`);
    }
    this.chunks.push(records);
    this.syncedCount += records.length;
    this.flat = null;
  }
}
