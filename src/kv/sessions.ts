// Client sessions for exactly-once application (Raft thesis §6.3): a client
// numbers its requests (seq); the state machine saves each result under
// (client, seq) and answers a retry with the saved result instead of applying
// the command twice.
//
// Bounds: at most `maxSessions` clients, the least recently used evicted first
// (recency is the log index of last use, so every replica evicts the same
// session at the same entry); per client, the results of at most
// `maxResultsPerSession` requests, the lowest seq dropped first; and at most
// `maxResultBytes` of saved results in all (a txn's ranges can carry values),
// least recently used sessions evicted first. A retry of a dropped seq is
// refused as 'stale-sequence' (never applied twice). A client
// whose whole session was evicted is unknown again: a retry of its old request
// would be applied a second time. Clients that keep retrying should therefore
// stay among the `maxSessions` most recently active.

import { assert } from '../core/assert.js';
import type { ClientId } from '../core/ids.js';
import type { SessionRecord, SessionUpdate } from './backend.js';
import { approximateBytes } from './codec.js';
import type { KvResult } from './command.js';

export interface SessionLimits {
  readonly maxSessions: number;
  readonly maxResultsPerSession: number;
  /** Approximate bytes of all saved results (a txn's ranges can carry values); beyond it, least recently used sessions go. */
  readonly maxResultBytes: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxSessions: 4096, maxResultsPerSession: 64, maxResultBytes: 64 * 1024 * 1024 };

interface Session {
  lastUsed: number;
  floor: number;
  readonly results: Map<number, KvResult>;
  /** Approximate bytes of each saved result. */
  readonly sizes: Map<number, number>;
  /** True while `results` holds its seqs in ascending insertion order: then the first is the lowest. */
  ascending: boolean;
  /** The seq saved last (the highest while `ascending`). */
  lastSaved: number;
}

function ascendingKeys(m: ReadonlyMap<number, unknown>): { ascending: boolean; lastSaved: number } {
  let last = Number.NEGATIVE_INFINITY;
  let ascending = true;
  for (const k of m.keys()) {
    if (k < last) ascending = false;
    last = k;
  }
  return { ascending, lastSaved: last };
}

export type SessionLookup =
  | { readonly kind: 'saved'; readonly result: KvResult }
  | { readonly kind: 'stale' }
  | { readonly kind: 'new' };

export interface SessionChange {
  readonly update: SessionUpdate;
  readonly evicted: readonly ClientId[];
}

export class SessionTable {
  /** Invariant: in ascending lastUsed order (Map insertion order), so the first is the least recently used. */
  private readonly table = new Map<ClientId, Session>();
  /** Invariant: the sum of every session's result sizes. */
  private bytes = 0;

  constructor(readonly limits: SessionLimits) {
    assert(limits.maxSessions >= 1 && limits.maxResultsPerSession >= 1 && limits.maxResultBytes >= 1, 'session limits must be at least 1');
  }

  get size(): number {
    return this.table.size;
  }

  lookup(client: ClientId, seq: number): SessionLookup {
    const s = this.table.get(client);
    if (s === undefined) return { kind: 'new' };
    const result = s.results.get(seq);
    if (result !== undefined) return { kind: 'saved', result };
    return seq <= s.floor ? { kind: 'stale' } : { kind: 'new' };
  }

  /** Marks the session used at log `index` (moves it to the most recent end). */
  touch(client: ClientId, index: number): SessionChange | null {
    const s = this.table.get(client);
    if (s === undefined) return null;
    this.use(client, s, index);
    return { update: { client, lastUsed: s.lastUsed, floor: s.floor, dropped: [] }, evicted: [] };
  }

  /** Saves the result of (client, seq), applied at log `index`. */
  save(client: ClientId, seq: number, result: KvResult, index: number): SessionChange {
    let s = this.table.get(client);
    const evicted: ClientId[] = [];
    if (s === undefined) {
      s = { lastUsed: index, floor: 0, results: new Map(), sizes: new Map(), ascending: true, lastSaved: 0 };
      while (this.table.size >= this.limits.maxSessions) evicted.push(this.evictOldest());
    }
    this.use(client, s, index);
    const size = approximateBytes(result);
    if (s.results.size > 0 && seq < s.lastSaved) s.ascending = false;
    s.lastSaved = seq;
    s.results.set(seq, result);
    s.sizes.set(seq, size);
    this.bytes += size;
    const dropped: number[] = [];
    if (s.results.size > this.limits.maxResultsPerSession) dropped.push(this.dropLowest(s));
    // Over the byte bound: other sessions go first (least recently used), then this one's oldest results.
    while (this.bytes > this.limits.maxResultBytes && this.table.size > 1) evicted.push(this.evictOldest());
    while (this.bytes > this.limits.maxResultBytes && s.results.size > 1) dropped.push(this.dropLowest(s));
    return { update: { client, lastUsed: s.lastUsed, floor: s.floor, saved: [seq, result], dropped }, evicted };
  }

  /** Drops a session's lowest-numbered result; retries of it and below become stale. */
  private dropLowest(s: Session): number {
    // Results arrive in about seq order: while they have, the first key is the lowest (no pass over them).
    let lowest = Number.POSITIVE_INFINITY;
    if (s.ascending) {
      lowest = s.results.keys().next().value as number;
    } else {
      for (const seq of s.results.keys()) if (seq < lowest) lowest = seq;
    }
    s.results.delete(lowest);
    // Out of order once: the first key is the lowest again when what is left is ascending.
    if (!s.ascending) s.ascending = ascendingKeys(s.results).ascending;
    this.bytes -= s.sizes.get(lowest) ?? 0;
    s.sizes.delete(lowest);
    s.floor = Math.max(s.floor, lowest);
    return lowest;
  }

  private use(client: ClientId, s: Session, index: number): void {
    assert(index >= s.lastUsed, 'sessions: used out of log order');
    s.lastUsed = index;
    this.table.delete(client);
    this.table.set(client, s);
  }

  private evictOldest(): ClientId {
    const first = this.table.keys().next();
    assert(first.done !== true, 'sessions: evict from an empty table');
    for (const n of (this.table.get(first.value) as Session).sizes.values()) this.bytes -= n;
    this.table.delete(first.value);
    return first.value;
  }

  records(): SessionRecord[] {
    return [...this.table].map(([c, s]) => record(c, s));
  }

  load(records: readonly SessionRecord[]): void {
    this.table.clear();
    this.bytes = 0;
    const ordered = [...records].sort((a, b) => a.lastUsed - b.lastUsed || (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
    for (const r of ordered) {
      const sizes = new Map(r.results.map(([seq, result]) => [seq, approximateBytes(result)] as const));
      for (const n of sizes.values()) this.bytes += n;
      const results = new Map(r.results);
      this.table.set(r.client, { lastUsed: r.lastUsed, floor: r.floor, results, sizes, ...ascendingKeys(results) });
    }
  }
}

function record(client: ClientId, s: Session): SessionRecord {
  // Results by seq, as every backend stores them, so that equal states give equal snapshots.
  return { client, lastUsed: s.lastUsed, floor: s.floor, results: [...s.results].sort((a, b) => a[0] - b[0]) };
}
