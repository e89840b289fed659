// A sorted set of byte-string keys for range scans: sorted chunks of at most
// CHUNK keys (a one-level B+-tree). Insert and delete cost O(log n + CHUNK)
// instead of the O(n) of splicing one big array, so filling a store in random
// key order stays linear-ish.

import { assert } from '../core/assert.js';

const CHUNK = 512;

/** First position in sorted `keys` whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeys {
  /** Invariant: every chunk non-empty and sorted; chunk i's keys all below chunk i+1's. */
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The chunk that holds, or would hold, `key`: the first whose last key is >= key (else the last). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid] as string[];
      if ((c[c.length - 1] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `key`; it must not be present. */
  insert(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(key);
    const c = this.chunks[ci] as string[];
    const at = lowerBound(c, key);
    assert(c[at] !== key, 'sorted keys: insert of a key already present');
    c.splice(at, 0, key);
    this.count++;
    if (c.length > CHUNK) this.chunks.splice(ci + 1, 0, c.splice(CHUNK / 2));
  }

  /** Removes `key`; it must be present. */
  remove(key: string): void {
    const ci = this.chunks.length === 0 ? -1 : this.chunkFor(key);
    const c = this.chunks[ci];
    const at = c === undefined ? -1 : lowerBound(c, key);
    assert(c !== undefined && c[at] === key, 'sorted keys: remove of a key not present');
    c.splice(at, 1);
    this.count--;
    if (c.length === 0) this.chunks.splice(ci, 1);
  }

  /** Removes every key in `gone` in one pass. */
  removeAll(gone: ReadonlySet<string>): void {
    const next: string[][] = [];
    for (const c of this.chunks) {
      const kept = c.filter((k) => !gone.has(k));
      if (kept.length > 0) next.push(kept);
    }
    this.chunks = next;
    this.count = next.reduce((n, c) => n + c.length, 0);
  }

  /** Keys >= `start`, ascending. */
  *from(start: string): Generator<string> {
    if (this.chunks.length === 0) return;
    let ci = this.chunkFor(start);
    let i = lowerBound(this.chunks[ci] as string[], start);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci] as string[];
      for (; i < c.length; i++) yield c[i] as string;
    }
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }
}
