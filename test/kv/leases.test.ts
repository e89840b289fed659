// Leases: grant, attach on put, revoke deletes the attached keys in one revision.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import type { LeaseGrantResponse, LeaseLeasesResponse, LeaseRevokeResponse, LeaseTimeToLiveResponse } from '../../src/kv/command.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { b, errorCode, ok, s, Store } from './helpers.js';

const ttlOf = (st: Store, id: number, keys = true) => {
  const r = st.sm.read({ type: 'lease-time-to-live', id, keys });
  return r.ok ? (r.response as LeaseTimeToLiveResponse) : r.error.code;
};

describe('leases', () => {
  test('grant: a chosen id, or id 0 for the grant log index; a taken id is refused', () => {
    const st = new Store();
    assert.deepEqual(ok(st.grant(42, 10)).response, { type: 'lease-grant', id: 42, ttl: 10 });
    st.noop();
    assert.equal((ok(st.grant(0)).response as LeaseGrantResponse).id, 3, 'the third log entry');
    assert.equal(errorCode(st.grant(42)), 'lease-exists');
    assert.equal(errorCode(st.grant(1, 0)), 'invalid');
    assert.equal(errorCode(st.grant(1, 9_000_000_001)), 'lease-ttl-too-large');
    assert.equal(st.sm.revision, 1, 'grants write no revision');
    const all = ok(st.sm.read({ type: 'lease-leases' })).response as LeaseLeasesResponse;
    assert.deepEqual(all.leases, [{ id: 3, ttl: 60 }, { id: 42, ttl: 10 }]);
  });

  test('a put needs an existing lease; keys follow their latest put', () => {
    const st = new Store();
    assert.equal(errorCode(st.put('a', '1', { lease: 5 })), 'lease-not-found');
    st.grant(5);
    st.grant(6);
    st.put('a', '1', { lease: 5 });
    st.put('b', '1', { lease: 5 });
    st.put('c', '1', { lease: 6 });
    st.put('b', '2', { lease: 6 }); // b moves to lease 6
    st.put('c', '2', { ignoreLease: true });
    assert.deepEqual((ttlOf(st, 5) as LeaseTimeToLiveResponse).keys.map(s), ['a']);
    assert.deepEqual((ttlOf(st, 6) as LeaseTimeToLiveResponse).keys.map(s), ['b', 'c']);
    assert.equal((ttlOf(st, 6, false) as LeaseTimeToLiveResponse).keys.length, 0);
    st.del('c');
    assert.deepEqual((ttlOf(st, 6) as LeaseTimeToLiveResponse).keys.map(s), ['b']);
    assert.equal(ttlOf(st, 99), 'lease-not-found');
  });

  test('revoke deletes the attached keys in one revision, and the lease is gone', () => {
    const st = new Store();
    st.grant(5);
    st.put('x', '1', { lease: 5 });
    st.put('y', '1', { lease: 5 });
    st.put('z', '1');
    const r = ok(st.apply({ type: 'lease-revoke', id: 5 }));
    assert.deepEqual(r.response as LeaseRevokeResponse, { type: 'lease-revoke', deleted: 2 });
    assert.equal(r.revision, 5);
    assert.equal(st.get('x'), undefined);
    assert.equal(st.get('y'), undefined);
    assert.equal(s(st.get('z')!.value), '1');
    assert.equal(errorCode(st.apply({ type: 'lease-revoke', id: 5 })), 'lease-not-found');
    assert.equal(errorCode(st.put('x', '1', { lease: 5 })), 'lease-not-found');
    st.grant(7);
    assert.equal(ok(st.apply({ type: 'lease-revoke', id: 7 })).revision, 5, 'revoking an empty lease writes no revision');
  });

  test('a txn whose put names a missing lease leaves no trace', () => {
    const st = new Store();
    const r = st.apply({ type: 'txn', compare: [], success: [{ type: 'put', key: b('a'), value: b('') }, { type: 'put', key: b('b'), value: b(''), lease: 3 }], failure: [] });
    assert.equal(errorCode(r), 'lease-not-found');
    assert.equal(st.get('a'), undefined);
  });

  test('leases and their keys survive a snapshot and a restart from the backend', () => {
    const st = new Store();
    st.grant(5);
    st.put('k', 'v', { lease: 5 });
    const restored = new KvStateMachine();
    restored.restore(st.sm.snapshot());
    const revoke = { client: ClientId('c'), seq: 0, op: { type: 'lease-revoke', id: 5 } } as const;
    assert.deepEqual(restored.apply(LogIndex(3), revoke), st.sm.apply(LogIndex(3), revoke));
    assert.equal(restored.keyCount, 0);
  });
});
