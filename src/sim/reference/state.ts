// The replicated value of the reference protocol: a small key-value map with a
// client session table, shipped whole from the leader to its followers. Each
// version is stamped with the term of the leader that made it; (term, version)
// orders states like Raft's (lastLogTerm, lastLogIndex) orders logs (§5.4.1).

import { AssertionError, assertNever } from '../../core/assert.js';
import type { Term } from '../../core/ids.js';
import type { Value } from '../../check/history.js';
import type { KvReply, KvRequest } from '../../kv/api.js';

/** The last request of a client: a retry of it is answered with the same reply (exactly-once). */
export interface Session {
  readonly seq: number;
  readonly reply: KvReply;
  /** The version that applied it. */
  readonly version: number;
}

export interface RegisterState {
  readonly term: Term;
  readonly version: number;
  readonly kv: Readonly<Record<string, Value>>;
  readonly sessions: Readonly<Record<string, Session>>;
  /** A hash chained over every step that made this state: equal hashes, equal histories. */
  readonly hash: number;
}

export const EMPTY_STATE: RegisterState = { term: 0 as Term, version: 0, kv: {}, sessions: {}, hash: 0x12345678 };

/** Lexicographic order on (term, version): positive when a is newer. */
export function compareStates(a: { term: number; version: number }, b: { term: number; version: number }): number {
  return a.term !== b.term ? a.term - b.term : a.version - b.version;
}

function mix(h: number, x: number): number {
  let z = Math.imul(h ^ x, 0x01000193) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x85ebca6b) >>> 0;
  return (z ^ (z >>> 13)) >>> 0;
}

function mixString(h: number, s: string): number {
  let z = h;
  for (let i = 0; i < s.length; i++) z = mix(z, s.charCodeAt(i));
  return z;
}

/** A new leader's first version: its term's stamp on the state it was elected with (Raft §5.4.2's no-op). */
export function stamp(state: RegisterState, term: Term): RegisterState {
  return { ...state, term, version: state.version + 1, hash: mix(mix(state.hash, 0x5eed), term) };
}

/** Whether the request was already applied: then its recorded reply (or null when it is older than the last). */
export function findSession(state: RegisterState, req: KvRequest): Session | 'stale' | null {
  const s = state.sessions[req.client];
  if (s === undefined || req.seq > s.seq) return null;
  return req.seq === s.seq ? s : 'stale';
}

/** Applies a request not applied before; returns the next version and the reply. */
export function applyRequest(state: RegisterState, req: KvRequest, term: Term): { state: RegisterState; reply: KvReply } {
  const op = req.op;
  let kv = state.kv;
  let reply: KvReply;
  switch (op.f) {
    case 'read':
      reply = { ok: true, value: kv[op.key] ?? null };
      break;
    case 'write':
      kv = { ...kv, [op.key]: op.value };
      reply = { ok: true, value: op.value };
      break;
    case 'cas': {
      const actual = kv[op.key] ?? null;
      if (actual !== op.expected) {
        reply = { ok: false, error: 'cas-mismatch', actual };
        break;
      }
      kv = { ...kv, [op.key]: op.value };
      reply = { ok: true, value: op.value };
      break;
    }
    case 'delete': {
      const next = { ...kv };
      delete next[op.key];
      kv = next;
      reply = { ok: true, value: null };
      break;
    }
    case 'range':
      reply = { ok: true, entries: Object.keys(kv).filter((k) => k.startsWith(op.prefix)).sort().map((k) => [k, kv[k] ?? null] as const) };
      break;
    case 'etcd':
      throw new AssertionError('etcd requests are refused before they are applied');
    default:
      return assertNever(op, 'kv operation');
  }
  const version = state.version + 1;
  const sessions = { ...state.sessions, [req.client]: { seq: req.seq, reply, version } };
  const hash = mix(mixString(state.hash, req.client), req.seq);
  return { state: { term, version, kv, sessions, hash }, reply };
}
