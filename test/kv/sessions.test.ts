// Client sessions: exactly-once application and the bounded session table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import { MemoryBackend } from '../../src/kv/backend.js';
import type { KvBatch } from '../../src/kv/backend.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { SessionTable } from '../../src/kv/sessions.js';
import fc from 'fast-check';
import { b, errorCode, ok, Store } from './helpers.js';

const put = (k: string, v: string) => ({ type: 'put' as const, key: b(k), value: b(v) });

describe('sessions: exactly once', () => {
  test('a (client, seq) applied again returns the saved result and changes nothing', () => {
    const st = new Store();
    const first = ok(st.apply(put('k', '1'), 'alice', 1));
    st.apply(put('k', '2'), 'bob', 1);
    const again = st.apply(put('k', '1'), 'alice', 1);
    assert.deepEqual(again, first);
    assert.equal(st.sm.revision, 3);
    assert.equal(st.get('k')?.version, 2);
  });

  test('the saved result is the first outcome, even if the retry carries another command', () => {
    const st = new Store();
    const first = st.apply({ type: 'compact', revision: 5 }, 'alice', 1);
    assert.equal(errorCode(first), 'future-revision');
    assert.deepEqual(st.apply(put('x', 'y'), 'alice', 1), first);
    assert.equal(st.sm.revision, 1);
  });

  test('seq 0 opts out: applied every time, nothing saved', () => {
    const st = new Store();
    st.apply(put('k', '1'), 'anon', 0);
    st.apply(put('k', '1'), 'anon', 0);
    assert.equal(st.sm.revision, 3);
    assert.equal(st.sm.sessionCount, 0);
  });
});

describe('sessions: bounds', () => {
  test('least recently used sessions are evicted first; a retry after eviction applies again', () => {
    const st = new Store({ sessions: { maxSessions: 2 } });
    st.apply(put('k', 'a'), 'a', 1);
    st.apply(put('k', 'b'), 'b', 1);
    st.apply(put('k', 'a2'), 'a', 2); // a is now the most recent
    st.apply(put('k', 'c'), 'c', 1); // evicts b
    assert.deepEqual(st.sm.sessionRecords().map((r) => r.client), ['a', 'c']);
    const rev = st.sm.revision;
    st.apply(put('k', 'a'), 'a', 1);
    assert.equal(st.sm.revision, rev, 'a still remembered');
    st.apply(put('k', 'b'), 'b', 1);
    assert.equal(st.sm.revision, rev + 1, 'b forgotten: applied a second time (the documented consequence)');
  });

  test('a retry also counts as use', () => {
    const st = new Store({ sessions: { maxSessions: 2 } });
    st.apply(put('k', '1'), 'a', 1);
    st.apply(put('k', '2'), 'b', 1);
    st.apply(put('k', '1'), 'a', 1); // retry: a becomes the most recent
    st.apply(put('k', '3'), 'c', 1); // evicts b, not a
    assert.deepEqual(st.sm.sessionRecords().map((r) => r.client), ['a', 'c']);
  });

  test('per session, the oldest results are dropped and their retries refused as stale', () => {
    const st = new Store({ sessions: { maxResultsPerSession: 3 } });
    for (let seq = 1; seq <= 5; seq++) st.apply(put(`k${seq}`, 'v'), 'a', seq);
    assert.equal(errorCode(st.apply(put('k1', 'v'), 'a', 1)), 'stale-sequence');
    assert.equal(errorCode(st.apply(put('k2', 'v'), 'a', 2)), 'stale-sequence');
    assert.equal(ok(st.apply(put('k3', 'v'), 'a', 3)).revision, 4, 'seq 3 is still saved: its result came from revision 4');
    assert.equal(st.sm.revision, 6);
    ok(st.apply(put('k7', 'v'), 'a', 7)); // a gap in seqs is fine
    assert.equal(st.sm.revision, 7);
  });

  test('saved results are bounded in bytes: other sessions go first, then the oldest results of this one', () => {
    const st = new Store({ sessions: { maxResultBytes: 3000 } });
    const big = 'v'.repeat(1000);
    st.put('big', big);
    const readBig = { type: 'txn' as const, compare: [], success: [{ type: 'range' as const, key: b('big') }], failure: [] };
    st.apply(readBig, 'a', 1);
    st.apply(readBig, 'b', 1);
    assert.deepEqual(st.sm.sessionRecords().map((r) => r.client), ['a', 'b']);
    st.apply(readBig, 'c', 1); // a third 1 KB result: a goes
    assert.deepEqual(st.sm.sessionRecords().map((r) => r.client), ['b', 'c']);
    st.apply(readBig, 'c', 2);
    st.apply(readBig, 'c', 3);
    st.apply(readBig, 'c', 4); // c alone is over: b went, then c's oldest
    assert.deepEqual(st.sm.sessionRecords().map((r) => [r.client, r.results.map(([seq]) => seq)]), [['c', [3, 4]]]);
    assert.equal(errorCode(st.apply(readBig, 'c', 2)), 'stale-sequence');
    assert.deepEqual(st.sm.snapshot().sessions, st.sm.sessionRecords(), 'the backend followed every eviction and drop');
  });

  test('eviction order survives a snapshot: restored replicas evict the same session', () => {
    const a = new Store({ sessions: { maxSessions: 3 } });
    for (const c of ['x', 'y', 'z']) a.apply(put('k', c), c, 1);
    a.apply(put('k', 'x2'), 'x', 2);
    const restored = new KvStateMachine({ sessions: { maxSessions: 3 } });
    restored.restore(a.sm.snapshot());
    const next = { client: ClientId('w'), seq: 1, op: put('k', 'w') };
    a.sm.apply(LogIndex(5), next);
    restored.apply(LogIndex(5), next);
    assert.deepEqual(restored.sessionRecords(), a.sm.sessionRecords());
    assert.deepEqual(a.sm.sessionRecords().map((r) => r.client), ['z', 'x', 'w']);
  });
});

