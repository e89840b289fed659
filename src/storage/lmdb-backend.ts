// The key-value state of a `synod node` member in LMDB (the `lmdb` package):
// a durable KvBackend, so that start-up reads a B-tree instead of decoding a
// snapshot and replaying history (docs/storage.md, "State in LMDB").
//
// Applied entries' KvBatches (versions, sessions, leases) are held for a few
// milliseconds (`writeDelayMs`) and then written together, with one state
// record (the applied index of the last), in one event-loop turn; lmdb-js
// commits every write of a turn in one transaction, off the main thread. So a
// transaction always holds whole batches with the meta of the last one: after
// a crash the store is exactly as of some applied index, and the log replays
// the committed entries after it. Nothing here waits for a disk: the WAL makes
// committed entries durable, and `flush()` is awaited only before the WAL may
// forget entries (the durability rule, src/server/durable-fold.ts). Holding
// batches back makes LMDB commit (and sync) tens of times a second rather
// than once per applied entry, so its syncs do not contend with the WAL's
// fdatasyncs that client replies wait for.
//
// Until lmdb-js reports a batch committed, it stays in `pending` (and its
// versions in an overlay), so that reads see every applied batch at once, as
// the KvBackend contract requires.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { assert } from '../core/assert.js';
import type { Database, RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import type { ClientId } from '../core/ids.js';
import { EMPTY_META, MemoryBackend } from '../kv/backend.js';
import type { KvBackend, KvBatch, KvMeta, KvState, LoadOptions, Revision, SessionRecord, SessionUpdate, StoredVersion } from '../kv/backend.js';
import type { Bytes } from '../kv/bytes.js';
import type { KvResult } from '../kv/command.js';
import type { LeaseRecord } from '../kv/leases.js';
import type { AuthState } from '../kv/auth.js';
import { decodeIndexRecord, decodeNumber, decodeSessionHeader, decodeState, encodeIndexRecord, encodeNumber, encodeSessionHeader, encodeState, revisionKey, revisionOfKey } from './lmdb-records.js';
import type { StateRecord } from './lmdb-records.js';

/** The layout version kept in the store; a store of another version is refused. */
export const LMDB_STATE_FORMAT = 1;
const STATE_KEY = 'state';
/** Users, roles and the enabled flag, one MessagePack record (small; written whole when it changes). */
const AUTH_KEY = 'auth';

export interface LmdbBackendOptions {
  /** Most applied batches waiting for LMDB to commit them (default 200,000); beyond it `apply` throws. */
  readonly maxPendingBatches?: number;
  /** How long applied batches wait before they are written, in ms (default 20). */
  readonly writeDelayMs?: number;
  /** Applied batches that, waiting, are written at once (default 1,000). */
  readonly maxHeldBatches?: number;
}

type PendingOp =
  | { readonly seq: number; readonly type: 'batch'; readonly batch: KvBatch }
  | { readonly seq: number; readonly type: 'reset'; readonly state: KvState };

/** An LMDB write failed: the store no longer follows the state machine; the member must restart. */
export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
}

const EMPTY = new Uint8Array(0);

