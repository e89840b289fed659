// The segment-file WAL: format, roll-over, group commit, and the crash rules
// (torn tail cut off; corruption refuses to start, naming file and offset).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Wal } from '../../src/storage/wal.js';
import { DirectoryLockedError } from '../../src/storage/dir-lock.js';
import type { WalOptions } from '../../src/storage/wal.js';
import { CorruptionError, LogFailedError } from '../../src/storage/errors.js';
import { RECORD_HEADER_BYTES } from '../../src/storage/record.js';
import { SEGMENT_HEADER_BYTES, segmentName } from '../../src/storage/segment.js';
import { encodeMeta } from '../../src/storage/wal-meta.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
/** Fixed-size payloads make record offsets easy to compute: 9-byte header + 16 bytes. */
const payload = (i: number): Uint8Array => new TextEncoder().encode(`record-${String(i).padStart(9, '0')}`);
const RECORD = RECORD_HEADER_BYTES + 16;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-wal-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fill(dir: string, n: number, options: WalOptions = {}): Promise<void> {
  const { log } = await Wal.open(dir, options);
  await Promise.all(Array.from({ length: n }, (_, i) => log.append(1, payload(i + 1))));
  await log.close();
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.wal')).sort();
}

async function flipByte(path: string, offset: number): Promise<void> {
  const b = await readFile(path);
  b[offset]! ^= 0x40;
  await writeFile(path, b);
}

describe('WAL format and roll-over', () => {
  test('a fresh WAL has one segment named after its first sequence number, with a 32-byte header', () =>
    withDir(async (dir) => {
      await fill(dir, 3);
      assert.deepEqual(await segmentFiles(dir), [segmentName(1)]);
      assert.equal(segmentName(1), '0000000000000001.wal');
      // The header and the records, then zeros written ahead of them (so later writes add no blocks).
      const bytes = await readFile(join(dir, segmentName(1)));
      assert.ok(bytes.length > SEGMENT_HEADER_BYTES + 3 * RECORD, `${bytes.length} bytes`);
      assert.ok(bytes.subarray(SEGMENT_HEADER_BYTES + 3 * RECORD).every((b) => b === 0));
      assert.ok(bytes.subarray(SEGMENT_HEADER_BYTES + 3 * RECORD - RECORD, SEGMENT_HEADER_BYTES + 3 * RECORD).some((b) => b !== 0));
    }));

  test('zero-filled space never grows a segment past its size limit', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 6, { segmentBytes });
      for (const name of await segmentFiles(dir)) assert.ok((await stat(join(dir, name))).size <= segmentBytes, name);
    }));

  test('segments roll over at the size limit and all records replay across them', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 10, { segmentBytes });
      assert.deepEqual(await segmentFiles(dir), [segmentName(1), segmentName(5), segmentName(9)]);
      const { log, records } = await Wal.open(dir, { segmentBytes });
      assert.deepEqual(records.map((r) => text(r.payload)), Array.from({ length: 10 }, (_, i) => text(payload(i + 1))));
      await log.close();
    }));

  test('a record larger than a segment still goes in, alone in its segment', () =>
    withDir(async (dir) => {
      const { log } = await Wal.open(dir, { segmentBytes: 100 });
      await log.append(1, new Uint8Array(10));
      await log.append(1, new Uint8Array(500));
      await log.append(1, new Uint8Array(10));
      await log.close();
      assert.deepEqual(await segmentFiles(dir), [segmentName(1), segmentName(2), segmentName(3)]);
      const { log: l2, records } = await Wal.open(dir, { segmentBytes: 100 });
      assert.deepEqual(records.map((r) => r.payload.length), [10, 500, 10]);
      await l2.close();
    }));

  test('release deletes only whole segments before the position, never the active one', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      const { log } = await Wal.open(dir, { segmentBytes });
      for (let i = 1; i <= 10; i++) await log.append(1, payload(i));
      await log.release(7); // segment 1..4 is covered; 5..8 holds 7 and 8
      assert.deepEqual(await segmentFiles(dir), [segmentName(5), segmentName(9)]);
      await log.release(11); // everything: the active segment stays
      assert.deepEqual(await segmentFiles(dir), [segmentName(9)]);
      await log.close();
    }));

  test('group commit: appends from one event-loop turn go out in one write and one fdatasync', () =>
    withDir(async (dir) => {
      const { log } = await Wal.open(dir);
      await Promise.all(Array.from({ length: 64 }, (_, i) => log.append(1, payload(i))));
      assert.equal(log.stats().flushes, 1);
      await Promise.all(Array.from({ length: 64 }, (_, i) => log.append(1, payload(i))));
      assert.equal(log.stats().flushes, 2);
      await log.close();
    }));

  test('maxBatchBytes splits a large group into several writes', () =>
    withDir(async (dir) => {
      const { log } = await Wal.open(dir, { maxBatchBytes: 4 * RECORD });
      await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(1, payload(i))));
      assert.equal(log.stats().flushes, 3);
      await log.close();
    }));
});

