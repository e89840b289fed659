// synod's snapshot file (src/server/snapshot-file.ts) and restore
// (src/server/snapshot-restore.ts), in process: round trip of a real state
// machine's state, refusal of truncated and damaged files, and a restored data
// directory recovered by each protocol into the same state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Store, b, kvText, rangeOf } from '../kv/helpers.js';
import { decodeSnapshotFile, encodeSnapshotFile, snapshotFileBytes, SnapshotFileError, SNAPSHOT_DIGEST_BYTES } from '../../src/server/snapshot-file.js';
import { restoreDataDir, RestoreError } from '../../src/server/snapshot-restore.js';
import { resolveConfig } from '../../src/server/config.js';
import { bindProtocol } from '../../src/server/protocols.js';
import { openDurableLog } from '../../src/storage/open-durable-log.js';
import { KvNode } from '../../src/kv/adapter.js';
import type { KvCommand } from '../../src/kv/command.js';
import type { KvSnapshot } from '../../src/kv/snapshot.js';

const IDS = { memberId: 0xabc, clusterId: 0xdef };

/** A store with history: overwrites, a delete, a lease with a key, a compaction, and a client session. */
function storeWithHistory(): Store {
  const st = new Store();
  st.noop();
  st.put('a', '1');
  st.put('b', '1');
  st.put('a', '2');
  st.del('b');
  st.grant(7, 30);
  st.put('leased', 'x', { lease: 7 });
  st.apply({ type: 'compact', revision: 3 });
  st.apply({ type: 'put', key: b('c'), value: b('with a session') }, 'client-1', 1);
  st.put('a', '3');
  return st;
}

function bytesOf(st: Store): Buffer {
  return snapshotFileBytes(encodeSnapshotFile(st.sm.snapshot(), IDS));
}

function refused(bytes: Buffer, pattern: RegExp): void {
  assert.throws(() => decodeSnapshotFile('snap.db', bytes), (e: unknown) => e instanceof SnapshotFileError && e.message.startsWith('snap.db: ') && pattern.test(e.message), pattern.source);
}

describe('snapshot file: format', () => {
  test('round trip: every version, the leases, the revisions; sessions left out; etcdctl-compatible length', () => {
    const st = storeWithHistory();
    const bytes = bytesOf(st);
    assert.equal(bytes.length % 512, SNAPSHOT_DIGEST_BYTES, 'content in 512-byte pages, then the digest');
    const d = decodeSnapshotFile('snap.db', bytes);
    const orig = st.sm.snapshot();
    assert.deepEqual(d.snapshot.versions.map((v) => [v.key, v.main, v.sub, Buffer.from(v.value).toString(), v.tombstone]), orig.versions.map((v) => [v.key, v.main, v.sub, Buffer.from(v.value).toString(), v.tombstone]));
    assert.deepEqual(d.snapshot.leases, [{ id: 7, ttl: 30 }]);
    assert.equal(d.snapshot.sessions.length, 0);
    assert.ok(orig.sessions.length > 0);
    assert.deepEqual(d.header, { ...d.header, revision: st.sm.revision, compactRevision: 3, appliedIndex: st.sm.appliedIndex, keys: 3, leases: 1, versions: orig.versions.length });
  });

  test('every truncation is refused, naming the file and what is missing', () => {
    const bytes = bytesOf(storeWithHistory());
    for (let n = 0; n < bytes.length; n += 7) refused(bytes.subarray(0, n), n === 0 ? /is empty/ : /truncated/);
    refused(bytes.subarray(0, bytes.length - 1), /truncated: \d+ bytes, and its header promises \d+ \(1 missing\)/);
  });

  test('a changed byte anywhere is refused', () => {
    const bytes = bytesOf(storeWithHistory());
    for (let at = 0; at < bytes.length; at += 5) {
      const bad = Buffer.from(bytes);
      bad[at] = (bad[at] as number) ^ 0x40;
      assert.throws(() => decodeSnapshotFile('snap.db', bad), SnapshotFileError, `byte ${at}`);
    }
    const bad = Buffer.from(bytes);
    bad[bad.length - 40] = 1;
    refused(bad, /padding|SHA-256/);
    refused(Buffer.concat([bytes, Buffer.from('x')]), /unexpected bytes/);
  });

  test('--skip-hash-check accepts a file whose digest is wrong but whose content is whole', () => {
    const bytes = bytesOf(storeWithHistory());
    bytes.fill(0, bytes.length - SNAPSHOT_DIGEST_BYTES);
    refused(bytes, /SHA-256 does not match/);
    assert.equal(decodeSnapshotFile('snap.db', bytes, { skipHashCheck: true }).header.keys, 3);
  });

  test('other files: an etcd (bbolt) snapshot, something else, a future format', () => {
    const bolt = Buffer.alloc(4096);
    bolt.writeUInt32LE(0xed0cdaed, 16);
    refused(bolt, /is an etcd \(bbolt\) snapshot/);
    refused(Buffer.from('hello world, this is not a snapshot at all, no no no'), /not a synod snapshot/);
    const future = bytesOf(storeWithHistory());
    future.writeUInt32LE(2, 8);
    refused(future, /snapshot file format 2; this synod reads format 1/);
  });
});

for (const protocol of ['raft', 'multipaxos'] as const) describe(`snapshot restore on ${protocol}`, () => {
  test('each restored member recovers the same state, as the new cluster\'s members', async () => {
    const st = storeWithHistory();
    const file = decodeSnapshotFile('snap.db', bytesOf(st));
    const dir = mkdtempSync(join(tmpdir(), 'synod-restore-'));
    const cluster = 'x=http://127.0.0.1:41001,y=http://127.0.0.1:41002,z=http://127.0.0.1:41003';
    try {
      for (const [name, port] of [['x', 41001], ['y', 41002], ['z', 41003]] as const) {
        const cfg = resolveConfig({ name, dataDir: join(dir, name), initialCluster: cluster, initialAdvertisePeerUrls: `http://127.0.0.1:${port}`, listenPeerUrls: `http://127.0.0.1:${port}`, protocol });
        await restoreDataDir(cfg, file.snapshot, pino({ level: 'silent' }));
        const { log: durable, recovered } = await openDurableLog<unknown>(join(cfg.dataDir, 'wal'));
        await durable.close();
        const binding = bindProtocol<KvCommand, KvSnapshot>({ protocol, id: cfg.memberId, members: [...cfg.members.keys()], electionTicks: 10 }, recovered);
        assert.deepEqual([...binding.membership().voters].sort(), [...cfg.members.keys()].sort());
        const node = KvNode.recover(binding.log, {});
        node.ready();
        node.advance();
        assert.equal(node.sm.revision, st.sm.revision);
        assert.equal(node.sm.compactRevision, 3);
        assert.equal(node.sm.appliedIndex, st.sm.appliedIndex);
        for (const k of ['a', 'b', 'c', 'leased']) assert.deepEqual(kvText(rangeOf(node.sm.range({ key: b(k) })).kvs[0]), kvText(st.get(k)), k);
        assert.deepEqual(kvText(rangeOf(node.sm.range({ key: b('a'), revision: 4 })).kvs[0])?.value, '2', 'history after the compact revision is kept');
        assert.deepEqual(node.sm.leases(), [{ id: 7, ttl: 30 }]);
        assert.equal(node.sm.sessionCount, 0);
        await assert.rejects(restoreDataDir(cfg, file.snapshot, pino({ level: 'silent' })), (e: unknown) => e instanceof RestoreError && /exists and is not empty/.test(e.message));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
