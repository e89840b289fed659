// The MVCC store (etcd's mvcc package, in miniature): a revision that grows by
// one per write transaction, versions per key, reads at any revision not yet
// compacted. Writes go through a `Writer`, one per applied log entry, whose
// changes become one `KvBatch` for the backend.

import { assert } from '../core/assert.js';
import { crc32c } from '../core/crc32c.js';
import type { KvBackend, Revision, StoredVersion } from './backend.js';
import { fromByteString, toByteString } from './bytes.js';
import type { Bytes } from './bytes.js';
import { ERROR_MESSAGES, kvError } from './command.js';
import type { DeleteRangeResponse, KeyValue, KvError, PutRequest, PutResponse, DeleteRangeRequest } from './command.js';
import { LeaseTable } from './leases.js';
import type { LeaseRecord } from './leases.js';
import { entryOf, MvccIndex } from './mvcc-index.js';
import type { IndexEntry } from './mvcc-index.js';
import { isSingleKey, toInterval } from './range.js';
import type { Interval } from './range.js';

const EMPTY = new Uint8Array(0);

/** The changes of one write transaction, not yet in the backend. */
export class Writer {
  readonly main: number;
  private sub = 0;
  /** The new versions, indexed by sub-revision. */
  readonly put: StoredVersion[] = [];
  /** put[i] replaced a live version attached to lease replaced[i] (0: none). */
  private readonly replaced: number[] = [];

  constructor(readonly store: MvccStore) {
    this.main = store.revision + 1;
  }

  get changed(): boolean {
    return this.sub > 0;
  }

  /** The revision reads see: the new one once this transaction has written (etcd: rev+1 when changes exist). */
  get readRevision(): number {
    return this.changed ? this.main : this.store.revision;
  }

  pendingVersion(rev: Revision): StoredVersion | undefined {
    return rev.main === this.main ? this.put[rev.sub] : undefined;
  }

  /** `replacedLease`: the lease of the key's live version, when the caller has looked it up already. */
  add(v: Omit<StoredVersion, 'main' | 'sub'>, replacedLease?: number): StoredVersion {
    // One object shape for every version (no spread): the index and the backend see it monomorphic.
    const stored: StoredVersion = { key: v.key, main: this.main, sub: this.sub++, createRevision: v.createRevision, version: v.version, lease: v.lease, value: v.value, tombstone: v.tombstone };
    // Invariant: put[sub] is the version written at sub-revision sub.
    assert(this.put.length === stored.sub, 'mvcc: writer sub-revisions out of step');
    this.put.push(stored);
    this.replaced.push(replacedLease ?? this.store.index.latest(stored.key)?.lease ?? 0);
    this.store.index.append(stored.key, entryOf(stored));
    return stored;
  }

  /** Moves the written keys between leases (on commit). */
  moveLeases(leases: LeaseTable): void {
    this.put.forEach((v, i) => leases.move(v.key, this.replaced[i] ?? 0, v.tombstone ? 0 : v.lease));
  }

  /** Takes every change back out of the index (the transaction failed). */
  abort(): void {
    for (let i = this.put.length - 1; i >= 0; i--) this.store.index.popLast((this.put[i] as StoredVersion).key);
    this.put.length = 0;
    this.replaced.length = 0;
    this.sub = 0;
  }
}

export class MvccStore {
  readonly index = new MvccIndex();
  readonly leases = new LeaseTable();
  revision = 1;
  compactRevision = 0;

  constructor(readonly backend: KvBackend) {}

  /** Rebuilds the index from stored versions (in revision order). */
  load(versions: readonly StoredVersion[], revision: number, compactRevision: number, leases: readonly LeaseRecord[]): void {
    this.index.clear();
    for (const v of versions) this.index.append(v.key, entryOf(v));
    this.leases.load(leases, this.index.liveLeases());
    this.revision = revision;
    this.compactRevision = compactRevision;
  }

  /** Full key-value of an index entry; the value from the backend or from the open writer. */
  keyValue(key: string, e: IndexEntry, w: Writer | null, withValue = true): KeyValue {
    let value: Bytes = EMPTY;
    if (withValue) {
      const stored = w?.pendingVersion(e)?.value ?? (this.backend.value !== undefined ? this.backend.value(e) : this.backend.get(e)?.value);
      // Invariant: every indexed version is in the backend or in the open writer.
      assert(stored !== undefined, () => `mvcc: version ${e.main}.${e.sub} missing from the backend`);
      value = stored;
    }
    return { key: fromByteString(key), createRevision: e.createRevision, modRevision: e.main, version: e.version, value, lease: e.lease };
  }

