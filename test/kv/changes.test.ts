// The change stream for etcd's Watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../src/kv/changes.js';
import { MemoryBackend, type Revision, type StoredVersion } from '../../src/kv/backend.js';
import { b, s, Store } from './helpers.js';

const show = (e: ChangeEvent) => `${e.type} ${s(e.kv.key)}@${e.kv.modRevision} v${e.kv.version}=${s(e.kv.value)}${e.prevKv ? ` (was ${s(e.prevKv.value)})` : ''}`;
const ALL = { key: b('\0'), rangeEnd: b('\0') };

test('changes since a revision, in revision order, with previous versions', () => {
  const st = new Store();
  st.put('a', '1'); // 2
  st.put('b', '1'); // 3
  st.put('a', '2'); // 4
  st.apply({ type: 'txn', compare: [], success: [{ type: 'delete-range', key: b('a') }, { type: 'put', key: b('c'), value: b('x') }], failure: [] }); // 5
  const all = st.sm.changes(ALL, 0);
  assert.ok(all.ok);
  assert.deepEqual(all.events.map(show), ['put a@2 v1=1', 'put b@3 v1=1', 'put a@4 v2=2 (was 1)', 'delete a@5 v0= (was 2)', 'put c@5 v1=x']);
  const fromFour = st.sm.changes({ key: b('a') }, 4);
  assert.ok(fromFour.ok);
  assert.deepEqual(fromFour.events.map(show), ['put a@4 v2=2 (was 1)', 'delete a@5 v0= (was 2)']);
  const limited = st.sm.changes(ALL, 0, 2);
  assert.ok(limited.ok && limited.more && limited.events.length === 2);
});

test('changes below the compact revision are refused with it', () => {
  const st = new Store();
  st.put('a', '1');
  st.put('a', '2');
  st.apply({ type: 'compact', revision: 3 });
  assert.deepEqual(st.sm.changes(ALL, 2), { ok: false, compactRevision: 3 });
  const r = st.sm.changes(ALL, 3);
  assert.ok(r.ok);
  assert.deepEqual(r.events.map(show), ['put a@3 v2=2']);
});

test('the change events of a write are built only while the listener wants them, and a put reads the previous value only when it uses it', () => {
  let reads = 0;
  class CountingBackend extends MemoryBackend {
    override get(rev: Revision): StoredVersion | undefined {
      reads++;
      return super.get(rev);
    }
  }
  const st = new Store({ backend: new CountingBackend() });
  const heard: string[] = [];
  let watching = false;
  st.sm.setChangeListener((rev, events) => heard.push(`${rev}:${(events ?? []).map(show).join(',')}`), () => watching);
  st.put('a', '1');
  st.put('a', '2');
  assert.deepEqual(heard, [], 'nobody watches: no events');
  assert.equal(reads, 0, 'no previous value read for a put without prev_kv');
  watching = true;
  st.put('a', '3');
  assert.deepEqual(heard, ['4:put a@4 v3=3 (was 2)']);
  reads = 0;
  watching = false;
  const r = st.put('a', '4', { prevKv: true });
  assert.equal(reads, 1, 'prev_kv reads the previous value once');
  assert.ok(r.ok && r.response.type === 'put' && r.response.prevKv !== undefined && s(r.response.prevKv.value) === '3');
});
