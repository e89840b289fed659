// The replicated key-value state machine: applies committed KvCommands in log
// order with etcd v3 MVCC semantics and exactly-once client sessions. Pure and
// deterministic: every replica that applies the same entries holds the same
// state and returns the same results. Storage is behind `KvBackend`.

import { assert, assertNever } from '../core/assert.js';
import type { ClientId, LogIndex } from '../core/ids.js';
import type { KvBackend, KvBatch, KvMeta, KvState, Revision, SessionRecord } from './backend.js';
import { MemoryBackend } from './backend.js';
import { AuthStore, authError } from './auth.js';
import type { AuthState } from './auth.js';
import { ERROR_MESSAGES, kvError } from './command.js';
import type { KeyRange, KeyValue, KvCommand, KvError, KvRead, KvResponse, KvResult, KvWriteOp, LeaseGrantRequest, LeaseGrantResponse, LeaseRevokeResponse, RangeRequest } from './command.js';
import { fromByteString } from './bytes.js';
import type { LeaseRecord } from './leases.js';
import { changesSince } from './changes.js';
import type { ChangesResult } from './changes.js';
import { changesOfWrite } from './change-feed.js';
import type { ChangeListener } from './change-feed.js';
import { executeRange, executeTxn, isError } from './execute.js';
import { chainHash } from './fingerprint.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { KvLimits } from './limits.js';
import { Writer, MvccStore } from './mvcc.js';
import { DEFAULT_SESSION_LIMITS, SessionTable } from './sessions.js';
import type { SessionChange, SessionLimits } from './sessions.js';
import { SNAPSHOT_FORMAT } from './snapshot.js';
import type { KvSnapshot } from './snapshot.js';
import { validateCommand, validateOp, validateRange, validateRead } from './validate.js';

/** What one applied command changed besides versions and sessions. */
interface Outcome {
  readonly result: KvResult;
  removed: Revision[];
  granted: LeaseRecord[];
  revoked: number[];
  /** The auth state after an auth change. */
  auth?: AuthState;
}

/** Shared by every outcome that changes nothing of the kind (frozen: never pushed to). */
const NOTHING: Readonly<Omit<Outcome, 'result'>> = Object.freeze({
  removed: Object.freeze([]) as unknown as Revision[],
  granted: Object.freeze([]) as unknown as LeaseRecord[],
  revoked: Object.freeze([]) as unknown as number[],
});

export interface KvStateMachineOptions {
  /** Defaults to a fresh MemoryBackend. A backend with state resumes from it. */
  readonly backend?: KvBackend;
  readonly limits?: Partial<KvLimits>;
  /** Must be the same on every replica: eviction decides results. */
  readonly sessions?: Partial<SessionLimits>;
  /** Keep the hash chain over applied commands (default true). */
  readonly fingerprint?: boolean;
}

export class KvStateMachine {
  readonly limits: KvLimits;
  private readonly backend: KvBackend;
  private readonly store: MvccStore;
  private readonly sessions: SessionTable;
  /** Users, roles and permissions (read by the server to check requests). */
  readonly auth = new AuthStore();
  private readonly fingerprint: boolean;
  private applied = 0;
  private chainValue = '';
  private changeListener: ChangeListener | null = null;
  /** False while the listener has nobody to tell: the write's events are not built. */
  private changeWanted: () => boolean = () => true;

  constructor(opts: KvStateMachineOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.backend = opts.backend ?? new MemoryBackend();
    this.store = new MvccStore(this.backend);
    this.sessions = new SessionTable({ ...DEFAULT_SESSION_LIMITS, ...opts.sessions });
    this.fingerprint = opts.fingerprint ?? true;
    this.reload();
  }

