import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDisk, MemoryLog } from '../../src/storage/memory-log.js';
import { Wal } from '../../src/storage/wal.js';
import { recordLogConformance } from './record-log-conformance.js';

recordLogConformance('MemoryLog', (limits) => {
  const disk = new MemoryDisk();
  return Promise.resolve({ open: () => MemoryLog.open(disk, limits), cleanup: () => Promise.resolve() });
});

recordLogConformance('Wal (segment files)', async (limits) => {
  const dir = await mkdtemp(join(tmpdir(), 'synod-wal-'));
  // Small segments so that roll-over and release of whole segments happen in these tests too.
  return { open: () => Wal.open(dir, { ...limits, segmentBytes: 256 }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