  /** Checks a read revision (0 or less: current) against compaction; etcd's rangeKeys rules. */
  readAt(requested: number | undefined, w: Writer | null): number | KvError {
    const current = w?.readRevision ?? this.revision;
    const rev = requested ?? 0;
    if (rev > this.revision) return kvError('future-revision', ERROR_MESSAGES['future-revision']);
    if (rev <= 0) return current;
    if (rev < this.compactRevision) return kvError('compacted', ERROR_MESSAGES.compacted);
    return rev;
  }

  /** Keys live at `rev` within `iv`, ascending, with their index entries. */
  /** As liveIn, as an array; a single key skips the scan (the common etcd Get). */
  liveList(iv: Interval, rev: number): (readonly [string, IndexEntry])[] {
    if (isSingleKey(iv)) {
      const e = this.index.at(iv.start, rev);
      return e === undefined || e.tombstone ? [] : [[iv.start, e]];
    }
    return [...this.liveIn(iv, rev)];
  }

  *liveIn(iv: Interval, rev: number): Generator<readonly [string, IndexEntry]> {
    for (const k of this.index.keysIn(iv)) {
      const e = this.index.at(k, rev);
      if (e !== undefined && !e.tombstone) yield [k, e];
    }
  }

  put(req: PutRequest, w: Writer): PutResponse | KvError {
    const key = toByteString(req.key);
    const prev = this.index.latest(key);
    const ignore = req.ignoreValue === true || req.ignoreLease === true;
    if (ignore && prev === undefined) return kvError('key-not-found', ERROR_MESSAGES['key-not-found']);
    const lease = req.ignoreLease === true && prev ? prev.lease : (req.lease ?? 0);
    if (lease !== 0 && !this.leases.has(lease)) return kvError('lease-not-found', ERROR_MESSAGES['lease-not-found']);
    // The previous value is read (from the backend) only when the request uses it.
    const prevKv = prev === undefined ? undefined : this.keyValue(key, prev, w, req.prevKv === true || req.ignoreValue === true);
    w.add({
      key,
      createRevision: prev?.createRevision ?? w.main,
      version: (prev?.version ?? 0) + 1,
      lease,
      value: req.ignoreValue === true && prevKv ? prevKv.value : req.value,
      tombstone: false,
    }, prev?.lease ?? 0);
    return req.prevKv === true && prevKv !== undefined ? { type: 'put', prevKv } : { type: 'put' };
  }

  deleteRange(req: DeleteRangeRequest, w: Writer): DeleteRangeResponse {
    const found = this.liveList(toInterval(req), w.readRevision);
    const prevKvs: KeyValue[] = [];
    for (const [key, e] of found) {
      if (req.prevKv === true) prevKvs.push(this.keyValue(key, e, w));
      this.tombstone(key, w);
    }
    return { type: 'delete-range', deleted: found.length, prevKvs };
  }

  /** Deletes one live key. */
  tombstone(key: string, w: Writer): void {
    w.add({ key, createRevision: 0, version: 0, lease: 0, value: EMPTY, tombstone: true });
  }

  /** etcd's Compact: drop history below `rev`; the revision does not move. */
  compact(rev: number): Revision[] | KvError {
    if (rev <= this.compactRevision) return kvError('compacted', ERROR_MESSAGES.compacted);
    if (rev > this.revision) return kvError('future-revision', ERROR_MESSAGES['future-revision']);
    this.compactRevision = rev;
    return this.index.compact(rev);
  }

  /**
   * etcd's HashKV: a CRC-32C over every retained version at or below `rev`
   * (0: the current revision), keys ascending, each key's versions oldest
   * first. Members that applied the same history (and the same compactions)
   * answer the same hash for the same revision, whatever else they applied
   * since; the bytes hashed are synod's, so the value differs from etcd's.
   */
  hashKV(requested: number): { hash: number; revision: number } | KvError {
    const rev = this.readAt(requested, null);
    if (typeof rev !== 'number') return rev;
    const head = new Uint8Array(48);
    const view = new DataView(head.buffer);
    let crc = 0;
    for (const key of this.index.keysIn({ start: '', end: null })) {
      for (const e of this.index.versionsOf(key)) {
        if (e.main > rev) break;
        const kv = this.keyValue(key, e, null, !e.tombstone);
        view.setFloat64(0, e.main);
        view.setFloat64(8, e.sub);
        view.setFloat64(16, e.createRevision);
        view.setFloat64(24, e.version);
        view.setFloat64(32, e.lease);
        view.setUint32(40, kv.key.length);
        view.setUint32(44, e.tombstone ? 0xffffffff : kv.value.length);
        crc = crc32c(head, crc);
        crc = crc32c(kv.key, crc);
        crc = crc32c(kv.value, crc);
      }
    }
    return { hash: crc >>> 0, revision: rev };
  }

  /** Ends a write transaction: the revision moves by one if anything changed. */
  commit(w: Writer): void {
    if (w.changed) {
      assert(w.main === this.revision + 1, 'mvcc: writers must commit in order');
      this.revision = w.main;
      w.moveLeases(this.leases);
    }
  }
}
