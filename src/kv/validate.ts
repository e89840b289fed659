// Request validation, etcd's rules plus synod's size limits. Pure and
// deterministic: the adapter runs it before proposing, and the state machine
// runs it again when applying (an entry proposed by another version of the
// code must still be judged the same way on every replica).

import { toByteString } from './bytes.js';
import type { AuthOp } from './auth.js';
import { ERROR_MESSAGES, kvError } from './command.js';
import type { Compare, KeyRange, KvCommand, KvError, KvErrorCode, KvRead, KvWriteOp, RangeRequest, RequestOp, TxnRequest } from './command.js';
import { MAX_LEASE_TTL } from './leases.js';
import type { KvLimits } from './limits.js';
import { contains, toInterval } from './range.js';
import type { Interval } from './range.js';

function err(code: KvErrorCode, detail?: string): KvError {
  return kvError(code, detail === undefined ? ERROR_MESSAGES[code] : `${ERROR_MESSAGES[code]}: ${detail}`);
}

function isCount(n: number | undefined): boolean {
  return n === undefined || (Number.isSafeInteger(n) && n >= 0);
}

/** Sizes are summed across the whole command into `budget.bytes`. */
interface Budget {
  bytes: number;
}

function checkKey(r: KeyRange, limits: KvLimits, budget: Budget): KvError | null {
  if (r.key.length === 0) return err('empty-key');
  if (r.key.length > limits.maxKeyBytes) return err('key-too-large', `${r.key.length} bytes > ${limits.maxKeyBytes}`);
  const endBytes = r.rangeEnd?.length ?? 0;
  if (endBytes > limits.maxKeyBytes) return err('key-too-large', `range_end of ${endBytes} bytes > ${limits.maxKeyBytes}`);
  budget.bytes += r.key.length + endBytes;
  return null;
}

export function validateRange(r: RangeRequest, limits: KvLimits, budget: Budget = { bytes: 0 }): KvError | null {
  const e = checkKey(r, limits, budget);
  if (e) return e;
  for (const n of [r.limit, r.minModRevision, r.maxModRevision, r.minCreateRevision, r.maxCreateRevision]) {
    if (!isCount(n)) return err('invalid', 'limit and revision filters must be non-negative integers');
  }
  if (r.revision !== undefined && !Number.isSafeInteger(r.revision)) return err('invalid', 'revision must be an integer');
  return null;
}

function checkCompare(c: Compare, limits: KvLimits, budget: Budget): KvError | null {
  const e = checkKey(c, limits, budget);
  if (e) return e;
  switch (c.target) {
    case 'value':
      if (c.value.length > limits.maxValueBytes) return err('value-too-large', `${c.value.length} bytes > ${limits.maxValueBytes}`);
      budget.bytes += c.value.length;
      return null;
    case 'version':
      return Number.isSafeInteger(c.version) ? null : err('invalid', 'compare version must be an integer');
    case 'create':
      return Number.isSafeInteger(c.createRevision) ? null : err('invalid', 'compare create_revision must be an integer');
    case 'mod':
      return Number.isSafeInteger(c.modRevision) ? null : err('invalid', 'compare mod_revision must be an integer');
    case 'lease':
      return Number.isSafeInteger(c.lease) ? null : err('invalid', 'compare lease must be an integer');
  }
}

function checkOp(op: RequestOp, limits: KvLimits, budget: Budget, depth: number): KvError | null {
  switch (op.type) {
    case 'range':
      return validateRange(op, limits, budget);
    case 'put': {
      const e = checkKey(op, limits, budget);
      if (e) return e;
      if (op.value.length > limits.maxValueBytes) return err('value-too-large', `${op.value.length} bytes > ${limits.maxValueBytes}`);
      if (op.ignoreValue === true && op.value.length !== 0) return kvError('invalid', 'etcdserver: value is provided');
      if (op.ignoreLease === true && (op.lease ?? 0) !== 0) return kvError('invalid', 'etcdserver: lease is provided');
      if (op.lease !== undefined && !Number.isSafeInteger(op.lease)) return err('invalid', 'lease must be an integer');
      budget.bytes += op.value.length;
      return null;
    }
    case 'delete-range':
      return checkKey(op, limits, budget);
    case 'txn':
      return checkTxn(op, limits, budget, depth + 1);
  }
}

function checkTxn(t: TxnRequest, limits: KvLimits, budget: Budget, depth: number): KvError | null {
  if (depth > limits.maxTxnDepth) return err('invalid', `txn nested deeper than ${limits.maxTxnDepth}`);
  const most = Math.max(t.compare.length, t.success.length, t.failure.length);
  if (most > limits.maxTxnOps) return err('too-many-ops', `${most} > ${limits.maxTxnOps}`);
  for (const c of t.compare) {
    const e = checkCompare(c, limits, budget);
    if (e) return e;
  }
  for (const op of [...t.success, ...t.failure]) {
    const e = checkOp(op, limits, budget, depth);
    if (e) return e;
  }
  if (duplicateKeys(t.success) || duplicateKeys(t.failure)) return err('duplicate-key');
  return null;
}

interface Writes {
  readonly puts: Set<string>;
  readonly dels: Interval[];
}

