// From events to operations: each invoke is paired with the completion that
// follows it from the same process. Shared by the JSON Lines parser (which
// names lines) and the checker (which names event positions), so a history
// built in memory is held to exactly the rules a file is.

import type { EventType, History, HistoryEvent, OpFunction, Value } from './history.js';

/** An invoke and its completion. `completeIndex` is null when the history ended first. */
export interface Operation {
  /** Position in the operation list (ordered by invoke). */
  readonly id: number;
  readonly process: number;
  readonly f: OpFunction;
  readonly key: string;
  /** 'info' also covers an invoke that never completed: the outcome is unknown. */
  readonly status: 'ok' | 'fail' | 'info';
  /** write: the value written; cas: the expected value; read: unused (null). */
  readonly expected: Value;
  /** write and cas: the value written; read: the value read (ok reads only, else null). */
  readonly value: Value;
  readonly invokeIndex: number;
  readonly completeIndex: number | null;
}

export type PairResult =
  | { readonly ok: true; readonly operations: readonly Operation[] }
  | { readonly ok: false; readonly index: number; readonly message: string };

const FIELDS = new Set(['process', 'type', 'f', 'key', 'value', 'time']);
const TYPES: ReadonlySet<string> = new Set<EventType>(['invoke', 'ok', 'fail', 'info']);
const FUNCTIONS: ReadonlySet<string> = new Set<OpFunction>(['read', 'write', 'cas']);

export function isScalar(v: unknown): v is Value {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function isPair(v: unknown): v is readonly [Value, Value] {
  return Array.isArray(v) && v.length === 2 && isScalar(v[0]) && isScalar(v[1]);
}

/** The problem with one raw event's shape, or null when it is a well-formed HistoryEvent. */
export function eventShapeError(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected a JSON object';
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!FIELDS.has(k)) return `unknown field "${k}" (fields are process, type, f, key, value, time)`;
  }
  for (const k of ['process', 'type', 'f', 'key', 'value']) {
    if (!(k in o)) return `missing field "${k}"`;
  }
  if (typeof o['process'] !== 'number' || !Number.isSafeInteger(o['process'])) return 'process must be an integer';
  if (typeof o['type'] !== 'string' || !TYPES.has(o['type'])) return `type must be invoke, ok, fail or info, got ${show(o['type'])}`;
  if (typeof o['f'] !== 'string' || !FUNCTIONS.has(o['f'])) return `f must be read, write or cas, got ${show(o['f'])}`;
  if (typeof o['key'] !== 'string') return `key must be a string, got ${show(o['key'])}`;
  if ('time' in o && (typeof o['time'] !== 'number' || !Number.isFinite(o['time']))) return 'time must be a number';
  const v = o['value'];
  if (o['f'] === 'cas') {
    if (o['type'] === 'invoke' || o['type'] === 'ok') {
      return isPair(v) ? null : `a cas value must be [expected, new] (two JSON scalars), got ${show(v)}`;
    }
    return isScalar(v) || isPair(v) ? null : `value must be a JSON scalar or [expected, new], got ${show(v)}`;
  }
  if (!isScalar(v)) return `value must be a JSON scalar (string, number, boolean or null), got ${show(v)}`;
  if (o['f'] === 'read' && o['type'] === 'invoke' && v !== null) return `a read's invoke has value null, got ${show(v)}`;
  return null;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function sameValue(a: HistoryEvent['value'], b: HistoryEvent['value']): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a[0] === b[0] && a[1] === b[1];
  return a === b;
}

interface Pending {
  readonly event: HistoryEvent;
  readonly index: number;
  /** Position of its operation in the list being built. */
  readonly slot: number;
}

/**
 * Pairs invokes with completions. `label(i)` names event i in messages
 * ("line 12", "event 12"). Events must already have a valid shape.
 */
export function pairOperations(history: History, label: (index: number) => string): PairResult {
  const pending = new Map<number, Pending>();
  const invokes: Pending[] = [];
  const completions: (Pending | null)[] = [];
  for (let i = 0; i < history.length; i++) {
    const e = history[i] as HistoryEvent;
    const open = pending.get(e.process);
    if (e.type === 'invoke') {
      if (open !== undefined) {
        return fail(i, `process ${e.process} invokes a ${e.f} while its ${open.event.f} invoked at ${label(open.index)} is still pending`);
      }
      const p = { event: e, index: i, slot: invokes.length };
      pending.set(e.process, p);
      invokes.push(p);
      completions.push(null);
      continue;
    }
    if (open === undefined) return fail(i, `a completion (${e.type}) from process ${e.process} without a pending invoke`);
    const mismatch = completionMismatch(open.event, e);
    if (mismatch !== null) return fail(i, `${mismatch} (its invoke is at ${label(open.index)})`);
    pending.delete(e.process);
    completions[open.slot] = { event: e, index: i, slot: open.slot };
  }
  return { ok: true, operations: invokes.map((inv, id) => toOperation(id, inv, completions[id] ?? null)) };
}

function fail(index: number, message: string): PairResult {
  return { ok: false, index, message };
}

function completionMismatch(inv: HistoryEvent, done: HistoryEvent): string | null {
  if (done.f !== inv.f) return `process ${inv.process} completes a ${done.f} but its pending operation is a ${inv.f}`;
  if (done.key !== inv.key) return `process ${inv.process} completes key ${show(done.key)} but its pending operation is on key ${show(inv.key)}`;
  if (done.type === 'ok' && inv.f !== 'read' && !sameValue(inv.value, done.value)) {
    return `the ok of a ${inv.f} carries ${show(done.value)}, but its invoke had ${show(inv.value)}`;
  }
  return null;
}

function toOperation(id: number, inv: Pending, done: Pending | null): Operation {
  const e = inv.event;
  const status = done === null ? 'info' : (done.event.type as 'ok' | 'fail' | 'info');
  let expected: Value = null;
  let value: Value = null;
  if (e.f === 'write') {
    expected = null;
    value = e.value as Value;
  } else if (e.f === 'cas') {
    const pair = e.value as readonly [Value, Value];
    expected = pair[0];
    value = pair[1];
  } else if (done !== null && status === 'ok') {
    value = done.event.value as Value;
  }
  return {
    id,
    process: e.process,
    f: e.f,
    key: e.key,
    status,
    expected,
    value,
    invokeIndex: inv.index,
    completeIndex: done === null ? null : done.index,
  };
}
