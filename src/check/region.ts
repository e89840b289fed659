// Facts about the candidates of one configuration: the call entries before
// the first return entry of Lowe's list, the operations that may take effect
// next. Computed at most once per configuration, when the search first needs
// them.

import type { EntryList } from './entries.js';
import { READ, WRITE, type PreparedKey } from './prepare.js';

export class CandidateRegion {
  /** Per value: equal to the stamp when an ok candidate can be reached from it (see usefulValue). */
  private readonly usefulAt: Int32Array;
  /** Ok writes and cas with the same effect form a class; per class, its candidate that returns first. */
  private readonly okClass: Int32Array;
  private readonly classAt: Int32Array;
  private readonly classFirst: Int32Array;
  private readonly infoCas: Int32Array;
  /** Per value: the first ok read candidate of it (valid where readAt equals the stamp). */
  private readonly readAt: Int32Array;
  private readonly readOp: Int32Array;
  private stamp = 0;

  constructor(private readonly p: PreparedKey) {
    this.usefulAt = new Int32Array(p.values.length);
    this.okClass = new Int32Array(p.n).fill(-1);
    const classes = new Map<string, number>();
    for (let i = 0; i < p.n; i++) {
      if (p.info[i] === 1 || p.kind[i] === READ) continue;
      const k = `${p.kind[i]}:${p.a[i]}:${p.b[i]}`;
      let c = classes.get(k);
      if (c === undefined) classes.set(k, (c = classes.size));
      this.okClass[i] = c;
    }
    this.classAt = new Int32Array(classes.size);
    this.classFirst = new Int32Array(classes.size);
    this.infoCas = new Int32Array(p.n);
    this.readAt = new Int32Array(p.values.length);
    this.readOp = new Int32Array(p.values.length);
  }

  /** Recomputes for the list as it is now, under a new stamp (never 0). */
  analyze(list: EntryList, stamp: number): void {
    const p = this.p;
    this.stamp = stamp;
    let infoCas = 0;
    for (let e = list.next[list.head] as number; e >= 0 && (e & 1) === 0; e = list.next[e] as number) {
      const o = e >> 1;
      if (p.info[o] === 1) {
        if (p.kind[o] !== WRITE) this.infoCas[infoCas++] = o;
        continue;
      }
      if (p.kind[o] !== WRITE) this.usefulAt[p.a[o] as number] = stamp;
      if (p.kind[o] === READ && this.readAt[p.a[o] as number] !== stamp) {
        this.readAt[p.a[o] as number] = stamp;
        this.readOp[p.a[o] as number] = o;
      }
      const c = this.okClass[o] as number;
      if (c >= 0 && (this.classAt[c] !== stamp || (p.ret[o] as number) < (p.ret[this.classFirst[c] as number] as number))) {
        this.classAt[c] = stamp;
        this.classFirst[c] = o;
      }
    }
    // Values info cas candidates turn into a useful value are useful too (a fixed point).
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = 0; k < infoCas; k++) {
        const c = this.infoCas[k] as number;
        if (this.usefulAt[p.b[c] as number] === stamp && this.usefulAt[p.a[c] as number] !== stamp) {
          this.usefulAt[p.a[c] as number] = stamp;
          changed = true;
        }
      }
    }
  }

  get analyzedAt(): number {
    return this.stamp;
  }

  /** The first candidate read that returned `value`, or -1. */
  readOf(value: number): number {
    return this.readAt[value] === this.stamp ? (this.readOp[value] as number) : -1;
  }

  /** Whether a run of candidate info cas can lead from `value` to an ok candidate that observes it. */
  usefulValue(value: number): boolean {
    return this.usefulAt[value] === this.stamp;
  }

  /**
   * Whether the ok write or cas `op` is the candidate of its class that
   * returns first. Two ok operations with the same effect that may both go
   * next can be swapped in any legal order so that the one that returns
   * first goes first; so only that one is tried.
   */
  firstOfClass(op: number): boolean {
    const c = this.okClass[op] as number;
    return c < 0 || this.classFirst[c] === op;
  }
}
