import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDisk, MemoryLog } from '../../src/storage/memory-log.js';
import { Wal } from '../../src/storage/wal.js';
import { recordLogConformance } from './record-log-conformance.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { openDurableLog } from '../../src/storage/open-durable-log.js';
import { ReplayError } from '../../src/storage/durable-log.js';
import { segmentName } from '../../src/storage/segment.js';

recordLogConformance('MemoryLog', (limits) => {
  const disk = new MemoryDisk();
  return Promise.resolve({ open: () => MemoryLog.open(disk, limits), cleanup: () => Promise.resolve() });
});

recordLogConformance('Wal (segment files)', async (limits) => {
  const dir = await mkdtemp(join(tmpdir(), 'synod-wal-'));
  // Small segments so that roll-over and release of whole segments happen in these tests too.
  return { open: () => Wal.open(dir, { ...limits, segmentBytes: 256 }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

test('openDurableLog: recovers writes, reports a torn tail, and releases the directory when replay fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synod-dlog-'));
  try {
    const first = await openDurableLog<{ term: number }>(dir);
    await first.log.append([{ term: 1 }, { term: 2 }]);
    await first.log.close();
    await appendFile(join(dir, segmentName(1)), new Uint8Array([5, 0, 0]));
    const second = await openDurableLog<{ term: number }>(dir);
    assert.deepEqual(second.recovered, [{ term: 1 }, { term: 2 }]);
    assert.notEqual(second.report.tornTail, null);
    // A record of a type DurableLog does not know: replay refuses, and the WAL is closed again.
    await second.wal.append(9, new Uint8Array([1]));
    await second.log.close();
    await assert.rejects(openDurableLog(dir), (e: unknown) => e instanceof ReplayError && /record 3 has unknown type 9/.test(e.message));
    await assert.rejects(openDurableLog(dir), ReplayError, 'the lock was released by the failed open');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
