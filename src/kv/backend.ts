// Where the key-value state lives. The state machine keeps only its index
// (key -> revisions) and the session table in memory; every stored version
// (value included) goes through this interface, so a durable backend (LMDB, in
// src/storage/) can hold the data. Each applied log entry becomes exactly one
// `KvBatch`, which the backend must apply atomically, together with the applied
// index in `meta`: after a crash the store is exactly as of some applied entry.

import type { ClientId } from '../core/ids.js';
import type { AuthState } from './auth.js';
import type { Bytes } from './bytes.js';
import type { KvResult } from './command.js';
import type { LeaseRecord } from './leases.js';

/** A position in the store's history: etcd's (main, sub) revision. */
export interface Revision {
  /** The store revision of the write transaction. */
  readonly main: number;
  /** The change's position inside that transaction, from 0. */
  readonly sub: number;
}

/** One version of one key, as written at (main, sub); a tombstone marks a delete. */
export interface StoredVersion extends Revision {
  /** The key as a byte string (one char per byte, see bytes.ts). */
  readonly key: string;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: number;
  readonly value: Bytes;
  readonly tombstone: boolean;
}

/** A client session: the saved results of its latest requests (see sessions.ts). */
export interface SessionRecord {
  readonly client: ClientId;
  /** The log index that last used the session; least recently used sessions are evicted first. */
  readonly lastUsed: number;
  /** Requests with seq <= floor whose result is no longer kept are refused as stale. */
  readonly floor: number;
  readonly results: readonly (readonly [seq: number, result: KvResult])[];
}

/** What one applied entry changed in one session: O(1) to write, whatever the session holds. */
export interface SessionUpdate {
  readonly client: ClientId;
  readonly lastUsed: number;
  readonly floor: number;
  /** The result saved by this entry, if any. */
  readonly saved?: readonly [seq: number, result: KvResult];
  /** Results dropped by this entry (over the per-session bound). */
  readonly dropped: readonly number[];
}

export interface KvMeta {
  /** The last log index applied. */
  readonly appliedIndex: number;
  /** The store revision (etcd's header.revision). */
  readonly revision: number;
  /** Reads below this revision fail with 'compacted'. */
  readonly compactRevision: number;
  /** A hash chain over every applied command, for State Machine Safety checks ('' when disabled). */
  readonly chain: string;
}

/** The mutations one applied log entry makes. Apply all of it, or none. */
export interface KvBatch {
  readonly meta: KvMeta;
  /** New versions, in revision order. */
  readonly put: readonly StoredVersion[];
  /** Versions dropped by a compaction. */
  readonly remove: readonly Revision[];
  /** Sessions created or changed (a new session is one whose client the backend does not hold). */
  readonly sessions: readonly SessionUpdate[];
  /** Sessions evicted from the table, with all their results. */
  readonly evicted: readonly ClientId[];
  /** Leases granted. */
  readonly leases?: readonly LeaseRecord[];
  /** Leases revoked. */
  readonly revokedLeases?: readonly number[];
  /** The whole auth state, when this entry changed it. */
  readonly auth?: AuthState;
}

/** Everything the store holds: what a snapshot carries and what a backend loads on start. */
export interface KvState {
  readonly meta: KvMeta;
  /** Every retained version, in revision order. */
  readonly versions: readonly StoredVersion[];
  /** Every session, in any order (the table orders them by lastUsed). */
  readonly sessions: readonly SessionRecord[];
  /** Every lease (absent: none). */
  readonly leases?: readonly LeaseRecord[];
  /** Users, roles and whether auth is on (absent: none, off). */
  readonly auth?: AuthState;
}

export const EMPTY_META: KvMeta = { appliedIndex: 0, revision: 1, compactRevision: 0, chain: '' };

export interface LoadOptions {
  /**
   * False: the versions may come without their values (empty), for rebuilding
   * the in-memory index, which needs only their metadata. Default true.
   */
  readonly values?: boolean;
}

/**
 * The storage interface. Reads are synchronous (an LMDB read is). Writes come
 * only through `apply` (one per applied entry) and `reset` (install a snapshot).
 *
 * Durability may lag: a durable backend may make batches durable later (group
 * commit), provided (1) each batch becomes durable atomically and in order, so
 * the stored `meta.appliedIndex` always matches the stored data, and (2) `get`
 * and `load` see every batch at once (keep unflushed batches in an overlay).
 * After a crash the host resumes at the stored applied index and the log
 * re-delivers the entries after it: the log, not the backend, is the record.
 */
