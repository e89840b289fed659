// etcd v3 MVCC semantics by example: revisions, versions, ranges, compaction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { b, errorCode, kvText, ok, rangeOf, s, Store } from './helpers.js';
import type { DeleteRangeResponse, PutResponse } from '../../src/kv/command.js';

describe('revisions and versions', () => {
  test('the store starts at revision 1; each write transaction adds one', () => {
    const st = new Store();
    assert.equal(st.sm.revision, 1);
    assert.equal(ok(st.put('foo', 'a')).revision, 2);
    assert.deepEqual(kvText(st.get('foo')), { key: 'foo', value: 'a', create: 2, mod: 2, version: 1, lease: 0 });
    st.put('foo', 'b');
    assert.deepEqual(kvText(st.get('foo')), { key: 'foo', value: 'b', create: 2, mod: 3, version: 2, lease: 0 });
  });

  test('a delete ends the key: it comes back with a new create revision and version 1', () => {
    const st = new Store();
    st.put('foo', 'a');
    st.put('foo', 'b');
    assert.equal(ok(st.del('foo')).revision, 4);
    assert.equal(st.get('foo'), undefined);
    st.put('foo', 'c');
    assert.deepEqual(kvText(st.get('foo')), { key: 'foo', value: 'c', create: 5, mod: 5, version: 1, lease: 0 });
  });

  test('a delete that removes nothing, and a no-op entry, leave the revision alone', () => {
    const st = new Store();
    st.put('a', '1');
    const r = ok(st.del('zzz'));
    assert.equal(r.revision, 2);
    assert.equal((r.response as DeleteRangeResponse).deleted, 0);
    st.noop();
    assert.equal(st.sm.revision, 2);
    assert.equal(st.sm.appliedIndex, 3);
  });

  test('prev_kv returns the version replaced or deleted', () => {
    const st = new Store();
    st.put('a', '1');
    st.put('b', '2');
    const p = ok(st.put('a', '3', { prevKv: true })).response as PutResponse;
    assert.deepEqual(kvText(p.prevKv), { key: 'a', value: '1', create: 2, mod: 2, version: 1, lease: 0 });
    assert.equal((ok(st.put('new', 'x', { prevKv: true })).response as PutResponse).prevKv, undefined);
    const d = ok(st.del('a', 'c')).response as DeleteRangeResponse;
    assert.equal(d.deleted, 2);
    assert.deepEqual(d.prevKvs.map((kv) => `${s(kv.key)}=${s(kv.value)}`), ['a=3', 'b=2']);
  });

  test('ignore_value and ignore_lease keep what the key has; on a missing key they fail', () => {
    const st = new Store();
    st.grant(7);
    st.grant(9);
    st.put('a', 'v', { lease: 7 });
    st.put('a', '', { ignoreValue: true });
    assert.deepEqual(kvText(st.get('a')), { key: 'a', value: 'v', create: 2, mod: 3, version: 2, lease: 0 });
    st.put('a', 'w', { lease: 9 });
    st.put('a', 'z', { ignoreLease: true });
    assert.equal(st.get('a')?.lease, 9);
    assert.equal(errorCode(st.put('missing', '', { ignoreValue: true })), 'key-not-found');
    assert.equal(st.sm.revision, 5);
  });
});

