// The simple operations of api.ts (the simulator's workload, the history
// checker's read/write/cas) expressed as etcd requests, and their results
// turned back into KvReplies. Keys are UTF-8; values are JSON-encoded so that
// a number and a string stay distinct. Writing null deletes the key: in a
// history, null means "absent".

import { assertNever } from '../core/assert.js';
import type { Value } from '../check/history.js';
import type { EtcdRequest, KvOp, KvReply, KvRequest } from './api.js';
import { fromUtf8, prefixEnd, utf8 } from './bytes.js';
import type { Bytes } from './bytes.js';
import type { KvCommand, KvRead, KvResult, RangeResponse, TxnResponse } from './command.js';

export function encodeValue(v: Value): Bytes {
  return utf8(JSON.stringify(v));
}

/** A stored value as a Value: its JSON reading, or the raw text when it is not JSON (written by another client). */
export function decodeValue(b: Bytes): Value {
  const text = fromUtf8(b);
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  } catch {
    // not JSON: fall through
  }
  return text;
}

/** A read-only op, served through readIndex: its read. */
export function readOf(op: KvOp): KvRead | null {
  switch (op.f) {
    case 'read':
      return { type: 'range', key: utf8(op.key) };
    case 'range': {
      const prefix = utf8(op.prefix);
      return prefix.length === 0 ? { type: 'range', key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) } : { type: 'range', key: prefix, rangeEnd: prefixEnd(prefix) };
    }
    case 'etcd':
      return isRead(op.request) ? op.request : null;
    case 'write':
    case 'cas':
    case 'delete':
      return null;
    default:
      return assertNever(op, 'kv op');
  }
}

/** A write op as a log command. */
export function commandOf(req: KvRequest): KvCommand | null {
  const { client, seq, op } = req;
  switch (op.f) {
    case 'write':
      if (op.value === null) return { client, seq, op: { type: 'delete-range', key: utf8(op.key) } };
      return { client, seq, op: { type: 'put', key: utf8(op.key), value: encodeValue(op.value) } };
    case 'delete':
      return { client, seq, op: { type: 'delete-range', key: utf8(op.key) } };
    case 'cas': {
      const key = utf8(op.key);
      // Expecting null means expecting the key to be absent (create_revision 0).
      const compare =
        op.expected === null
          ? ({ key, target: 'create', createRevision: 0, result: 'equal' } as const)
          : ({ key, target: 'value', value: encodeValue(op.expected), result: 'equal' } as const);
      const write = op.value === null ? ({ type: 'delete-range', key } as const) : ({ type: 'put', key, value: encodeValue(op.value) } as const);
      return { client, seq, op: { type: 'txn', compare: [compare], success: [write], failure: [{ type: 'range', key }] } };
    }
    case 'etcd':
      if (isRead(op.request)) return null;
      // Fields only when set: a plain put keeps its compact encoding (put-codec.ts).
      if (op.user === undefined && op.internal === undefined) return { client, seq, op: op.request };
      return { client, seq, op: op.request, ...(op.user === undefined ? {} : { user: op.user }), ...(op.internal === undefined ? {} : { internal: op.internal }) };
    case 'read':
    case 'range':
      return null;
    default:
      return assertNever(op, 'kv op');
  }
}

export function isRead(r: EtcdRequest): r is KvRead {
  return r.type === 'range' || r.type === 'lease-time-to-live' || r.type === 'lease-leases';
}

function errorReply(r: KvResult & { ok: false }): KvReply {
  return { ok: false, error: 'rejected', code: r.error.code, message: r.error.message };
}

/** The reply to a read op from its range result. */
export function readReply(op: KvOp, r: KvResult): KvReply {
  if (op.f === 'etcd') return { ok: true, result: r };
  if (!r.ok) return errorReply(r);
  const res = r.response as RangeResponse;
  if (op.f === 'range') return { ok: true, entries: res.kvs.map((kv) => [fromUtf8(kv.key), decodeValue(kv.value)] as const) };
  const kv = res.kvs[0];
  return { ok: true, value: kv === undefined ? null : decodeValue(kv.value) };
}

/** The reply to a write op from the result of its applied command. */
export function writeReply(op: KvOp, r: KvResult): KvReply {
  if (op.f === 'etcd') return { ok: true, result: r };
  if (!r.ok) return errorReply(r);
  switch (op.f) {
    case 'write':
      return { ok: true, value: op.value };
    case 'delete':
      return { ok: true, value: null };
    case 'cas': {
      const txn = r.response as TxnResponse;
      if (txn.succeeded) return { ok: true, value: op.value };
      const range = txn.responses[0] as RangeResponse | undefined;
      const kv = range?.kvs[0];
      return { ok: false, error: 'cas-mismatch', actual: kv === undefined ? null : decodeValue(kv.value) };
    }
    case 'read':
    case 'range':
      return readReply(op, r);
    default:
      return assertNever(op, 'kv op');
  }
}