describe('WAL crash rules: torn tail', () => {
  test('a record cut short at the end of the last segment is truncated and the log continues', () =>
    withDir(async (dir) => {
      await fill(dir, 5);
      const seg = join(dir, segmentName(1));
      const full = SEGMENT_HEADER_BYTES + 5 * RECORD;
      await truncate(seg, full - 7);
      const { log, records, report } = await Wal.open(dir);
      assert.equal(records.length, 4);
      assert.equal(report.tornTail?.offset, SEGMENT_HEADER_BYTES + 4 * RECORD);
      assert.equal((await stat(seg)).size, SEGMENT_HEADER_BYTES + 4 * RECORD, 'cut durably at the last good record');
      assert.equal(await log.append(1, payload(99)), 5);
      await log.close();
      const again = await Wal.open(dir);
      assert.deepEqual(again.records.map((r) => text(r.payload)).slice(3), [text(payload(4)), text(payload(99))]);
      assert.equal(again.report.tornTail, null);
      await again.log.close();
    }));

  test('a bad-CRC last record with nothing valid after it is a torn tail', () =>
    withDir(async (dir) => {
      await fill(dir, 5);
      const seg = join(dir, segmentName(1));
      await flipByte(seg, SEGMENT_HEADER_BYTES + 4 * RECORD + RECORD_HEADER_BYTES + 3);
      const { log, records, report } = await Wal.open(dir);
      assert.equal(records.length, 4);
      assert.match(report.tornTail?.reason ?? '', /CRC-32C mismatch/);
      await log.close();
    }));

  test('zero-filled space after the last record is the end of the segment, and appends go on after the last record', () =>
    withDir(async (dir) => {
      await fill(dir, 3);
      await appendFile(join(dir, segmentName(1)), new Uint8Array(4096));
      const { log, records, report } = await Wal.open(dir);
      assert.equal(records.length, 3);
      assert.equal(report.tornTail, null);
      await log.append(1, payload(4));
      await log.close();
      const again = await Wal.open(dir);
      assert.deepEqual(again.records.map((r) => text(r.payload)), [1, 2, 3, 4].map((i) => text(payload(i))));
      await again.log.close();
    }));

  test('a record cut short inside zero-filled space is a torn tail', () =>
    withDir(async (dir) => {
      await fill(dir, 3);
      const path = join(dir, segmentName(1));
      const bytes = await readFile(path);
      const end = SEGMENT_HEADER_BYTES + 3 * RECORD;
      // The first half of a fourth record's bytes reached the disk, the rest of the space is still zeros.
      bytes.set([16, 0, 0, 0, 9, 9, 9, 9, 1, 7, 7], end);
      await writeFile(path, bytes);
      const { log, records, report } = await Wal.open(dir);
      assert.equal(records.length, 3);
      assert.equal(report.tornTail?.offset, end);
      await log.close();
    }));

  test('a header-only torn record (fewer than 9 bytes) is a torn tail', () =>
    withDir(async (dir) => {
      await fill(dir, 2);
      await appendFile(join(dir, segmentName(1)), new Uint8Array([16, 0, 0]));
      const { log, records } = await Wal.open(dir);
      assert.equal(records.length, 2);
      await log.close();
    }));
});

