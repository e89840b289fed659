// The watch hub against a real in-memory state machine: order, ranges, prev_kv,
// filters, replay, compaction, cancel, ids, limits, a slow client, progress,
// snapshot restore, and the packing of responses.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Store, b } from '../kv/helpers.js';
import { loadEtcdRoot } from '../../src/server/grpc/proto.js';
import { WatchHub, createOf, type CreateRequest, type WatchLimits, type WatchSink, type WatchStream } from '../../src/server/watch.js';
import { packRevisions } from '../../src/server/watch-wire.js';
import type * as T from '../../src/server/grpc/etcd-types.js';
import type { ChangeEvent } from '../../src/kv/changes.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

/** A sink that records responses; `room` responses fit before it reports full. */
class Sink implements WatchSink {
  readonly out: T.WatchResponse[] = [];
  cancelled = false;
  room = Infinity;
  private release: (() => void) | null = null;
  write(r: T.WatchResponse): boolean {
    this.out.push(r);
    return this.out.length < this.room;
  }
  drained(): Promise<void> {
    return new Promise((r) => { this.release = r; });
  }
  drain(): void {
    this.room = Infinity;
    this.release?.();
  }
  events(id?: number): { type: number; key: string; value: string; rev: number; prev: string | null }[] {
    return this.out.filter((r) => id === undefined || r.watch_id === id).flatMap((r) => (r.events ?? []).map((e) => ({
      type: e.type ?? 0, key: Buffer.from(e.kv?.key ?? []).toString(), value: Buffer.from(e.kv?.value ?? []).toString(),
      rev: Number(e.kv?.mod_revision), prev: e.prev_kv ? Buffer.from(e.prev_kv.value ?? []).toString() : null,
    })));
  }
}

function setup(limits: Partial<WatchLimits> = {}): { st: Store; hub: WatchHub; sink: Sink; stream: WatchStream } {
  const st = new Store();
  const hub = new WatchHub(st.sm, (revision) => ({ revision }), limits);
  st.sm.setChangeListener((rev, ev) => hub.onChanges(rev, ev));
  const sink = new Sink();
  const stream = hub.open(sink) as WatchStream;
  return { st, hub, sink, stream };
}

function req(key: string, more: Partial<CreateRequest> = {}): CreateRequest {
  return { key: b(key), rangeEnd: new Uint8Array(0), startRevision: 0, watchId: 0, prevKv: false, noPut: false, noDelete: false, progressNotify: false, fragment: false, ...more };
}
const prefix = (p: string): Partial<CreateRequest> => ({ rangeEnd: b(p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)) });

describe('watch hub: live events', () => {
  test('a key and a prefix see their own changes, in revision order, after created with the header revision', async () => {
    const { st, hub, sink, stream } = setup();
    st.put('a', '0');
    stream.create(req('a'));
    stream.create(req('p/', prefix('p/')));
    st.put('a', '1');
    st.put('p/x', '2');
    st.put('q', 'no');
    st.apply({ type: 'txn', compare: [], success: [{ type: 'put', key: b('p/y'), value: b('3') }, { type: 'delete-range', key: b('a') }], failure: [] });
    await settle();
    assert.deepEqual(sink.out.slice(0, 2).map((r) => [r.watch_id, r.created, r.header?.revision]), [[0, true, 2], [1, true, 2]]);
    assert.deepEqual(sink.events(0).map((e) => [e.type, e.key, e.rev]), [[0, 'a', 3], [1, 'a', 6]]);
    assert.deepEqual(sink.events(1).map((e) => [e.key, e.value, e.rev]), [['p/x', '2', 4], ['p/y', '3', 6]]);
    hub.close();
  });

  test('prev_kv only when asked; NOPUT and NODELETE filters', async () => {
    const { st, hub, sink, stream } = setup();
    stream.create(req('k', { prevKv: true }));
    stream.create(req('k', { noPut: true }));
    stream.create(req('k', { noDelete: true }));
    st.put('k', 'v1');
    st.put('k', 'v2');
    st.del('k');
    await settle();
    assert.deepEqual(sink.events(0).map((e) => [e.type, e.value, e.prev]), [[0, 'v1', null], [0, 'v2', 'v1'], [1, '', 'v2']]);
    assert.deepEqual(sink.events(1).map((e) => [e.type, e.prev]), [[1, null]]);
    assert.deepEqual(sink.events(2).map((e) => [e.type, e.value]), [[0, 'v1'], [0, 'v2']]);
    hub.close();
  });

  test('the live feed equals the history read of the same revisions', async () => {
    const { st, hub, sink, stream } = setup();
    stream.create(req('', { rangeEnd: b('\0'), prevKv: true }));
    for (let i = 0; i < 40; i++) {
      if (i % 7 === 3) st.del('k', 'l');
      else st.put(`k${i % 4}`, `v${i}`);
    }
    await settle();
    const history = new Sink();
    const replay = hub.open(history) as WatchStream;
    replay.create(req('', { rangeEnd: b('\0'), prevKv: true, startRevision: 1 }));
    await settle();
    assert.ok(sink.events().length > 30);
    assert.deepEqual(history.events(), sink.events());
    hub.close();
  });
});

