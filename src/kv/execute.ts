// Executes etcd requests against the MVCC store: Range (with etcd's sort,
// filter and limit rules), Compare, and Txn with nested txns. A write
// transaction either completes or leaves no trace (its writer is aborted).

import { assertNever } from '../core/assert.js';
import { compareBytes } from './bytes.js';
import type { Compare, KeyValue, KvError, RangeRequest, RangeResponse, RequestOp, ResponseOp, SortTarget, TxnRequest, TxnResponse } from './command.js';
import type { IndexEntry } from './mvcc-index.js';
import type { MvccStore, Writer } from './mvcc.js';
import { toInterval } from './range.js';

export function isError(x: object): x is KvError {
  return 'code' in x && 'message' in x;
}

function sortField(kv: KeyValue, target: Exclude<SortTarget, 'key' | 'value'>): number {
  switch (target) {
    case 'version':
      return kv.version;
    case 'create':
      return kv.createRevision;
    case 'mod':
      return kv.modRevision;
  }
}

function sortKvs(kvs: KeyValue[], order: 'ascend' | 'descend', target: SortTarget): void {
  const sign = order === 'ascend' ? 1 : -1;
  if (target === 'key') {
    if (order === 'descend') kvs.reverse();
    return;
  }
  if (target === 'value') kvs.sort((a, b) => sign * compareBytes(a.value, b.value));
  else kvs.sort((a, b) => sign * (sortField(a, target) - sortField(b, target)));
}

function passesFilters(r: RangeRequest, e: IndexEntry): boolean {
  const { minModRevision: minMod = 0, maxModRevision: maxMod = 0, minCreateRevision: minCreate = 0, maxCreateRevision: maxCreate = 0 } = r;
  if (minMod > 0 && e.main < minMod) return false;
  if (maxMod > 0 && e.main > maxMod) return false;
  if (minCreate > 0 && e.createRevision < minCreate) return false;
  if (maxCreate > 0 && e.createRevision > maxCreate) return false;
  return true;
}

/**
 * etcd's Range. `count` is the number of keys in the range at the revision,
 * before the revision filters (as etcd reports it); `more` says `limit` cut
 * the result. A sort other than ascending by key applies before the limit.
 */
export function executeRange(store: MvccStore, r: RangeRequest, w: Writer | null): RangeResponse | KvError {
  const rev = store.readAt(r.revision, w);
  if (typeof rev !== 'number') return rev;
  const found = store.liveList(toInterval(r), rev);
  if (r.countOnly === true) return { type: 'range', kvs: [], more: false, count: found.length };
  const target = r.sortTarget ?? 'key';
  let order = r.sortOrder ?? 'none';
  if (order === 'none' && target !== 'key') order = 'ascend';
  if (order === 'ascend' && target === 'key') order = 'none';
  const limit = r.limit ?? 0;
  const kept = found.filter(([, e]) => passesFilters(r, e));
  // Values are read only when needed: for the result, or to sort by value.
  const withValue = r.keysOnly !== true || target === 'value';
  const cut = order === 'none' && limit > 0 ? kept.slice(0, limit + 1) : kept;
  let kvs = cut.map(([k, e]) => store.keyValue(k, e, w, withValue));
  if (order !== 'none') sortKvs(kvs, order, target);
  const more = limit > 0 && kvs.length > limit;
  if (more) kvs = kvs.slice(0, limit);
  if (r.keysOnly === true && withValue) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
  return { type: 'range', kvs, more, count: found.length };
}

const ZERO: KeyValue = { key: new Uint8Array(0), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0 };

function compareOne(c: Compare, kv: KeyValue): boolean {
  let d: number;
  switch (c.target) {
    case 'value':
      d = compareBytes(kv.value, c.value);
      break;
    case 'version':
      d = kv.version - c.version;
      break;
    case 'create':
      d = kv.createRevision - c.createRevision;
      break;
    case 'mod':
      d = kv.modRevision - c.modRevision;
      break;
    case 'lease':
      d = kv.lease - c.lease;
      break;
    default:
      return assertNever(c, 'compare target');
  }
  switch (c.result) {
    case 'equal':
      return d === 0;
    case 'not-equal':
      return d !== 0;
    case 'less':
      return d < 0;
    case 'greater':
      return d > 0;
    default:
      return assertNever(c.result, 'compare result');
  }
}

/**
 * etcd's applyCompare: every key in the compare's range must pass. A missing
 * key compares as zeros (version 0, create 0, ...), except that a value
 * compare on a missing key always fails.
 */
export function evaluateCompare(store: MvccStore, c: Compare, w: Writer | null): boolean {
  const rev = w?.readRevision ?? store.revision;
  const found = store.liveList(toInterval(c), rev);
  if (found.length === 0) return c.target === 'value' ? false : compareOne(c, ZERO);
  return found.every(([k, e]) => compareOne(c, store.keyValue(k, e, w, c.target === 'value')));
}

function executeOp(store: MvccStore, op: RequestOp, w: Writer): ResponseOp | KvError {
  switch (op.type) {
    case 'range':
      return executeRange(store, op, w);
    case 'put':
      return store.put(op, w);
    case 'delete-range':
      return store.deleteRange(op, w);
    case 'txn':
      return executeTxn(store, op, w);
    default:
      return assertNever(op, 'request op');
  }
}

/** etcd's Txn: compares decide the branch, whose operations run in order in one revision. */
export function executeTxn(store: MvccStore, t: TxnRequest, w: Writer): TxnResponse | KvError {
  const succeeded = t.compare.every((c) => evaluateCompare(store, c, w));
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? t.success : t.failure) {
    const r = executeOp(store, op, w);
    if (isError(r)) return r;
    responses.push(r);
  }
  return { type: 'txn', succeeded, responses };
}
