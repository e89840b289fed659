// Between the etcd v3 wire shapes (src/server/grpc/etcd-types.ts, .proto field
// names) and the key-value store's commands and results (src/kv/command.ts).

import type * as T from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus, longToNumber, type GrpcStatusCode, type Long } from './grpc/index.js';
import type * as K from '../kv/command.js';
import type { EtcdRequest } from '../kv/api.js';

const SORT_ORDERS: readonly K.SortOrder[] = ['none', 'ascend', 'descend'];
const SORT_TARGETS: readonly K.SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const RESULTS: Readonly<Record<number, K.CompareResult>> = { 0: 'equal', 1: 'greater', 2: 'less', 3: 'not-equal' };

function num(field: string, v: Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = longToNumber(v);
  if (!Number.isSafeInteger(n)) throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `etcdserver: ${field} ${String(v)} is out of range`);
  return n;
}

/** The wire layer hands out views of the received bytes: keep copies. */
// protobufjs hands an absent or empty bytes field over as a plain empty array, not a Buffer.
const copy = (b: Buffer | readonly number[]): Uint8Array => (b instanceof Uint8Array ? Uint8Array.prototype.slice.call(b) : Uint8Array.from(b));

function rangeEndOf(b: Buffer): { rangeEnd?: Uint8Array } {
  return b.length === 0 ? {} : { rangeEnd: copy(b) };
}

export function rangeOf(r: T.RangeRequest): K.RangeRequest {
  const sortOrder = SORT_ORDERS[r.sort_order];
  const sortTarget = SORT_TARGETS[r.sort_target];
  if (sortOrder === undefined) throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `etcdserver: invalid sort order ${r.sort_order}`);
  if (sortTarget === undefined) throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `etcdserver: invalid sort target ${r.sort_target}`);
  return {
    key: copy(r.key),
    ...rangeEndOf(r.range_end),
    limit: num('limit', r.limit),
    revision: num('revision', r.revision),
    sortOrder,
    sortTarget,
    keysOnly: r.keys_only,
    countOnly: r.count_only,
    minModRevision: num('min_mod_revision', r.min_mod_revision),
    maxModRevision: num('max_mod_revision', r.max_mod_revision),
    minCreateRevision: num('min_create_revision', r.min_create_revision),
    maxCreateRevision: num('max_create_revision', r.max_create_revision),
  };
}

export function putOf(p: T.PutRequest): K.PutRequest {
  return { key: copy(p.key), value: copy(p.value), lease: num('lease', p.lease), prevKv: p.prev_kv, ignoreValue: p.ignore_value, ignoreLease: p.ignore_lease };
}

export function deleteOf(d: T.DeleteRangeRequest): K.DeleteRangeRequest {
  return { key: copy(d.key), ...rangeEndOf(d.range_end), prevKv: d.prev_kv };
}

function compareOf(c: T.Compare): K.Compare {
  const result = RESULTS[c.result];
  if (result === undefined) throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `etcdserver: invalid compare result ${c.result}`);
  const base = { key: copy(c.key), ...rangeEndOf(c.range_end), result };
  switch (c.target) {
    case 0: return { ...base, target: 'version', version: num('version', c.version) };
    case 1: return { ...base, target: 'create', createRevision: num('create_revision', c.create_revision) };
    case 2: return { ...base, target: 'mod', modRevision: num('mod_revision', c.mod_revision) };
    case 3: return { ...base, target: 'value', value: c.value === null ? new Uint8Array(0) : copy(c.value) };
    case 4: return { ...base, target: 'lease', lease: num('lease', c.lease) };
    default: throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `etcdserver: invalid compare target ${c.target}`);
  }
}

function requestOpOf(op: T.RequestOp): K.RequestOp {
  if (op.request_range) return { type: 'range', ...rangeOf(op.request_range) };
  if (op.request_put) return { type: 'put', ...putOf(op.request_put) };
  if (op.request_delete_range) return { type: 'delete-range', ...deleteOf(op.request_delete_range) };
  if (op.request_txn) return { type: 'txn', ...txnOf(op.request_txn) };
  throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'etcdserver: a txn operation has no request set');
}

export function txnOf(t: T.TxnRequest): K.TxnRequest {
  return { compare: t.compare.map(compareOf), success: t.success.map(requestOpOf), failure: t.failure.map(requestOpOf) };
}

export type Header = Required<T.ResponseHeader>;

export function kvOut(kv: K.KeyValue): T.KeyValue {
  return { key: kv.key, create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease };
}

export function rangeOut(r: K.RangeResponse, header: Header): T.RangeResponse {
  return { header, kvs: r.kvs.map(kvOut), more: r.more, count: r.count };
}

export function putOut(r: K.PutResponse, header: Header): T.PutResponse {
  return r.prevKv ? { header, prev_kv: kvOut(r.prevKv) } : { header };
}

export function deleteOut(r: K.DeleteRangeResponse, header: Header): T.DeleteRangeResponse {
  return { header, deleted: r.deleted, prev_kvs: r.prevKvs.map(kvOut) };
}

function responseOpOut(r: K.ResponseOp, header: Header): T.ResponseOp {
  switch (r.type) {
    case 'range': return { response_range: rangeOut(r, header) };
    case 'put': return { response_put: putOut(r, header) };
    case 'delete-range': return { response_delete_range: deleteOut(r, header) };
    case 'txn': return { response_txn: txnOut(r, header) };
  }
}

export function txnOut(r: K.TxnResponse, header: Header): T.TxnResponse {
  return { header, succeeded: r.succeeded, responses: r.responses.map((x) => responseOpOut(x, header)) };
}

/** etcd's gRPC status for each store error. */
/** etcd's gRPC codes for errors that are not INVALID_ARGUMENT (api/v3rpc/rpctypes). */
const ERROR_CODES: Partial<Record<K.KvErrorCode, GrpcStatusCode>> = {
  compacted: GrpcStatus.OUT_OF_RANGE,
  'future-revision': GrpcStatus.OUT_OF_RANGE,
  'user-exists': GrpcStatus.FAILED_PRECONDITION,
  'user-not-found': GrpcStatus.FAILED_PRECONDITION,
  'role-exists': GrpcStatus.FAILED_PRECONDITION,
  'role-not-found': GrpcStatus.FAILED_PRECONDITION,
  'role-not-granted': GrpcStatus.FAILED_PRECONDITION,
  'permission-not-granted': GrpcStatus.FAILED_PRECONDITION,
  'root-user-missing': GrpcStatus.FAILED_PRECONDITION,
  'root-role-missing': GrpcStatus.FAILED_PRECONDITION,
  'invalid-auth-mgmt': GrpcStatus.FAILED_PRECONDITION,
  'auth-not-enabled': GrpcStatus.FAILED_PRECONDITION,
  'permission-denied': GrpcStatus.PERMISSION_DENIED,
  'invalid-auth-token': GrpcStatus.UNAUTHENTICATED,
};

export function kvErrorToGrpc(e: K.KvError): GrpcError {
  const code = ERROR_CODES[e.code] ?? GrpcStatus.INVALID_ARGUMENT;
  const message = e.message.startsWith('etcdserver:') || e.message.startsWith('synod:') ? e.message : `etcdserver: ${e.message}`;
  return new GrpcError(code, message);
}

export type { EtcdRequest };
