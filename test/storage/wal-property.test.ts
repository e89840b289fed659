// Property: whatever single fault hits the files after a clean run (a cut at
// any byte, a flipped byte anywhere), opening the WAL either refuses with a
// CorruptionError or returns a prefix of what was written, byte for byte.
// It never returns a record that differs from what was appended.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Wal } from '../../src/storage/wal.js';
import { CorruptionError } from '../../src/storage/errors.js';

const SEGMENT_BYTES = 400;
const RUNS = Number(process.env['SYNOD_WAL_PROPERTY_RUNS'] ?? 50);

async function writeLog(dir: string, payloads: readonly Uint8Array[]): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  const { log } = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
  await Promise.all(payloads.map((p) => log.append(1 + (p.length % 3), p)));
  await log.close();
  return (await readdir(dir)).filter((f) => f.endsWith('.wal')).sort().map((f) => join(dir, f));
}

async function checkOpen(dir: string, payloads: readonly Uint8Array[], cutInLast: boolean): Promise<void> {
  let opened: Awaited<ReturnType<typeof Wal.open>>;
  try {
    opened = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
  } catch (e) {
    assert.ok(e instanceof CorruptionError, `only a CorruptionError may refuse, got ${String(e)}`);
    assert.ok(!cutInLast, `a cut in the last segment must never refuse: ${e.message}`);
    return;
  }
  const { log, records } = opened;
  try {
    assert.ok(records.length <= payloads.length);
    records.forEach((r, i) => {
      assert.equal(r.seq, i + 1);
      assert.equal(r.type, 1 + (payloads[i]!.length % 3));
      assert.deepEqual(Buffer.from(r.payload), Buffer.from(payloads[i]!));
    });
  } finally {
    await log.close();
  }
}

describe('WAL under single faults (property, fast-check)', () => {
  const payloads = fc.array(fc.uint8Array({ minLength: 0, maxLength: 120 }), { minLength: 1, maxLength: 25 });

  test('a cut at any byte of the last segment yields a prefix, never a refusal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synod-walprop-'));
    try {
      await fc.assert(
        fc.asyncProperty(payloads, fc.double({ min: 0, max: 1, noNaN: true }), async (ps, where) => {
          const files = await writeLog(dir, ps);
          const last = files[files.length - 1]!;
          const size = (await readFile(last)).length;
          // Cut anywhere after the 32-byte segment header (segments are created whole, header included).
          await truncate(last, 32 + Math.floor(where * (size - 32)));
          await checkOpen(dir, ps, true);
        }),
        { numRuns: RUNS },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a flipped byte anywhere is refused or cut off, never returned as data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synod-walprop-'));
    try {
      await fc.assert(
        fc.asyncProperty(payloads, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 }), async (ps, fileIx, where, mask) => {
          const files = await writeLog(dir, ps);
          const file = files[fileIx % files.length]!;
          const b = await readFile(file);
          const at = Math.min(b.length - 1, Math.floor(where * b.length));
          b[at]! ^= mask;
          await writeFile(file, b);
          await checkOpen(dir, ps, false);
        }),
        { numRuns: RUNS },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
