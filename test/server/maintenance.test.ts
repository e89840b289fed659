// The Snapshot stream (src/server/maintenance.ts) against a fake call: chunks
// with etcd's remaining_bytes countdown, the digest last, waiting for a slow
// client, stopping for a cancelled one.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SNAPSHOT_CHUNK_BYTES, streamSnapshot } from '../../src/server/maintenance.js';
import type { ServerStreamCall } from '../../src/server/grpc/handlers.js';
import type * as T from '../../src/server/grpc/etcd-types.js';

const HEADER = { cluster_id: 1, member_id: 2, revision: 3, raft_term: 4 };

/** A call whose buffer holds `room` messages before write() answers false; drained() empties it. */
function fakeCall(room: number): { call: ServerStreamCall<T.SnapshotResponse>; out: T.SnapshotResponse[]; drains: number; cancel(): void } {
  const state = { out: [] as T.SnapshotResponse[], drains: 0, buffered: 0, cancelled: false };
  const call = {
    method: '/etcdserverpb.Maintenance/Snapshot', metadata: {}, deadline: Infinity, signal: new AbortController().signal,
    get cancelled() { return state.cancelled; },
    write(r: T.SnapshotResponse): boolean {
      state.out.push(r);
      return ++state.buffered < room;
    },
    async drained(): Promise<void> {
      state.drains++;
      state.buffered = 0;
    },
  } as ServerStreamCall<T.SnapshotResponse>;
  return { call, out: state.out, get drains() { return state.drains; }, cancel: () => { state.cancelled = true; } };
}

describe('Maintenance.Snapshot stream', () => {
  test('32 KiB chunks counting remaining_bytes down to 0, the header on the first, the SHA-256 last; waits when the client is slow', async () => {
    const content = randomBytes(3 * SNAPSHOT_CHUNK_BYTES + 100);
    const digest = createHash('sha256').update(content).digest();
    const f = fakeCall(2);
    await streamSnapshot(f.call, content, digest, HEADER);
    assert.equal(f.out.length, 5);
    assert.deepEqual(f.out.map((r) => r.remaining_bytes), [2 * SNAPSHOT_CHUNK_BYTES + 100, SNAPSHOT_CHUNK_BYTES + 100, 100, 0, 0]);
    assert.deepEqual(f.out.map((r) => r.header !== undefined), [true, false, false, false, false]);
    assert.deepEqual(Buffer.concat(f.out.map((r) => r.blob as Uint8Array)), Buffer.concat([content, digest]));
    assert.equal(f.drains, 2, 'waited each time the buffer was full');
  });

  test('a cancelled call gets nothing more, not even the digest', async () => {
    const content = randomBytes(4 * SNAPSHOT_CHUNK_BYTES);
    const f = fakeCall(Infinity);
    const write = f.call.write.bind(f.call);
    f.call.write = (r) => {
      const ok = write(r);
      if (f.out.length === 2) f.cancel();
      return ok;
    };
    await streamSnapshot(f.call, content, Buffer.alloc(32), HEADER);
    assert.equal(f.out.length, 2);
  });
});