export interface KvBackend {
  /** The version stored at `rev`, if retained. */
  get(rev: Revision): StoredVersion | undefined;
  /** The value of the version stored at `rev`, if retained (a backend may answer it faster than `get`). */
  value?(rev: Revision): Bytes | undefined;
  /** Atomically: add `put`, drop `remove`, drop `evicted`, apply `sessions`, set `meta`. */
  apply(batch: KvBatch): void;
  /** The whole state: to rebuild the in-memory index on start (`values: false`), or for a snapshot. */
  load(options?: LoadOptions): KvState;
  /** Replace the whole state (a snapshot install), atomically. */
  reset(state: KvState): void;
}

/** The in-memory backend: the simulator's and the tests'. */
export class MemoryBackend implements KvBackend {
  /** Versions by main revision, then by sub-revision; `live` counts the retained ones. */
  private versions = new Map<number, { live: number; readonly items: (StoredVersion | undefined)[] }>();
  private sessions = new Map<ClientId, { lastUsed: number; floor: number; readonly results: Map<number, KvResult> }>();
  private leases = new Map<number, LeaseRecord>();
  private meta: KvMeta = EMPTY_META;
  private auth: AuthState | undefined;

  get(rev: Revision): StoredVersion | undefined {
    return this.versions.get(rev.main)?.items[rev.sub];
  }

  private add(v: StoredVersion): void {
    let txn = this.versions.get(v.main);
    if (txn === undefined) this.versions.set(v.main, (txn = { live: 0, items: [] }));
    if (txn.items[v.sub] === undefined) txn.live++;
    txn.items[v.sub] = v;
  }

  private drop(r: Revision): void {
    const txn = this.versions.get(r.main);
    if (txn === undefined || txn.items[r.sub] === undefined) return;
    txn.items[r.sub] = undefined;
    if (--txn.live === 0) this.versions.delete(r.main);
  }

  apply(batch: KvBatch): void {
    for (const v of batch.put) this.add(v);
    for (const r of batch.remove) this.drop(r);
    for (const c of batch.evicted) this.sessions.delete(c);
    for (const u of batch.sessions) {
      let s = this.sessions.get(u.client);
      if (s === undefined) this.sessions.set(u.client, (s = { lastUsed: u.lastUsed, floor: u.floor, results: new Map() }));
      s.lastUsed = u.lastUsed;
      s.floor = u.floor;
      if (u.saved !== undefined) s.results.set(u.saved[0], u.saved[1]);
      for (const seq of u.dropped) s.results.delete(seq);
    }
    for (const l of batch.leases ?? []) this.leases.set(l.id, l);
    for (const id of batch.revokedLeases ?? []) this.leases.delete(id);
    if (batch.auth !== undefined) this.auth = batch.auth;
    this.meta = batch.meta;
  }

  load(): KvState {
    const versions: StoredVersion[] = [];
    const mains = [...this.versions.keys()].sort((a, b) => a - b);
    for (const m of mains) for (const v of this.versions.get(m)?.items ?? []) if (v !== undefined) versions.push(v);
    // Sessions by recency and leases by id, so that equal states load (and snapshot) identically.
    const sessions: SessionRecord[] = [...this.sessions]
      .map(([client, s]) => ({ client, lastUsed: s.lastUsed, floor: s.floor, results: [...s.results].sort((a, b) => a[0] - b[0]) }))
      .sort((a, b) => a.lastUsed - b.lastUsed || (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
    const leases = [...this.leases.values()].sort((a, b) => a.id - b.id);
    return { meta: this.meta, versions, sessions, leases, ...(this.auth === undefined ? {} : { auth: this.auth }) };
  }

  reset(state: KvState): void {
    this.versions = new Map();
    for (const v of state.versions) this.add(v);
    this.sessions = new Map(state.sessions.map((s) => [s.client, { lastUsed: s.lastUsed, floor: s.floor, results: new Map(s.results) }]));
    this.leases = new Map((state.leases ?? []).map((l) => [l.id, l]));
    this.auth = state.auth;
    this.meta = state.meta;
  }
}
