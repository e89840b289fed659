// etcd Txn: compare semantics, branches, nesting, atomicity.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Compare, CompareResult, RangeResponse, RequestOp, TxnResponse } from '../../src/kv/command.js';
import { b, errorCode, kvText, s, Store, txnOf } from './helpers.js';

const when = (compare: Compare[]) => ({ type: 'txn' as const, compare, success: [{ type: 'range' as const, key: b('x') }], failure: [] });

function holds(st: Store, c: Compare): boolean {
  return txnOf(st.apply(when([c]))).succeeded;
}

describe('txn compares', () => {
  const st = new Store();
  st.grant(5);
  st.put('x', 'm', { lease: 5 }); // create 2
  st.put('x', 'n', { lease: 5 }); // mod 3, version 2
  st.put('y', 'p'); // 4

  test('each target against each result', () => {
    const cases: [Compare, boolean][] = [];
    const results: CompareResult[] = ['equal', 'not-equal', 'less', 'greater'];
    const expect = (d: number) => [d === 0, d !== 0, d < 0, d > 0];
    for (const [i, result] of results.entries()) {
      cases.push([{ key: b('x'), target: 'value', value: b('n'), result }, expect(0)[i]!]);
      cases.push([{ key: b('x'), target: 'value', value: b('m'), result }, expect(1)[i]!]);
      cases.push([{ key: b('x'), target: 'value', value: b('nn'), result }, expect(-1)[i]!]);
      cases.push([{ key: b('x'), target: 'version', version: 3, result }, expect(-1)[i]!]);
      cases.push([{ key: b('x'), target: 'create', createRevision: 2, result }, expect(0)[i]!]);
      cases.push([{ key: b('x'), target: 'mod', modRevision: 2, result }, expect(1)[i]!]);
      cases.push([{ key: b('x'), target: 'lease', lease: 5, result }, expect(0)[i]!]);
    }
    for (const [c, want] of cases) assert.equal(holds(st, c), want, JSON.stringify({ ...c, key: 'x', value: 'value' in c ? s(c.value) : undefined }));
  });

  test('a missing key compares as zeros, but a value compare on it always fails', () => {
    assert.equal(holds(st, { key: b('nope'), target: 'version', version: 0, result: 'equal' }), true);
    assert.equal(holds(st, { key: b('nope'), target: 'create', createRevision: 0, result: 'equal' }), true);
    assert.equal(holds(st, { key: b('nope'), target: 'mod', modRevision: 1, result: 'less' }), true);
    assert.equal(holds(st, { key: b('nope'), target: 'value', value: b(''), result: 'equal' }), false);
    assert.equal(holds(st, { key: b('nope'), target: 'value', value: b('q'), result: 'not-equal' }), false);
  });

  test('a compare over a range holds only if it holds for every key in it', () => {
    assert.equal(holds(st, { key: b('x'), rangeEnd: b('z'), target: 'version', version: 0, result: 'greater' }), true);
    assert.equal(holds(st, { key: b('x'), rangeEnd: b('z'), target: 'version', version: 1, result: 'greater' }), false);
  });

  test('all compares must hold (and an empty list holds)', () => {
    const yes: Compare = { key: b('x'), target: 'version', version: 2, result: 'equal' };
    const no: Compare = { key: b('y'), target: 'version', version: 2, result: 'equal' };
    assert.equal(txnOf(st.apply(when([yes, no]))).succeeded, false);
    assert.equal(txnOf(st.apply(when([]))).succeeded, true);
  });

  test('read-only txns write no revision', () => {
    assert.equal(st.sm.revision, 4);
  });
});

describe('txn branches', () => {
  test('the success branch runs in order in one revision; later reads see earlier writes', () => {
    const st = new Store();
    st.put('a', '1'); // 2
    const r = st.apply({
      type: 'txn',
      compare: [{ key: b('a'), target: 'value', value: b('1'), result: 'equal' }],
      success: [
        { type: 'put', key: b('a'), value: b('2'), prevKv: true },
        { type: 'put', key: b('b'), value: b('3') },
        { type: 'range', key: b('a'), rangeEnd: b('c') },
        { type: 'delete-range', key: b('zz') },
      ],
      failure: [{ type: 'put', key: b('f'), value: b('') }],
    });
    const t = txnOf(r);
    assert.equal(r.revision, 3);
    assert.equal(t.succeeded, true);
    const read = t.responses[2] as RangeResponse;
    assert.deepEqual(read.kvs.map(kvText), [
      { key: 'a', value: '2', create: 2, mod: 3, version: 2, lease: 0 },
      { key: 'b', value: '3', create: 3, mod: 3, version: 1, lease: 0 },
    ]);
    assert.equal(st.get('f'), undefined);
  });

  test('the failure branch and nested txns', () => {
    const st = new Store();
    const r = st.apply({
      type: 'txn',
      compare: [{ key: b('a'), target: 'create', createRevision: 0, result: 'greater' }],
      success: [],
      failure: [
        { type: 'put', key: b('a'), value: b('first') },
        {
          type: 'txn',
          compare: [{ key: b('a'), target: 'value', value: b('first'), result: 'equal' }],
          success: [{ type: 'put', key: b('inner'), value: b('seen') }],
          failure: [{ type: 'put', key: b('inner'), value: b('not seen') }],
        },
      ],
    });
    const t = txnOf(r);
    assert.equal(t.succeeded, false);
    assert.equal((t.responses[1] as TxnResponse).succeeded, true, 'the nested compare sees the outer put');
    assert.equal(s(st.get('inner')!.value), 'seen');
    assert.equal(st.sm.revision, 2);
  });

  test('a txn that fails part-way leaves no trace', () => {
    const st = new Store();
    st.put('a', '1');
    st.put('b', '1');
    const partWay = (last: RequestOp) =>
      st.apply({ type: 'txn', compare: [], success: [{ type: 'put', key: b('a'), value: b('2') }, { type: 'delete-range', key: b('b'), rangeEnd: b('\0') }, last], failure: [] });
    const r = partWay({ type: 'range', key: b('a'), revision: 99 });
    assert.equal(errorCode(r), 'future-revision');
    assert.equal(r.revision, 3);
    assert.equal(errorCode(partWay({ type: 'put', key: b('absent'), value: b(''), ignoreValue: true })), 'key-not-found');
    assert.equal(s(st.get('a')!.value), '1');
    assert.equal(s(st.get('b')!.value), '1');
    assert.equal(st.sm.snapshot().versions.length, 2);
    assert.equal(st.put('c', 'x').revision, 4, 'the next write takes the next revision');
  });
});