describe('the backend sees one atomic batch per applied entry', () => {
  class Recording extends MemoryBackend {
    batches: KvBatch[] = [];
    override apply(batch: KvBatch): void {
      this.batches.push(batch);
      super.apply(batch);
    }
  }

  test('batches carry the applied index, the writes, the session changes', () => {
    const backend = new Recording();
    const st = new Store({ backend, sessions: { maxSessions: 1 } });
    st.apply({ type: 'txn', compare: [], success: [put('a', '1'), put('b', '2')], failure: [] }, 'c1', 1);
    st.noop();
    st.apply(put('a', '3'), 'c2', 1);
    st.apply({ type: 'compact', revision: 3 });
    assert.deepEqual(
      backend.batches.map((x) => [x.meta.appliedIndex, x.meta.revision, x.put.length, x.remove.length, x.sessions.map((r) => r.client), x.evicted]),
      [
        [1, 2, 2, 0, ['c1'], []],
        [2, 2, 0, 0, [], []],
        [3, 3, 1, 0, ['c2'], ['c1']],
        [4, 3, 0, 1, [], []],
      ],
    );
  });

  test('a state machine over a backend that kept its state resumes where it stopped', () => {
    const backend = new MemoryBackend();
    const st = new Store({ backend });
    st.put('a', '1');
    st.apply(put('b', '2'), 'c', 1);
    const resumed = new KvStateMachine({ backend });
    assert.equal(resumed.appliedIndex, 2);
    assert.equal(resumed.revision, 3);
    assert.equal(resumed.chain, st.sm.chain);
    assert.deepEqual(resumed.apply(LogIndex(3), { client: ClientId('c'), seq: 1, op: put('b', '2') }), st.sm.savedResult(ClientId('c'), 1));
  });
});

describe('sessions: the lowest result dropped, whatever order the seqs come in', () => {
  test('property: the same drops, floors and records as a table that scans for the lowest every time', () => {
    const limits = { maxSessions: 3, maxResultsPerSession: 4, maxResultBytes: 1 << 30 };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 60 })), { maxLength: 120 }), (saves) => {
        const table = new SessionTable(limits);
        // The reference: per client the results by seq and the floor; the lowest found by a full scan.
        const model = new Map<string, { floor: number; seqs: Set<number> }>();
        let index = 0;
        for (const [c, seq] of saves) {
          const client = ClientId(`c${c}`);
          if (table.lookup(client, seq).kind !== 'new') continue;
          index++;
          const change = table.save(client, seq, { ok: true, revision: index, response: { type: 'put' } }, index);
          let m = model.get(client);
          if (m === undefined) {
            if (model.size >= limits.maxSessions) model.delete([...model.keys()][0] as string);
            model.set(client, (m = { floor: 0, seqs: new Set() }));
          } else {
            model.delete(client);
            model.set(client, m);
          }
          m.seqs.add(seq);
          const dropped: number[] = [];
          if (m.seqs.size > limits.maxResultsPerSession) {
            const lowest = Math.min(...m.seqs);
            m.seqs.delete(lowest);
            m.floor = Math.max(m.floor, lowest);
            dropped.push(lowest);
          }
          assert.deepEqual(change.update.dropped, dropped);
          assert.equal(change.update.floor, m.floor);
        }
        const got = table.records().map((r) => [r.client, r.floor, r.results.map(([s]) => s).sort((a, b) => a - b)]);
        const want = [...model].map(([client, m]) => [client, m.floor, [...m.seqs].sort((a, b) => a - b)]);
        assert.deepEqual(got, want);
      }),
      { numRuns: 300 },
    );
  });
});