describe('WAL crash rules: corruption refuses to start', () => {
  test('a byte flipped in the middle of the last segment names the file and byte offset', () =>
    withDir(async (dir) => {
      await fill(dir, 10);
      const seg = join(dir, segmentName(1));
      const bad = SEGMENT_HEADER_BYTES + 3 * RECORD;
      await flipByte(seg, bad + RECORD_HEADER_BYTES + 5);
      await assert.rejects(Wal.open(dir), (e: unknown) => {
        assert.ok(e instanceof CorruptionError);
        assert.equal(e.file, seg);
        assert.equal(e.offset, bad);
        assert.ok(e.message.includes(seg) && e.message.includes(`byte offset ${bad}`), e.message);
        assert.match(e.message, /valid records after it/);
        return true;
      });
    }));

  test('a flipped length field in the middle is corruption too (the CRC covers the length)', () =>
    withDir(async (dir) => {
      await fill(dir, 10);
      const bad = SEGMENT_HEADER_BYTES + 2 * RECORD;
      await flipByte(join(dir, segmentName(1)), bad);
      await assert.rejects(Wal.open(dir), (e: unknown) => e instanceof CorruptionError && e.offset === bad);
    }));

  test('a bad last record of a segment that is not the last refuses to start', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 10, { segmentBytes });
      const seg = join(dir, segmentName(1));
      await flipByte(seg, SEGMENT_HEADER_BYTES + 3 * RECORD + RECORD_HEADER_BYTES);
      await assert.rejects(Wal.open(dir, { segmentBytes }), (e: unknown) => {
        assert.ok(e instanceof CorruptionError);
        assert.equal(e.file, seg);
        assert.equal(e.offset, SEGMENT_HEADER_BYTES + 3 * RECORD);
        assert.match(e.message, /not the last/);
        return true;
      });
    }));

  test('a segment cut short that is not the last refuses to start', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 10, { segmentBytes });
      await truncate(join(dir, segmentName(5)), SEGMENT_HEADER_BYTES + 2 * RECORD + 3);
      await assert.rejects(Wal.open(dir, { segmentBytes }), CorruptionError);
    }));

  test('a segment missing in the middle refuses to start', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 12, { segmentBytes });
      await unlink(join(dir, segmentName(5)));
      await assert.rejects(Wal.open(dir, { segmentBytes }), (e: unknown) => {
        assert.ok(e instanceof CorruptionError);
        assert.equal(e.file, join(dir, segmentName(9)));
        assert.match(e.message, /sequence gap.*ends before 5.*starts at 9.*missing/);
        return true;
      });
    }));

  test('the oldest kept segment missing refuses to start (the meta file says it should be there)', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 10, { segmentBytes });
      await unlink(join(dir, segmentName(1)));
      await assert.rejects(Wal.open(dir, { segmentBytes }), /records 1\.\.4 are missing/);
    }));

  test('a segment whose header does not match its name refuses to start', () =>
    withDir(async (dir) => {
      await fill(dir, 2);
      const b = await readFile(join(dir, segmentName(1)));
      await writeFile(join(dir, segmentName(3)), b);
      await unlink(join(dir, segmentName(1)));
      await writeFile(join(dir, 'wal.meta'), encodeMeta(3));
      await assert.rejects(Wal.open(dir), (e: unknown) => e instanceof CorruptionError && /header says the first record is 1/.test(e.message));
    }));

  test('a missing meta file beside segments refuses to start', () =>
    withDir(async (dir) => {
      await fill(dir, 2);
      await unlink(join(dir, 'wal.meta'));
      await assert.rejects(Wal.open(dir), /meta file missing/);
    }));
});

describe('WAL start-up housekeeping', () => {
  test('an interrupted release (meta written, segments not yet deleted) is finished at start-up', () =>
    withDir(async (dir) => {
      const segmentBytes = SEGMENT_HEADER_BYTES + 4 * RECORD;
      await fill(dir, 10, { segmentBytes });
      await writeFile(join(dir, 'wal.meta'), encodeMeta(6));
      const { log, records, report } = await Wal.open(dir, { segmentBytes });
      assert.deepEqual(records.map((r) => r.seq), [6, 7, 8, 9, 10]);
      assert.deepEqual(report.releasedAtOpen, [join(dir, segmentName(1))]);
      assert.deepEqual(await segmentFiles(dir), [segmentName(5), segmentName(9)]);
      await log.close();
    }));

  test('leftover temporary files from an unfinished segment creation are removed', () =>
    withDir(async (dir) => {
      await fill(dir, 2);
      await writeFile(join(dir, `.${segmentName(3)}.tmp`), new Uint8Array(10));
      const { log, records } = await Wal.open(dir);
      assert.equal(records.length, 2);
      assert.ok(!(await readdir(dir)).some((f) => f.endsWith('.tmp')));
      await log.close();
    }));
});

describe('WAL directory lock', () => {
  test('a second open of a directory in use is refused, and allowed after close', () =>
    withDir(async (dir) => {
      const { log } = await Wal.open(dir);
      await assert.rejects(Wal.open(dir), (e: unknown) => e instanceof DirectoryLockedError && e.message.includes(`process ${process.pid}`));
      await log.close();
      const again = await Wal.open(dir);
      await again.log.close();
    }));

  test('a lock left by a process that died is taken over', () =>
    withDir(async (dir) => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      assert.ok(dead !== undefined);
      await writeFile(join(dir, 'LOCK'), `${dead}\n`);
      const { log } = await Wal.open(dir);
      assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
      await log.close();
      assert.ok(!(await readdir(dir)).includes('LOCK'), 'close removes the lock');
    }));
});

describe('WAL I/O failure', () => {
  test('a failed write stops the log for good: queued and later appends reject with LogFailedError', () =>
    withDir(async (dir) => {
      const { log } = await Wal.open(dir);
      await log.append(1, payload(1));
      // Pull the file out from under the WAL, as a failing disk would.
      await (log as unknown as { active: { close(): Promise<void> } }).active.close();
      const results = await Promise.allSettled([log.append(1, payload(2)), log.append(1, payload(3))]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok(r.reason instanceof LogFailedError, String(r.reason));
        assert.match((r.reason as Error).message, /WAL write or fdatasync failed in .*the log is stopped/);
      }
      await assert.rejects(log.append(1, payload(4)), LogFailedError);
      await assert.rejects(log.close(), LogFailedError);
      const again = await Wal.open(dir);
      assert.equal(again.records.length, 1, 'only the acknowledged record is there');
      await again.log.close();
    }));
});