  /** Rebuilds the in-memory index and sessions from the backend (values stay there), or from a state just stored. */
  private reload(state: KvState = this.backend.load({ values: false })): void {
    this.store.load(state.versions, state.meta.revision, state.meta.compactRevision, state.leases ?? []);
    this.sessions.load(state.sessions);
    this.auth.load(state.auth);
    this.applied = state.meta.appliedIndex;
    this.chainValue = state.meta.chain;
  }

  get appliedIndex(): LogIndex {
    return this.applied as LogIndex;
  }
  get revision(): number {
    return this.store.revision;
  }
  get compactRevision(): number {
    return this.store.compactRevision;
  }
  /** The hash chain over applied commands through `appliedIndex` ('' when disabled or nothing applied). */
  get chain(): string {
    return this.chainValue;
  }
  /** Keys that exist now. */
  get keyCount(): number {
    return this.store.index.liveKeys;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The saved result of (client, seq), if that request was applied and is still remembered. */
  savedResult(client: ClientId, seq: number): KvResult | undefined {
    if (seq === 0) return undefined;
    const l = this.sessions.lookup(client, seq);
    return l.kind === 'saved' ? l.result : undefined;
  }

  /** Checks a read before it is served; null when it is acceptable. */
  validateRange(req: RangeRequest): KvError | null {
    return validateRange(req, this.limits);
  }

  /** Checks a command before it is proposed; null when it is acceptable. */
  validate(cmd: KvCommand): KvError | null {
    return validateCommand(cmd, this.limits);
  }

  /**
   * Applies the committed entry at `index` (exactly appliedIndex + 1). A null
   * command (the log's own no-op or configuration entry) only advances the
   * applied index. Returns the command's result, or null for a null command.
   */
  apply(index: LogIndex, command: KvCommand | null): KvResult | null {
    // Invariant: entries are applied in log order, each once (Raft §5.3).
    assert(index === this.applied + 1, () => `kv: applying index ${index} after ${this.applied}`);
    if (this.fingerprint) this.chainValue = chainHash(this.chainValue, index, command);
    this.applied = index;
    if (command === null) {
      this.backend.apply(this.batch([], NOTHING, null));
      return null;
    }
    if (command.seq > 0) {
      const seen = this.sessions.lookup(command.client, command.seq);
      if (seen.kind === 'saved') {
        this.backend.apply(this.batch([], NOTHING, this.sessions.touch(command.client, index)));
        return seen.result;
      }
      if (seen.kind === 'stale') {
        this.backend.apply(this.batch([], NOTHING, this.sessions.touch(command.client, index)));
        return this.failure(kvError('stale-sequence', ERROR_MESSAGES['stale-sequence']));
      }
    }
    const w = new Writer(this.store);
    // Once auth is on, every client command is checked here, against the state it applies to (etcd's apply-time check).
    const denied = this.auth.enabled && command.internal !== true ? this.authorize(command) : null;
    const out = denied === null ? this.execute(command.op, w, index) : { ...NOTHING, result: this.failure(denied) };
    const change = command.seq > 0 ? this.sessions.save(command.client, command.seq, out.result, index) : null;
    this.backend.apply(this.batch(w.put, out, change));
    // The events (with previous values read back from the backend) are built only while someone watches.
    if (this.changeListener !== null && w.put.length > 0 && this.changeWanted()) this.changeListener(this.store.revision, changesOfWrite(this.store, w.put));
    return out.result;
  }

  private failure(error: KvError): KvResult {
    return { ok: false, revision: this.store.revision, error };
  }

  private execute(op: KvWriteOp, w: Writer, index: number): Outcome {
    const invalid = validateOp(op, this.limits);
    if (invalid) return { removed: NOTHING.removed, granted: NOTHING.granted, revoked: NOTHING.revoked, result: this.failure(invalid) };
    let response: KvResponse | KvError;
    // Shared empty arrays until an op has something to say (most are puts): fewer objects per entry.
    const out: Omit<Outcome, 'result'> = { removed: NOTHING.removed, granted: NOTHING.granted, revoked: NOTHING.revoked };
    switch (op.type) {
      case 'put':
        response = this.store.put(op, w);
        break;
      case 'delete-range':
        response = this.store.deleteRange(op, w);
        break;
      case 'txn':
        response = executeTxn(this.store, op, w);
        break;
      case 'compact': {
        const r = this.store.compact(op.revision);
        if (Array.isArray(r)) [out.removed, response] = [r, { type: 'compact' }];
        else response = r;
        break;
      }
      case 'lease-grant':
        response = this.grantLease(op, index);
        if (!isError(response)) out.granted = [{ id: response.id, ttl: response.ttl }];
        break;
      case 'lease-revoke':
        response = this.revokeLease(op.id, w);
        if (!isError(response)) out.revoked = [op.id];
        break;
      case 'auth': {
        const before = this.auth.revision;
        response = this.auth.apply(op.change);
        if (this.auth.revision !== before) out.auth = this.auth.snapshot();
        break;
      }
      default:
        return assertNever(op, 'kv write op');
    }
    if (isError(response)) {
      w.abort();
      return { removed: NOTHING.removed, granted: NOTHING.granted, revoked: NOTHING.revoked, result: this.failure(response) };
    }
    this.store.commit(w);
    return { removed: out.removed, granted: out.granted, revoked: out.revoked, ...(out.auth === undefined ? {} : { auth: out.auth }), result: { ok: true, revision: this.store.revision, response } };
  }

  /** Why `cmd` may not run for its user now, or null. */
  private authorize(cmd: KvCommand): KvError | null {
    const user = cmd.user ?? '';
    if (user === '') return authError('user-empty');
    if (this.auth.user(user) === undefined) return authError('invalid-auth-token');
    const op = cmd.op;
    if (op.type === 'lease-revoke') {
      // Revoking deletes the lease's keys: write permission on each.
      if (this.auth.isAdmin(user)) return null;
      const keys = this.store.leases.has(op.id) ? this.store.leases.keysOf(op.id) : [];
      return keys.every((k) => this.auth.permitted(user, 'write', fromByteString(k))) ? null : authError('permission-denied');
    }
    return this.auth.permittedOp(user, op) ? null : authError('permission-denied');
  }

  /** etcd's LeaseGrant; id 0 takes the grant's log index (or the next free id), the same on every replica. */
  private grantLease(op: LeaseGrantRequest, index: number): LeaseGrantResponse | KvError {
    const id = this.store.leases.pickId(op.id, index);
    if (this.store.leases.has(id)) return kvError('lease-exists', ERROR_MESSAGES['lease-exists']);
    this.store.leases.grant({ id, ttl: op.ttl });
    return { type: 'lease-grant', id, ttl: op.ttl };
  }

  /** etcd's LeaseRevoke: the lease's keys are deleted in one revision, in key order. */
  private revokeLease(id: number, w: Writer): LeaseRevokeResponse | KvError {
    if (!this.store.leases.has(id)) return kvError('lease-not-found', ERROR_MESSAGES['lease-not-found']);
    const keys = this.store.leases.revoke(id);
    for (const key of keys) this.store.tombstone(key, w);
    return { type: 'lease-revoke', deleted: keys.length };
  }

  private batch(put: KvBatch['put'], out: Omit<Outcome, 'result'>, change: SessionChange | null): KvBatch {
    return {
      meta: this.meta(),
      put,
      remove: out.removed,
      sessions: change ? [change.update] : [],
      evicted: change ? change.evicted : [],
      leases: out.granted,
      revokedLeases: out.revoked,
      ...(out.auth === undefined ? {} : { auth: out.auth }),
    };
  }

  private meta(): KvMeta {
    return { appliedIndex: this.applied, revision: this.store.revision, compactRevision: this.store.compactRevision, chain: this.chainValue };
  }

  /** Checks a read before it is served; null when it is acceptable. */
  validateRead(r: KvRead): KvError | null {
    return validateRead(r, this.limits);
  }

  /** A read of the current state: a range or a lease query (serve linearizable reads once appliedIndex >= the read index). */
  read(r: KvRead): KvResult {
    switch (r.type) {
      case 'range':
        return this.range(r);
      case 'lease-time-to-live': {
        const lease = this.store.leases.get(r.id);
        if (lease === undefined) return this.failure(kvError('lease-not-found', ERROR_MESSAGES['lease-not-found']));
        const keys = r.keys === true ? this.store.leases.keysOf(r.id).map(fromByteString) : [];
        return { ok: true, revision: this.store.revision, response: { type: 'lease-time-to-live', id: lease.id, grantedTtl: lease.ttl, keys } };
      }
      case 'lease-leases':
        return { ok: true, revision: this.store.revision, response: { type: 'lease-leases', leases: this.store.leases.records() } };
      default:
        return assertNever(r, 'kv read');
    }
  }

  /**
   * etcd Watch support: the changes to keys in `range` at or after
   * `fromRevision` (at most `limit`), in revision order; fails with the compact
   * revision when `fromRevision` is below it.
   */
  changes(range: KeyRange, fromRevision: number, limit = 1000): ChangesResult {
    return changesSince(this.store, range, fromRevision, limit);
  }

  /** Every lease, by id (the leader's expiry clock starts from these). */
  leases(): LeaseRecord[] {
    return this.store.leases.records();
  }

  /** A read of the current state (serve linearizable reads only once appliedIndex >= the read index). */
  range(req: RangeRequest): KvResult {
    const invalid = validateRange(req, this.limits);
    if (invalid) return this.failure(invalid);
    const r = executeRange(this.store, req, null);
    return isError(r) ? this.failure(r) : { ok: true, revision: this.store.revision, response: r };
  }

  /** etcd's HashKV over this member's applied state (MvccStore.hashKV). */
  hashKV(revision: number): { readonly ok: true; readonly hash: number; readonly hashRevision: number; readonly compactRevision: number } | { readonly ok: false; readonly error: KvError } {
    const r = this.store.hashKV(revision);
    return isError(r) ? { ok: false, error: r } : { ok: true, hash: r.hash, hashRevision: r.revision, compactRevision: this.store.compactRevision };
  }

  /** Key-values that exist now, in key order, at most `max` of them. */
  entries(max: number): KeyValue[] {
    const out: KeyValue[] = [];
    for (const [k, e] of this.store.liveIn({ start: '', end: null }, this.store.revision)) {
      if (out.length >= max) break;
      out.push(this.store.keyValue(k, e, null));
    }
    return out;
  }

  snapshot(): KvSnapshot {
    const state = this.backend.load();
    // Invariant: the backend holds exactly what the state machine has applied.
    assert(state.meta.appliedIndex === this.applied, 'kv: backend out of step with the state machine');
    return { format: SNAPSHOT_FORMAT, ...state };
  }

  /** Replaces the whole state with a snapshot (Raft §7: InstallSnapshot). */
  restore(snap: KvSnapshot): void {
    assert(snap.format === SNAPSHOT_FORMAT, () => `kv: snapshot format ${snap.format}`);
    const state: KvState = { meta: snap.meta, versions: snap.versions, sessions: snap.sessions, leases: snap.leases ?? [], ...(snap.auth === undefined ? {} : { auth: snap.auth }) };
    this.backend.reset(state);
    this.reload(state);
    this.changeListener?.(this.store.revision, null);
  }

  /** etcd Watch: `listener` hears every applied write's events and every snapshot restore (null: none). */
  setChangeListener(listener: ChangeListener | null, wanted: () => boolean = () => true): void {
    this.changeListener = listener;
    this.changeWanted = wanted;
  }

  /** Sessions in least-recently-used-first order (for tests and debugging). */
  sessionRecords(): SessionRecord[] {
    return this.sessions.records();
  }
}
