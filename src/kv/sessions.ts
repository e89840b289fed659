// Client sessions for exactly-once application (Raft thesis §6.3): a client
// numbers its requests (seq); the state machine saves each result under
// (client, seq) and answers a retry with the saved result instead of applying
// the command twice.
//
// Bounds: at most `maxSessions` clients, the least recently used evicted first
// (recency is the log index of last use, so every replica evicts the same
// session at the same entry); per client, the results of at most
// `maxResultsPerSession` requests, the lowest seq dropped first. A retry of a
// dropped seq is refused as 'stale-sequence' (never applied twice). A client
// whose whole session was evicted is unknown again: a retry of its old request
// would be applied a second time. Clients that keep retrying should therefore
// stay among the `maxSessions` most recently active.

import { assert } from '../core/assert.js';
import type { ClientId } from '../core/ids.js';
import type { SessionRecord, SessionUpdate } from './backend.js';
import type { KvResult } from './command.js';

export interface SessionLimits {
  readonly maxSessions: number;
  readonly maxResultsPerSession: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxSessions: 4096, maxResultsPerSession: 64 };

interface Session {
  lastUsed: number;
  floor: number;
  readonly results: Map<number, KvResult>;
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

  constructor(readonly limits: SessionLimits) {
    assert(limits.maxSessions >= 1 && limits.maxResultsPerSession >= 1, 'session limits must be at least 1');
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
      s = { lastUsed: index, floor: 0, results: new Map() };
      while (this.table.size >= this.limits.maxSessions) evicted.push(this.evictOldest());
    }
    this.use(client, s, index);
    s.results.set(seq, result);
    const dropped: number[] = [];
    if (s.results.size > this.limits.maxResultsPerSession) {
      const lowest = Math.min(...s.results.keys());
      s.results.delete(lowest);
      s.floor = Math.max(s.floor, lowest);
      dropped.push(lowest);
    }
    return { update: { client, lastUsed: s.lastUsed, floor: s.floor, saved: [seq, result], dropped }, evicted };
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
    this.table.delete(first.value);
    return first.value;
  }

  records(): SessionRecord[] {
    return [...this.table].map(([c, s]) => record(c, s));
  }

  load(records: readonly SessionRecord[]): void {
    this.table.clear();
    const ordered = [...records].sort((a, b) => a.lastUsed - b.lastUsed || (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
    for (const r of ordered) {
      this.table.set(r.client, { lastUsed: r.lastUsed, floor: r.floor, results: new Map(r.results) });
    }
  }
}

function record(client: ClientId, s: Session): SessionRecord {
  return { client, lastUsed: s.lastUsed, floor: s.floor, results: [...s.results] };
}