const hits = (dels: readonly Interval[], key: string): boolean => dels.some((iv) => contains(iv, key));

/**
 * etcd's checkIntervals: within one branch, a key may be put at most once and
 * not both put and deleted, looking through nested txns; the two branches of a
 * nested txn exclude each other, so both may put the same key. Returns null
 * when a duplicate is found.
 */
function collectWrites(ops: readonly RequestOp[]): Writes | null {
  const dels: Interval[] = [];
  for (const op of ops) if (op.type === 'delete-range') dels.push(toInterval(op));
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.type !== 'txn') continue;
    const then = collectWrites(op.success);
    const other = collectWrites(op.failure);
    if (then === null || other === null) return null;
    for (const k of then.puts) {
      if (puts.has(k) || hits(dels, k)) return null;
      puts.add(k);
    }
    for (const k of other.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || hits(dels, k)) return null;
      puts.add(k);
    }
    dels.push(...then.dels, ...other.dels);
  }
  for (const op of ops) {
    if (op.type !== 'put') continue;
    const k = toByteString(op.key);
    if (puts.has(k) || hits(dels, k)) return null;
    puts.add(k);
  }
  return { puts, dels };
}

function duplicateKeys(ops: readonly RequestOp[]): boolean {
  return collectWrites(ops) === null;
}

function checkLeaseId(id: number): KvError | null {
  return Number.isSafeInteger(id) && id >= 0 ? null : err('invalid', 'lease id must be a non-negative integer');
}

function checkTtl(ttl: number): KvError | null {
  if (!Number.isSafeInteger(ttl) || ttl < 1) return err('invalid', 'lease TTL must be a positive integer (seconds)');
  return ttl > MAX_LEASE_TTL ? err('lease-ttl-too-large') : null;
}

/** Checks a read against etcd's rules and the limits. */
export function validateRead(r: KvRead, limits: KvLimits): KvError | null {
  switch (r.type) {
    case 'range':
      return validateRange(r, limits);
    case 'lease-time-to-live':
      return checkLeaseId(r.id);
    case 'lease-leases':
      return null;
  }
}

/** Checks a command against etcd's rules and the limits; null when it may be applied. */
export function validateCommand(cmd: KvCommand, limits: KvLimits): KvError | null {
  if (typeof cmd.client !== 'string') return err('invalid', 'client must be a string');
  if (!Number.isSafeInteger(cmd.seq) || cmd.seq < 0) return err('invalid', 'seq must be a non-negative integer');
  if (cmd.user !== undefined && (typeof cmd.user !== 'string' || cmd.user.length > MAX_AUTH_STRING)) return err('invalid', 'user must be a short string');
  if (cmd.internal !== undefined && cmd.internal !== true) return err('invalid', 'internal must be true when present');
  return validateOp(cmd.op, limits);
}

const AUTH_KINDS: ReadonlySet<string> = new Set(['enable', 'disable', 'user-add', 'user-delete', 'user-change-password', 'user-grant-role', 'user-revoke-role', 'role-add', 'role-delete', 'role-grant-permission', 'role-revoke-permission']);
const PERM_TYPES: ReadonlySet<string> = new Set(['read', 'write', 'readwrite']);
/** Names and hashes: etcd sets no limit but the request size; this keeps a log entry small. */
const MAX_AUTH_STRING = 4096;

function checkAuthOp(c: AuthOp): KvError | null {
  if (typeof c !== 'object' || c === null || !AUTH_KINDS.has(c.kind)) return err('invalid', 'unknown auth change');
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'string' && v.length > MAX_AUTH_STRING) return err('invalid', `auth ${k} is longer than ${MAX_AUTH_STRING}`);
  }
  if (c.kind === 'role-grant-permission' && (!PERM_TYPES.has(c.permission?.type) || !(c.permission.key instanceof Uint8Array) || !(c.permission.rangeEnd instanceof Uint8Array))) return err('invalid', 'a permission needs a type (read, write, readwrite), a key and a range end');
  if (c.kind === 'role-revoke-permission' && (!(c.key instanceof Uint8Array) || !(c.rangeEnd instanceof Uint8Array))) return err('invalid', 'a permission to revoke needs a key and a range end');
  return null;
}

/** Checks one write operation against etcd's rules and the limits. */
export function validateOp(op: KvWriteOp, limits: KvLimits): KvError | null {
  const budget: Budget = { bytes: 0 };
  let e: KvError | null;
  switch (op.type) {
    case 'compact':
      e = Number.isSafeInteger(op.revision) && op.revision >= 0 ? null : err('invalid', 'compact revision must be a non-negative integer');
      break;
    case 'txn':
      e = checkTxn(op, limits, budget, 1);
      break;
    case 'lease-grant':
      e = checkLeaseId(op.id) ?? checkTtl(op.ttl);
      break;
    case 'lease-revoke':
      e = checkLeaseId(op.id);
      break;
    case 'auth':
      e = checkAuthOp(op.change);
      break;
    default:
      e = checkOp(op, limits, budget, 0);
  }
  if (e) return e;
  if (budget.bytes > limits.maxRequestBytes) return err('request-too-large', `${budget.bytes} bytes > ${limits.maxRequestBytes}`);
  return null;
}