export class LmdbBackend implements KvBackend {
  private readonly packr = new Packr({ useRecords: false, moreTypes: false });
  private readonly maxPending: number;
  /** Writes queued (apply/reset calls) over the store's life; the meta record carries the last committed one's. */
  private seq: number;
  private readonly pending: PendingOp[] = [];
  /** Versions of pending writes, by main then sub revision. */
  private readonly overlay = new Map<number, (StoredVersion | undefined)[]>();
  /** The lmdb-js batch promise the last write joined, and the seq of the last write in it. */
  private batch: { readonly promise: Promise<unknown>; lastSeq: number } | null = null;
  private appliedIssued: number;
  /** Applied batches (and resets) not yet handed to lmdb-js, oldest first; also in `pending`. */
  private held: PendingOp[] = [];
  /** The seq of the last op handed to lmdb-js. */
  private issuedSeq: number;
  private writeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly writeDelayMs: number;
  private readonly maxHeld: number;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    /** The store's directory. */
    private readonly path: string,
    private readonly env: RootDatabase,
    private readonly versions: Database<Buffer, Buffer>,
    private readonly values: Database<Buffer, Buffer>,
    private readonly sessions: Database<Buffer, string>,
    private readonly results: Database<Buffer, [string, number]>,
    private readonly leases: Database<Buffer, number>,
    private readonly metaDb: Database<Buffer, string>,
    options: LmdbBackendOptions,
  ) {
    this.maxPending = options.maxPendingBatches ?? 200_000;
    const stored = this.readState();
    this.seq = stored.seq;
    this.issuedSeq = stored.seq;
    this.appliedIssued = stored.meta.appliedIndex;
    this.writeDelayMs = options.writeDelayMs ?? 20;
    this.maxHeld = options.maxHeldBatches ?? 1000;
  }

  /** Opens (or creates) the store in directory `path`. Throws on a store of another layout version. */
  static open(path: string, options: LmdbBackendOptions = {}): LmdbBackend {
    // The map grows as needed; compression is off (values are small and hashed by clients).
    const env = open({ path, maxDbs: 8, compression: false });
    try {
      const db = <K extends string | number | Buffer | [string, number]>(name: string, keyEncoding?: 'binary'): Database<Buffer, K> =>
        env.openDB<Buffer, K>({ name, encoding: 'binary', ...(keyEncoding ? { keyEncoding } : {}) });
      return new LmdbBackend(path, env, db<Buffer>('versions', 'binary'), db<Buffer>('values', 'binary'), db<string>('sessions'), db<[string, number]>('results'), db<number>('leases'), db<string>('meta'), options);
    } catch (e) {
      void env.close();
      throw e;
    }
  }

  /** The applied index of the last batch handed to the store (durable once `flush()` resolves). */
  get appliedIndex(): number {
    return this.appliedIssued;
  }

  /** Batches applied but not yet committed by LMDB. */
  get pendingBatches(): number {
    return this.pending.length;
  }

  get(rev: Revision): StoredVersion | undefined {
    const o = this.overlay.get(rev.main)?.[rev.sub];
    if (o !== undefined) return o;
    const k = revisionKey(rev.main, rev.sub);
    const rec = this.versions.get(k);
    if (rec === undefined) return undefined;
    return decodeIndexRecord(rec, rev.main, rev.sub, this.storedValue(k) ?? EMPTY);
  }

  value(rev: Revision): Bytes | undefined {
    const o = this.overlay.get(rev.main)?.[rev.sub];
    if (o !== undefined) return o.value;
    return this.storedValue(revisionKey(rev.main, rev.sub));
  }

  private storedValue(k: Buffer): Bytes | undefined {
    const b = this.values.get(k);
    return b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  apply(batch: KvBatch): void {
    this.checkWritable();
    this.hold({ seq: this.seq + 1, type: 'batch', batch }, batch.meta);
    for (const v of batch.put) this.overlayAdd(v);
    if (this.held.length >= this.maxHeld) this.writeHeld();
    else if (this.writeTimer === null) this.writeTimer = setTimeout(() => this.writeHeld(), this.writeDelayMs);
  }

  /** Replaces the whole state in one LMDB transaction (every database cleared, then refilled). */
  reset(state: KvState): void {
    this.checkWritable();
    this.hold({ seq: this.seq + 1, type: 'reset', state }, state.meta);
    this.overlay.clear();
    for (const v of state.versions) this.overlayAdd(v);
    this.writeHeld();
  }

  /** Hands every held op to lmdb-js in this turn (one transaction), ending with the state record of the last. */
  private writeHeld(): void {
    if (this.writeTimer !== null) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    const ops = this.held;
    if (ops.length === 0 || this.closed || this.failure !== null) return;
    this.held = [];
    // Session changes of the held batches are folded per client and written once (see SessionWrites).
    let sessions = new SessionWrites();
    for (const op of ops) {
      this.issuedSeq = op.seq;
      if (op.type === 'batch') {
        this.writeBatch(op.batch, sessions);
      } else {
        this.writeSessions(sessions);
        sessions = new SessionWrites();
        this.writeReset(op.state);
      }
    }
    this.writeSessions(sessions);
    const last = ops[ops.length - 1] as PendingOp;
    const meta = last.type === 'batch' ? last.batch.meta : last.state.meta;
    this.track(this.metaDb.put(STATE_KEY, encodeState({ format: LMDB_STATE_FORMAT, seq: last.seq, meta })));
    // Invariant: the state record joined the batch being tracked, which now ends at the last op.
    assert(this.batch !== null, 'lmdb backend: a state write outside any batch');
    this.batch.lastSeq = last.seq;
  }

  private writeBatch(batch: KvBatch, sessions: SessionWrites): void {
    for (const v of batch.put) this.putVersion(v);
    for (const r of batch.remove) {
      const k = revisionKey(r.main, r.sub);
      this.track(this.versions.remove(k));
      this.track(this.values.remove(k));
    }
    for (const c of batch.evicted) sessions.evict(c);
    for (const u of batch.sessions) sessions.update(u);
    for (const l of batch.leases ?? []) this.track(this.leases.put(l.id, encodeNumber(l.ttl)));
    for (const id of batch.revokedLeases ?? []) this.track(this.leases.remove(id));
    if (batch.auth !== undefined) this.track(this.metaDb.put(AUTH_KEY, this.packr.pack(batch.auth)));
  }

  private writeReset(state: KvState): void {
    for (const db of [this.versions, this.values, this.sessions, this.results, this.leases]) this.track(db.clearAsync());
    for (const v of state.versions) this.putVersion(v);
    for (const s of state.sessions) {
      this.track(this.sessions.put(s.client, encodeSessionHeader(s.lastUsed, s.floor)));
      for (const [seq, result] of s.results) this.track(this.results.put([s.client, seq], this.packr.pack(result)));
    }
    for (const l of state.leases ?? []) this.track(this.leases.put(l.id, encodeNumber(l.ttl)));
    this.track(state.auth === undefined ? this.metaDb.remove(AUTH_KEY) : this.metaDb.put(AUTH_KEY, this.packr.pack(state.auth)));
  }

  load(options: LoadOptions = {}): KvState {
    const withValues = options.values !== false;
    const txn = this.env.useReadTransaction();
    let state: KvState;
    let storedSeq: number;
    try {
      const stored = this.readState(txn);
      storedSeq = stored.seq;
      const auth = this.metaDb.get(AUTH_KEY, { transaction: txn });
      state = { meta: stored.meta, versions: this.readVersions(txn, withValues), sessions: this.readSessions(txn), leases: this.readLeases(txn), ...(auth === undefined ? {} : { auth: this.packr.unpack(auth) as AuthState }) };
    } finally {
      txn.done();
    }
    const newer = this.pending.filter((p) => p.seq > storedSeq);
    if (newer.length === 0) return state;
    // Batches applied since the stored state: replay them over it in memory.
    const mem = new MemoryBackend();
    mem.reset(state);
    for (const p of newer) {
      if (p.type === 'batch') mem.apply(p.batch);
      else mem.reset(p.state);
    }
    return mem.load();
  }

  /**
   * Resolves once every batch applied so far is committed and synced to disk,
   * with the applied index that is now durable. Rejects if a write failed.
   */
  async flush(): Promise<number> {
    this.writeHeld();
    const target = this.appliedIssued;
    await this.env.flushed;
    if (this.failure !== null) throw this.failure;
    return target;
  }

  /** Waits for pending writes, then closes the store. */
  /**
   * etcd's dbSize and dbSizeInUse for Maintenance.Status: the data file's size,
   * and the pages LMDB has handed out so far (its high-water mark; pages freed
   * inside it are not subtracted).
   */
  sizes(): { fileBytes: number; usedBytes: number } {
    const stats = this.env.getStats() as { pageSize: number; lastPageNumber: number };
    let fileBytes = 0;
    try {
      fileBytes = statSync(join(this.path, 'data.mdb')).size;
    } catch { /* not there yet */ }
    return { fileBytes, usedBytes: (stats.lastPageNumber + 1) * stats.pageSize };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writeHeld();
    this.closed = true;
    await this.env.flushed;
    await this.env.close();
  }

  private checkWritable(): void {
    if (this.failure !== null) throw new StateStoreError(`the state store stopped after a failed write: ${this.failure.message}`);
    if (this.closed) throw new StateStoreError('the state store is closed');
    if (this.pending.length >= this.maxPending) {
      throw new StateStoreError(`the state store is not keeping up: ${this.pending.length} applied batches wait for LMDB to commit them (limit ${this.maxPending})`);
    }
  }

  private putVersion(v: StoredVersion): void {
    const k = revisionKey(v.main, v.sub);
    this.track(this.versions.put(k, encodeIndexRecord(v)));
    this.track(this.values.put(k, Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength)));
  }

  /** Writes the folded session changes: an evicted session's records go first, then what its client wrote after. */
  private writeSessions(sessions: SessionWrites): void {
    for (const [client, d] of sessions.byClient) {
      if (d.evicted) this.removeSession(client);
      if (d.header === null) continue;
      this.track(this.sessions.put(client, encodeSessionHeader(d.header.lastUsed, d.header.floor)));
      for (const seq of d.dropped) this.track(this.results.remove([client, seq]));
      for (const [seq, result] of d.saved) this.track(this.results.put([client, seq], this.packr.pack(result)));
    }
  }

  /** Removes a session and every result it holds: those stored, and those in batches not yet stored. */
  private removeSession(client: ClientId): void {
    const seqs = new Set<number>();
    for (const k of this.results.getKeys({ start: [client], end: [client, Infinity] })) seqs.add((k as [string, number])[1]);
    for (const p of this.pending) {
      if (p.type === 'reset') for (const s of p.state.sessions) if (s.client === client) for (const [seq] of s.results) seqs.add(seq);
      if (p.type === 'batch') for (const u of p.batch.sessions) if (u.client === client && u.saved !== undefined) seqs.add(u.saved[0]);
    }
    for (const seq of seqs) this.track(this.results.remove([client, seq]));
    this.track(this.sessions.remove(client));
  }

  /** Holds an op until it is written, and remembers it until LMDB has committed it. */
  private hold(op: PendingOp, meta: KvMeta): void {
    this.seq = op.seq;
    this.appliedIssued = meta.appliedIndex;
    this.pending.push(op);
    this.held.push(op);
  }

  /**
   * Every write of one lmdb-js batch shares one promise: watch each new one
   * once, to drop committed batches from `pending` and to note a failure.
   */
  private track(p: Promise<unknown>): void {
    if (this.batch !== null && this.batch.promise === p) return;
    const b = { promise: p, lastSeq: this.issuedSeq };
    this.batch = b;
    p.then(() => this.committed(b.lastSeq), (err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  private committed(seq: number): void {
    let n = 0;
    while (n < this.pending.length && (this.pending[n] as PendingOp).seq <= seq) n++;
    for (const p of this.pending.splice(0, n)) {
      const puts = p.type === 'batch' ? p.batch.put : p.state.versions;
      for (const v of puts) this.overlayDrop(v);
    }
  }

  private overlayAdd(v: StoredVersion): void {
    let items = this.overlay.get(v.main);
    if (items === undefined) this.overlay.set(v.main, (items = []));
    items[v.sub] = v;
  }

  /** Drops `v` from the overlay unless a later write replaced it. */
  private overlayDrop(v: StoredVersion): void {
    const items = this.overlay.get(v.main);
    if (items === undefined || items[v.sub] !== v) return;
    items[v.sub] = undefined;
    if (items.every((x) => x === undefined)) this.overlay.delete(v.main);
  }

  private readState(txn?: ReturnType<RootDatabase['useReadTransaction']>): StateRecord {
    const raw = this.metaDb.get(STATE_KEY, txn ? { transaction: txn } : undefined);
    if (raw === undefined) return { format: LMDB_STATE_FORMAT, seq: 0, meta: EMPTY_META };
    const s = decodeState(raw);
    if (s.format !== LMDB_STATE_FORMAT) throw new StateStoreError(`the state store has layout version ${String(s.format)}, this synod reads version ${LMDB_STATE_FORMAT}`);
    return s;
  }

  private readVersions(txn: ReturnType<RootDatabase['useReadTransaction']>, withValues: boolean): StoredVersion[] {
    const out: StoredVersion[] = [];
    for (const { key, value } of this.versions.getRange({ transaction: txn })) {
      const { main, sub } = revisionOfKey(key);
      let v: Bytes = EMPTY;
      if (withValues) {
        const b = this.values.get(key, { transaction: txn });
        if (b !== undefined) v = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      }
      out.push(decodeIndexRecord(value, main, sub, v));
    }
    return out;
  }

  private readSessions(txn: ReturnType<RootDatabase['useReadTransaction']>): SessionRecord[] {
    const results = new Map<string, [number, KvResult][]>();
    for (const { key, value } of this.results.getRange({ transaction: txn })) {
      const [client, seq] = key;
      let list = results.get(client);
      if (list === undefined) results.set(client, (list = []));
      list.push([seq, this.packr.unpack(value) as KvResult]);
    }
    const out: SessionRecord[] = [];
    for (const { key, value } of this.sessions.getRange({ transaction: txn })) {
      const { lastUsed, floor } = decodeSessionHeader(value);
      out.push({ client: key as ClientId, lastUsed, floor, results: results.get(key) ?? [] });
    }
    return out.sort((a, b) => a.lastUsed - b.lastUsed || (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
  }

  private readLeases(txn: ReturnType<RootDatabase['useReadTransaction']>): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (const { key, value } of this.leases.getRange({ transaction: txn })) out.push({ id: key, ttl: decodeNumber(value) });
    return out;
  }
}

/** One client's session changes over several batches, folded. */
interface SessionDelta {
  /** The session was evicted: its stored records are removed before anything below is written. */
  evicted: boolean;
  /** The header after the last update (null: evicted and not used again). */
  header: { readonly lastUsed: number; readonly floor: number } | null;
  /** Results saved and still kept at the end. */
  readonly saved: Map<number, KvResult>;
  /** Results stored before these batches and dropped by them. */
  readonly dropped: Set<number>;
}

/**
 * The session changes of the batches written in one transaction, folded per
 * client: each update rewrites the client's header, and most results saved
 * are dropped again a few dozen entries later (sessions.ts keeps the latest
 * per client), so writing only the end state of the transaction stores the
 * same records with a fraction of the writes. Nothing reads the store between
 * the batches of one transaction, and it commits whole or not at all.
 */
class SessionWrites {
  readonly byClient = new Map<ClientId, SessionDelta>();

  evict(client: ClientId): void {
    this.byClient.set(client, { evicted: true, header: null, saved: new Map(), dropped: new Set() });
  }

  update(u: SessionUpdate): void {
    let d = this.byClient.get(u.client);
    if (d === undefined) this.byClient.set(u.client, (d = { evicted: false, header: null, saved: new Map(), dropped: new Set() }));
    d.header = { lastUsed: u.lastUsed, floor: u.floor };
    if (u.saved !== undefined) d.saved.set(u.saved[0], u.saved[1]);
    // A result saved in these batches was never stored: dropping it only forgets it. (An evicted
    // session's stored results are all removed anyway.)
    for (const seq of u.dropped) if (!d.saved.delete(seq) && !d.evicted) d.dropped.add(seq);
  }
}
