// Request validation: etcd's duplicate-key rule for txns and synod's limits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId } from '../../src/core/ids.js';
import type { KvWriteOp, RequestOp } from '../../src/kv/command.js';
import { DEFAULT_LIMITS } from '../../src/kv/limits.js';
import { validateCommand, validateOp } from '../../src/kv/validate.js';
import { b } from './helpers.js';

const put = (k: string): RequestOp => ({ type: 'put', key: b(k), value: b('v') });
const del = (k: string, end?: string): RequestOp => (end === undefined ? { type: 'delete-range', key: b(k) } : { type: 'delete-range', key: b(k), rangeEnd: b(end) });
const txn = (success: RequestOp[], failure: RequestOp[] = []): KvWriteOp & RequestOp => ({ type: 'txn', compare: [], success, failure });
const code = (op: KvWriteOp, limits = DEFAULT_LIMITS) => validateOp(op, limits)?.code ?? 'ok';

describe('duplicate keys in a txn (etcd checkIntervals)', () => {
  test('within one branch: a key put twice, or put and deleted, is refused', () => {
    assert.equal(code(txn([put('a'), put('a')])), 'duplicate-key');
    assert.equal(code(txn([put('a'), del('a')])), 'duplicate-key');
    assert.equal(code(txn([del('a', 'c'), put('b')])), 'duplicate-key');
    assert.equal(code(txn([del('a', '\0'), put('zzz')])), 'duplicate-key');
  });

  test('allowed: different keys, deletes that overlap, the same key in the two branches', () => {
    assert.equal(code(txn([put('a'), put('b'), del('c')])), 'ok');
    assert.equal(code(txn([del('a', 'c'), del('b')])), 'ok');
    assert.equal(code(txn([put('a')], [put('a')])), 'ok');
    assert.equal(code(txn([del('a', 'c'), put('c')])), 'ok', 'range_end is exclusive');
  });

  test('nested txns: their branches exclude each other, but not the outer level', () => {
    assert.equal(code(txn([txn([put('a')], [put('a')])])), 'ok');
    assert.equal(code(txn([put('a'), txn([put('a')])])), 'duplicate-key');
    assert.equal(code(txn([put('a'), txn([], [put('a')])])), 'duplicate-key');
    assert.equal(code(txn([txn([del('a', 'c')]), put('b')])), 'duplicate-key');
    assert.equal(code(txn([txn([put('b')]), txn([put('b')])])), 'duplicate-key');
    assert.equal(code(txn([del('b'), txn([put('b')])])), 'duplicate-key');
  });
});

describe('limits and malformed requests', () => {
  const small = { ...DEFAULT_LIMITS, maxKeyBytes: 4, maxValueBytes: 8, maxRequestBytes: 20, maxTxnOps: 2, maxTxnDepth: 2 };
  test('sizes', () => {
    assert.equal(code({ type: 'put', key: b(''), value: b('') }), 'empty-key');
    assert.equal(code({ type: 'put', key: b('12345'), value: b('') }, small), 'key-too-large');
    assert.equal(code({ type: 'put', key: b('k'), value: b('123456789') }, small), 'value-too-large');
    assert.equal(code(txn([put('a'), put('b')], [put('c')]), { ...small, maxRequestBytes: 5 }), 'request-too-large');
    assert.equal(code({ type: 'delete-range', key: b('a'), rangeEnd: b('zzzzz') }, small), 'key-too-large');
  });

  test('txn ops and depth', () => {
    assert.equal(code(txn([put('a'), put('b'), put('c')]), small), 'too-many-ops');
    assert.equal(code(txn([txn([txn([])])]), small), 'invalid');
    assert.equal(code(txn([txn([])]), small), 'ok');
  });

  test('ignore_value with a value, ignore_lease with a lease, bad numbers', () => {
    assert.equal(validateOp({ type: 'put', key: b('a'), value: b('x'), ignoreValue: true }, DEFAULT_LIMITS)?.message, 'etcdserver: value is provided');
    assert.equal(validateOp({ type: 'put', key: b('a'), value: b(''), lease: 3, ignoreLease: true }, DEFAULT_LIMITS)?.message, 'etcdserver: lease is provided');
    assert.equal(code({ type: 'compact', revision: -1 }), 'invalid');
    assert.equal(code({ type: 'compact', revision: 1.5 }), 'invalid');
    assert.equal(validateCommand({ client: ClientId('c'), seq: -1, op: put('a') as KvWriteOp }, DEFAULT_LIMITS)?.code, 'invalid');
  });
});