describe('ranges', () => {
  const st = new Store();
  for (const k of ['a', 'ab', 'abc', 'b', 'c']) st.put(k, `v-${k}`);
  const keys = (r: Parameters<Store['sm']['range']>[0]) => rangeOf(st.sm.range(r)).kvs.map((kv) => s(kv.key));

  test('single key, [key, range_end), every key from key ("\\0"), everything', () => {
    assert.deepEqual(keys({ key: b('ab') }), ['ab']);
    assert.deepEqual(keys({ key: b('a'), rangeEnd: b('b') }), ['a', 'ab', 'abc']);
    assert.deepEqual(keys({ key: b('ab'), rangeEnd: b('\0') }), ['ab', 'abc', 'b', 'c']);
    assert.deepEqual(keys({ key: b('\0'), rangeEnd: b('\0') }), ['a', 'ab', 'abc', 'b', 'c']);
    assert.deepEqual(keys({ key: b('c'), rangeEnd: b('a') }), [], 'an empty interval');
  });

  test('limit cuts and sets more; count counts all', () => {
    const r = rangeOf(st.sm.range({ key: b('a'), rangeEnd: b('\0'), limit: 2 }));
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more, r.count], [['a', 'ab'], true, 5]);
    const all = rangeOf(st.sm.range({ key: b('a'), rangeEnd: b('\0'), limit: 5 }));
    assert.equal(all.more, false);
  });

  test('count_only and keys_only', () => {
    const c = rangeOf(st.sm.range({ key: b('a'), rangeEnd: b('b'), countOnly: true }));
    assert.deepEqual([c.kvs.length, c.count], [0, 3]);
    const k = rangeOf(st.sm.range({ key: b('a'), keysOnly: true }));
    assert.equal(k.kvs[0]?.value.length, 0);
    assert.equal(k.kvs[0]?.version, 1);
  });

  test('sort by a target, ascending by default when the target is not the key; limit after sorting', () => {
    assert.deepEqual(keys({ key: b('a'), rangeEnd: b('\0'), sortOrder: 'descend' }), ['c', 'b', 'abc', 'ab', 'a']);
    assert.deepEqual(keys({ key: b('a'), rangeEnd: b('\0'), sortTarget: 'mod', sortOrder: 'descend', limit: 2 }), ['c', 'b']);
    assert.deepEqual(keys({ key: b('a'), rangeEnd: b('\0'), sortTarget: 'create' }), ['a', 'ab', 'abc', 'b', 'c']);
  });

  test('revision filters', () => {
    assert.deepEqual(keys({ key: b('a'), rangeEnd: b('\0'), minModRevision: 4, maxModRevision: 5 }), ['abc', 'b']);
    assert.equal(rangeOf(st.sm.range({ key: b('a'), rangeEnd: b('\0'), minCreateRevision: 6 })).count, 5, 'count ignores the filters, as etcd');
  });
});

describe('historical reads and compaction', () => {
  test('reads at a past revision see the store as it was', () => {
    const st = new Store();
    st.put('k', '1'); // 2
    st.put('k', '2'); // 3
    st.del('k'); // 4
    st.put('k', '3'); // 5
    assert.equal(s(st.get('k', 2)!.value), '1');
    assert.equal(s(st.get('k', 3)!.value), '2');
    assert.equal(st.get('k', 4), undefined);
    assert.equal(st.get('k', 1), undefined);
    assert.equal(errorCode(st.sm.range({ key: b('k'), revision: 6 })), 'future-revision');
  });

  test('compaction: older revisions fail, the compact revision itself still reads, repeats fail', () => {
    const st = new Store();
    st.put('k', '1'); // 2
    st.put('k', '2'); // 3
    st.put('gone', 'x'); // 4
    st.del('gone'); // 5
    ok(st.apply({ type: 'compact', revision: 4 }));
    assert.equal(st.sm.revision, 5, 'compaction writes no revision');
    assert.equal(errorCode(st.sm.range({ key: b('k'), revision: 3 })), 'compacted');
    assert.equal(s(st.get('k', 4)!.value), '2');
    assert.equal(s(st.get('gone', 4)!.value), 'x');
    assert.equal(errorCode(st.apply({ type: 'compact', revision: 4 })), 'compacted');
    assert.equal(errorCode(st.apply({ type: 'compact', revision: 9 })), 'future-revision');
    ok(st.apply({ type: 'compact', revision: 5 }));
    assert.equal(st.get('gone', 5), undefined);
    assert.equal(st.sm.snapshot().versions.length, 1, 'only k@3 is left');
  });
});
