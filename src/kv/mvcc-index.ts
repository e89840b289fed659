// The in-memory MVCC index (etcd's treeIndex): for every key, the revisions of
// its retained versions, oldest first, with the metadata needed to answer
// compares without reading values. Keys are byte strings kept in sorted order
// for range scans. Values stay in the backend.

import { assert } from '../core/assert.js';
import type { Revision, StoredVersion } from './backend.js';
import type { Interval } from './range.js';
import { isSingleKey } from './range.js';
import { SortedKeys } from './sorted-keys.js';

export interface IndexEntry extends Revision {
  readonly createRevision: number;
  readonly version: number;
  readonly lease: number;
  readonly tombstone: boolean;
}

export function entryOf(v: StoredVersion): IndexEntry {
  return { main: v.main, sub: v.sub, createRevision: v.createRevision, version: v.version, lease: v.lease, tombstone: v.tombstone };
}

const before = (a: Revision, b: Revision): boolean => a.main < b.main || (a.main === b.main && a.sub < b.sub);

export class MvccIndex {
  private readonly byKey = new Map<string, IndexEntry[]>();
  /** Invariant: exactly the keys of byKey. */
  private readonly sorted = new SortedKeys();
  private live = 0;

  /** Keys whose newest version is not a tombstone. */
  get liveKeys(): number {
    return this.live;
  }

  /** Adds a newer version of `key`. */
  append(key: string, e: IndexEntry): void {
    let h = this.byKey.get(key);
    if (h === undefined) {
      h = [];
      this.byKey.set(key, h);
      this.sorted.insert(key);
    }
    const last = h[h.length - 1];
    // Invariant: a key's versions are in strictly increasing revision order.
    assert(last === undefined || before(last, e), () => `index: version of ${JSON.stringify(key)} out of order`);
    this.live += (e.tombstone ? 0 : 1) - (last !== undefined && !last.tombstone ? 1 : 0);
    h.push(e);
  }

  /** Undoes the last `append` of `key` (a transaction that failed part-way). */
  popLast(key: string): void {
    const h = this.byKey.get(key);
    assert(h !== undefined && h.length > 0, 'index: popLast on a key without versions');
    const gone = h.pop() as IndexEntry;
    const now = h[h.length - 1];
    this.live += (now !== undefined && !now.tombstone ? 1 : 0) - (gone.tombstone ? 0 : 1);
    if (h.length === 0) this.removeKey(key);
  }

  private removeKey(key: string): void {
    this.byKey.delete(key);
    this.sorted.remove(key);
  }

  /** The newest version of `key` at or below main revision `rev` (a tombstone included). */
  at(key: string, rev: number): IndexEntry | undefined {
    const h = this.byKey.get(key);
    if (h === undefined) return undefined;
    for (let i = h.length - 1; i >= 0; i--) {
      const e = h[i] as IndexEntry;
      if (e.main <= rev) return e;
    }
    return undefined;
  }

  /** Every retained version of `key`, oldest first (do not mutate). */
  versionsOf(key: string): readonly IndexEntry[] {
    return this.byKey.get(key) ?? [];
  }

  /** The newest live version of `key`, if the key exists now. */
  latest(key: string): IndexEntry | undefined {
    const h = this.byKey.get(key);
    const e = h?.[h.length - 1];
    return e === undefined || e.tombstone ? undefined : e;
  }

  /** Every indexed key in `iv`, ascending (keys with only a tombstone included). */
  *keysIn(iv: Interval): Generator<string> {
    if (isSingleKey(iv)) {
      if (this.byKey.has(iv.start)) yield iv.start;
      return;
    }
    if (iv.end !== null && iv.end <= iv.start) return;
    for (const k of this.sorted.from(iv.start)) {
      if (iv.end !== null && k >= iv.end) return;
      yield k;
    }
  }

  /**
   * etcd's compaction: for each key keep every version above `rev` and the
   * newest one at or below it, unless that one is a tombstone. Returns the
   * revisions dropped, for the backend.
   */
  compact(rev: number): Revision[] {
    const removed: Revision[] = [];
    const emptied = new Set<string>();
    for (const [key, h] of this.byKey) {
      let keep = h.length;
      while (keep > 0 && (h[keep - 1] as IndexEntry).main > rev) keep--;
      // h[keep-1] is the newest version at or below rev: drop everything before it,
      // and it too when it is a tombstone (the key did not exist at rev).
      let drop = keep - 1;
      if (drop >= 0 && (h[drop] as IndexEntry).tombstone) drop++;
      if (drop <= 0) continue;
      for (const e of h.splice(0, drop)) removed.push({ main: e.main, sub: e.sub });
      if (h.length === 0) emptied.add(key);
    }
    if (emptied.size > 0) {
      for (const k of emptied) this.byKey.delete(k);
      this.sorted.removeAll(emptied);
    }
    return removed;
  }

  /** Every key that exists now, with the lease of its live version. */
  *liveLeases(): Generator<readonly [string, number]> {
    for (const [key, h] of this.byKey) {
      const e = h[h.length - 1];
      if (e !== undefined && !e.tombstone) yield [key, e.lease];
    }
  }

  clear(): void {
    this.byKey.clear();
    this.sorted.clear();
    this.live = 0;
  }

  /** Number of indexed keys, tombstoned ones included. */
  get size(): number {
    // Invariant: the sorted keys and the map hold the same keys.
    assert(this.sorted.size === this.byKey.size, 'index: sorted keys out of step with the map');
    return this.byKey.size;
  }
}
