// etcd's HashKV over the MVCC store (MvccStore.hashKV): equal histories hash
// equally at every revision, any difference in a retained version changes the
// hash, later writes leave the hash of an earlier revision alone, and the
// revision rules are those of a read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { Store } from './helpers.js';

function hashOf(st: Store, rev = 0): number {
  const r = st.sm.hashKV(rev);
  if (!r.ok) throw new Error(r.error.message);
  return r.hash;
}

function history(st: Store, last = 'z'): void {
  st.put('a', '1');
  st.put('b', '2', { lease: 0 });
  st.put('a', '3');
  st.del('b');
  st.put('c', last);
}

describe('HashKV', () => {
  test('two stores with the same history hash equally at every revision', () => {
    const x = new Store();
    const y = new Store();
    history(x);
    history(y);
    for (let rev = 1; rev <= x.sm.revision; rev++) assert.equal(hashOf(x, rev), hashOf(y, rev), `revision ${rev}`);
    const r = x.sm.hashKV(0);
    assert.ok(r.ok);
    assert.equal(r.hashRevision, 6, 'revision 0 hashes the current revision');
    assert.equal(r.compactRevision, 0);
  });

  test('a different value, key, delete or lease changes the hash', () => {
    const base = new Store();
    history(base);
    const value = new Store();
    history(value, 'y');
    assert.notEqual(hashOf(base), hashOf(value));
    const key = new Store();
    key.put('a', '1');
    key.put('B', '2');
    assert.notEqual(hashOf(key, 3), hashOf(base, 3));
    // A tombstone is part of the history: the same live keys after a delete hash differently.
    const put = new Store();
    put.put('a', '1');
    put.put('x', '');
    const del = new Store();
    del.put('a', '1');
    del.put('x', '');
    del.del('x');
    put.put('x', '');
    assert.notEqual(hashOf(put), hashOf(del));
    const leased = new Store();
    leased.grant(7);
    leased.put('a', '1', { lease: 7 });
    const unleased = new Store();
    unleased.grant(7);
    unleased.put('a', '1');
    assert.notEqual(hashOf(leased), hashOf(unleased));
  });

  test('writes after a revision leave its hash unchanged; the current hash moves', () => {
    const st = new Store();
    history(st);
    const at4 = hashOf(st, 4);
    const now = hashOf(st);
    st.put('a', 'later');
    assert.equal(hashOf(st, 4), at4);
    assert.equal(hashOf(st, 6), now);
    assert.notEqual(hashOf(st), now);
  });

  test('a future revision and a compacted one are refused as a read would be', () => {
    const st = new Store();
    history(st);
    const future = st.sm.hashKV(st.sm.revision + 1);
    assert.ok(!future.ok && future.error.code === 'future-revision');
    st.apply({ type: 'compact', revision: 4 });
    const compacted = st.sm.hashKV(3);
    assert.ok(!compacted.ok && compacted.error.code === 'compacted');
    const at = st.sm.hashKV(4);
    assert.ok(at.ok && at.compactRevision === 4 && at.hashRevision === 4);
  });

  test('a store restored from a snapshot hashes as the original', () => {
    const st = new Store();
    history(st);
    st.apply({ type: 'compact', revision: 3 });
    const copy = new KvStateMachine();
    copy.restore(st.sm.snapshot());
    assert.deepEqual(copy.hashKV(0), st.sm.hashKV(0));
    assert.deepEqual(copy.hashKV(4), st.sm.hashKV(4));
  });
});
