// A member's start-up over its two stores: the WAL and the LMDB state. Start-up
// refuses when the log's snapshot marker stands for state LMDB does not hold,
// and when LMDB holds state but the log is empty (either store lost).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogIndex, NodeId, Term } from '../../src/core/ids.js';
import type { KvCommand } from '../../src/kv/command.js';
import { snapshotMarker, type KvLogSnapshot } from '../../src/kv/snapshot.js';
import type { RaftWrite } from '../../src/raft/types.js';
import { RaftFold, StateBehindLogError } from '../../src/server/durable-fold.js';
import { openMemberStorage } from '../../src/server/member-storage.js';
import { LmdbBackend } from '../../src/storage/lmdb-backend.js';
import { openDurableLog } from '../../src/storage/open-durable-log.js';

const silent = pino({ level: 'silent' });
const ID = NodeId(1);
const conf = { voters: [ID], outgoing: [], learners: [], learnersNext: [] };

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-member-storage-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeLog(dir: string, writes: RaftWrite<KvCommand, KvLogSnapshot>[]): Promise<void> {
  const { log } = await openDurableLog<RaftWrite<KvCommand, KvLogSnapshot>>(join(dir, 'wal'));
  await log.append(writes);
  await log.close();
}

describe('member storage at start-up', () => {
  test('a fresh data directory opens empty, and both stores are closed after', () =>
    withDir(async (dir) => {
      const s = await openMemberStorage(dir, silent);
      assert.equal(s.recovered.length, 0);
      assert.equal(s.sm.appliedIndex, 0);
      s.checkRecovered(new RaftFold());
      await s.close();
      const again = await openMemberStorage(dir, silent);
      await again.close();
    }));

  test('a snapshot marker above what LMDB holds refuses start-up', () =>
    withDir(async (dir) => {
      await writeLog(dir, [{ type: 'snapshot', snapshot: { meta: { index: LogIndex(50), term: Term(1), conf }, data: snapshotMarker(50) } }]);
      const s = await openMemberStorage(dir, silent);
      try {
        assert.throws(() => s.checkRecovered(new RaftFold()), (e: unknown) => e instanceof StateBehindLogError && /snapshot at index 50/.test(e.message) && /holds only index 0/.test(e.message));
      } finally {
        await s.close();
      }
    }));

  test('state in LMDB with an empty log refuses start-up', () =>
    withDir(async (dir) => {
      const backend = LmdbBackend.open(join(dir, 'state'));
      backend.apply({ meta: { appliedIndex: 7, revision: 1, compactRevision: 0, chain: '' }, put: [], remove: [], sessions: [], evicted: [] });
      await backend.close();
      const s = await openMemberStorage(dir, silent);
      try {
        assert.throws(() => s.checkRecovered(new RaftFold()), (e: unknown) => e instanceof StateBehindLogError && /write-ahead log is empty/.test(e.message));
      } finally {
        await s.close();
      }
    }));
});