describe('watch hub: history and compaction', () => {
  test('a start revision replays history, then live events follow with nothing lost or repeated', async () => {
    const { st, hub, sink, stream } = setup({ catchUpBatch: 3 });
    for (let i = 0; i < 10; i++) st.put('h', String(i));
    stream.create(req('h', { startRevision: 4 }));
    st.put('h', 'live1');
    await settle();
    st.put('h', 'live2');
    await settle();
    assert.deepEqual(sink.events().map((e) => e.rev), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.equal(sink.events().at(-1)?.value, 'live2');
    hub.close();
  });

  test('a start revision below the compaction: created, then canceled with compact_revision', async () => {
    const { st, hub, sink, stream } = setup();
    for (let i = 0; i < 5; i++) st.put('c', String(i));
    st.apply({ type: 'compact', revision: 4 });
    stream.create(req('c', { startRevision: 2 }));
    stream.create(req('c', { startRevision: 4 }));
    await settle();
    const first = sink.out.filter((r) => r.watch_id === 0);
    assert.deepEqual(first.map((r) => [r.created ?? false, r.canceled ?? false, r.compact_revision ?? 0]), [[true, false, 0], [false, true, 4]]);
    assert.deepEqual(sink.events(1).map((e) => e.rev), [4, 5, 6]);
    assert.equal(stream.size, 1);
    hub.close();
  });

  test('a snapshot restore is caught up from history', async () => {
    const { st, hub, sink, stream } = setup();
    stream.create(req('r', { prevKv: true }));
    st.put('r', '1');
    await settle();
    const src = new Store();
    for (let i = 0; i < 4; i++) src.put('r', `s${i}`);
    st.sm.restore(src.sm.snapshot());
    await settle();
    // The restored state's history from revision 3 on: s1, s2, s3 (revision 2 was already delivered as '1').
    assert.deepEqual(sink.events().map((e) => [e.rev, e.value]), [[2, '1'], [3, 's1'], [4, 's2'], [5, 's3']]);
    hub.close();
  });
});

describe('watch hub: cancel, ids and limits', () => {
  test('cancel answers canceled and stops events; ids are assigned from 0; a duplicate id is refused', async () => {
    const { st, hub, sink, stream } = setup({ maxWatchersPerStream: 3 });
    stream.create(req('x'));
    stream.create(req('x', { watchId: 7 }));
    stream.create(req('x', { watchId: 7 }));
    stream.create(req('x'));
    stream.create(req('x'));
    await settle();
    const created = sink.out.map((r) => [r.watch_id, r.created ?? false, r.canceled ?? false]);
    assert.deepEqual(created, [[0, true, false], [7, true, false], [-1, true, true], [1, true, false], [-1, true, true]]);
    assert.match(sink.out[2]?.cancel_reason ?? '', /duplicate/);
    assert.match(sink.out[4]?.cancel_reason ?? '', /too many watchers/);
    stream.cancel(0);
    stream.cancel(42);
    st.put('x', '1');
    await settle();
    assert.deepEqual(sink.out[5], { header: { revision: 1 }, watch_id: 0, canceled: true });
    assert.deepEqual(sink.events(0), []);
    assert.equal(sink.events(7).length, 1);
    hub.close();
  });

  test('a stream limit refuses more streams', () => {
    const st = new Store();
    const hub = new WatchHub(st.sm, (revision) => ({ revision }), { maxStreams: 1 });
    assert.notEqual(hub.open(new Sink()), null);
    assert.equal(hub.open(new Sink()), null);
    hub.close();
  });
});

describe('watch hub: a slow client', () => {
  test('buffers stay bounded; once drained every event arrives once, in order', async () => {
    const { st, hub, sink, stream } = setup({ maxBufferedEvents: 5, catchUpBatch: 4, maxEventsPerResponse: 3 });
    stream.create(req('s'));
    await settle();
    sink.room = 2; // full after one more response
    for (let i = 0; i < 30; i++) {
      st.put('s', String(i));
      if (i % 10 === 0) await settle(3);
    }
    await settle();
    const whileFull = sink.events().length;
    assert.ok(whileFull < 30, `sent ${whileFull} while full`);
    sink.drain();
    await settle(60);
    assert.deepEqual(sink.events().map((e) => e.value), Array.from({ length: 30 }, (_, i) => String(i)));
    assert.ok(sink.out.every((r) => (r.events?.length ?? 0) <= 3));
    hub.close();
  });

  test('history compacted while the client was slow: canceled with compact_revision', async () => {
    const { st, hub, sink, stream } = setup({ maxBufferedEvents: 2 });
    stream.create(req('s'));
    await settle();
    sink.room = 2;
    st.put('s', 'first');
    await settle();
    for (let i = 0; i < 10; i++) st.put('s', String(i));
    st.apply({ type: 'compact', revision: 9 });
    sink.drain();
    await settle(40);
    assert.deepEqual(sink.events().map((e) => e.value), ['first']);
    const last = sink.out.at(-1);
    assert.equal(last?.canceled, true);
    assert.equal(last?.compact_revision, 9);
    assert.equal(stream.size, 0);
    hub.close();
  });
});

describe('watch hub: progress', () => {
  test('a progress request answers the current revision once every watcher is caught up', async () => {
    const { st, hub, sink, stream } = setup({ catchUpBatch: 2 });
    for (let i = 0; i < 8; i++) st.put('g', String(i));
    stream.create(req('g', { startRevision: 1 }));
    stream.requestProgress();
    await settle(40);
    const p = sink.out.at(-1);
    assert.deepEqual(p, { header: { revision: 9 }, watch_id: -1 });
    assert.equal(sink.events().length, 8);
    hub.close();
  });

  test('progress_notify: idle synced watchers hear the revision', async () => {
    const { st, hub, sink, stream } = setup({ progressNotifyMs: 30 });
    stream.create(req('n', { progressNotify: true }));
    stream.create(req('n'));
    st.put('other', '1');
    await new Promise((r) => setTimeout(r, 120));
    const notes = sink.out.filter((r) => r.events !== undefined && r.events.length === 0);
    assert.ok(notes.length >= 1);
    assert.ok(notes.every((r) => r.watch_id === 0 && r.header?.revision === 2));
    hub.close();
  });
});

describe('watch responses: packing', () => {
  const ev = (rev: number, n = 1): ChangeEvent[] => Array.from({ length: n }, (_, i) => ({ type: 'put', kv: { key: b(`k${i}`), value: b('v'), createRevision: rev, modRevision: rev, version: 1, lease: 0 } }));
  test('whole revisions per response; an oversized revision alone, or in fragments when asked', () => {
    const events = [...ev(1, 2), ...ev(2, 2), ...ev(3, 5), ...ev(4, 1)];
    const plain = packRevisions(events, 3, 1 << 20, false);
    assert.deepEqual(plain.map((p) => [p.events.map((e) => e.kv.modRevision).join(''), p.fragment]), [['11', false], ['22', false], ['33333', false], ['4', false]]);
    const frag = packRevisions(events, 3, 1 << 20, true);
    assert.deepEqual(frag.map((p) => [p.events.map((e) => e.kv.modRevision).join(''), p.fragment]), [['11', false], ['22', false], ['333', true], ['33', false], ['4', false]]);
  });
});

describe('watch requests from the wire', () => {
  test('a decoded create_request with absent fields (one key, no range_end) and with filters', () => {
    const type = loadEtcdRoot().lookupType('etcdserverpb.WatchRequest');
    const decode = (o: object): T.WatchRequest => type.decode(type.encode(type.fromObject(o)).finish()) as unknown as T.WatchRequest;
    const one = createOf(decode({ create_request: { key: Buffer.from('k') } }).create_request as T.WatchCreateRequest);
    assert.deepEqual([Buffer.from(one.key).toString(), one.rangeEnd.length, one.startRevision, one.watchId, one.noPut, one.noDelete], ['k', 0, 0, 0, false, false]);
    const all = createOf(decode({ create_request: { range_end: Buffer.from([0]), start_revision: 7, filters: [0, 1], prev_kv: true, watch_id: 3 } }).create_request as T.WatchCreateRequest);
    assert.deepEqual([all.key.length, [...all.rangeEnd], all.startRevision, all.watchId, all.noPut, all.noDelete, all.prevKv], [0, [0], 7, 3, true, true, true]);
  });
});
