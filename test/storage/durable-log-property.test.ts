// Property: DurableLog<W> against a reference model. A random run of appends,
// compactions and crashes (with some appends not yet acknowledged) always
// recovers a state that includes every acknowledged write and is explained by
// a prefix of the writes made. Run on the in-memory log and on the WAL with
// tiny segments (so compaction releases whole segments), with a 16-byte record
// limit so that summaries are split into fragments.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DurableLog } from '../../src/storage/durable-log.js';
import { MemoryDisk, MemoryLog } from '../../src/storage/memory-log.js';
import type { OpenedLog } from '../../src/storage/record-log.js';
import { Wal } from '../../src/storage/wal.js';

/** A write either adds to a running total or sets it (a summary). */
type W = { readonly op: 'add'; readonly n: number } | { readonly op: 'set'; readonly total: number; readonly count: number };

/** The state a list of writes stands for: the total and how many adds it covers. */
function fold(ws: readonly W[]): { total: number; count: number } {
  let total = 0;
  let count = 0;
  for (const w of ws) {
    if (w.op === 'add') {
      total += w.n;
      count++;
    } else {
      total = w.total;
      count = w.count;
    }
  }
  return { total, count };
}

type Op = { readonly type: 'append'; readonly ns: readonly number[] } | { readonly type: 'compact' } | { readonly type: 'crash'; readonly unacked: readonly number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }).map((ns): Op => ({ type: 'append', ns })) },
  { weight: 2, arbitrary: fc.constant<Op>({ type: 'compact' }) },
  { weight: 2, arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 4 }).map((unacked): Op => ({ type: 'crash', unacked })) },
);

/** How each opening encodes its writes: always structured, always plain, or switching at every reopening (a log holding both). */
type Encoding = 'structured' | 'plain' | 'mixed';

async function runOps(open: () => Promise<OpenedLog>, ops: readonly Op[], encoding: Encoding = 'structured'): Promise<void> {
  let opening = 0;
  const options = (): { plainData: boolean } => ({ plainData: encoding === 'plain' || (encoding === 'mixed' && opening++ % 2 === 1) });
  let { log, recovered } = DurableLog.recover<W>(await open(), options());
  assert.deepEqual(recovered, []);
  const made: number[] = []; // every add ever made, in order
  let acked = 0; // adds known durable
  for (const op of ops) {
    switch (op.type) {
      case 'append':
        await log.append(op.ns.map((n) => ({ op: 'add', n })));
        made.push(...op.ns);
        acked = made.length;
        break;
      case 'compact': {
        const s = fold(made.map((n) => ({ op: 'add', n })));
        await log.compact([{ op: 'set', total: s.total, count: s.count }]);
        break;
      }
      case 'crash': {
        const pending = log.append(op.unacked.map((n) => ({ op: 'add', n }))).then(() => true, () => false);
        made.push(...op.unacked);
        await log.crash();
        if (await pending) acked = made.length;
        ({ log, recovered } = DurableLog.recover<W>(await open(), options()));
        const got = fold(recovered);
        assert.ok(got.count >= acked, `recovered ${got.count} adds, ${acked} were acknowledged`);
        assert.ok(got.count <= made.length);
        assert.equal(got.total, made.slice(0, got.count).reduce((a, b) => a + b, 0), 'the state of a prefix');
        // What was not recovered is gone for good: the model forgets it.
        made.length = got.count;
        acked = got.count;
        break;
      }
    }
  }
  await log.close();
}

describe('DurableLog against a reference model (property, fast-check)', () => {
  test('MemoryLog', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
        const disk = new MemoryDisk();
        await runOps(() => MemoryLog.open(disk, { maxRecordBytes: 16 }), ops);
      }),
      { numRuns: 150 },
    );
  });

  for (const encoding of ['plain', 'mixed'] as const) {
    test(`MemoryLog, ${encoding} encoding`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
          const disk = new MemoryDisk();
          await runOps(() => MemoryLog.open(disk, { maxRecordBytes: 16 }), ops, encoding);
        }),
        { numRuns: 100 },
      );
    });
  }

  test('plain writes: byte arrays come back as Buffers with their bytes, copied; structured writes keep Maps and typed arrays', async () => {
    const disk = new MemoryDisk();
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const plain = DurableLog.recover<unknown>(await MemoryLog.open(disk, { maxRecordBytes: 16 }), { plainData: true }).log;
    await plain.append([{ type: 'entries', entries: [{ index: 1, term: 2, command: bytes }, { index: 2, term: 2, command: null }] }]);
    await plain.close();
    const structured = DurableLog.recover<unknown>(await MemoryLog.open(disk), {}).log;
    await structured.append([{ m: new Map([[1, 'a']]), t: new Uint16Array([7]) }]);
    await structured.close();
    const { recovered } = DurableLog.recover<unknown>(await MemoryLog.open(disk), { plainData: true });
    const first = recovered[0] as { entries: { index: number; command: Uint8Array | null }[] };
    const command = first.entries[0]?.command as Uint8Array;
    assert.ok(Buffer.isBuffer(command));
    assert.deepEqual([...command], [...bytes]);
    for (const r of disk.records) if (r.payload instanceof Uint8Array) r.payload.fill(0);
    assert.deepEqual([...command], [...bytes], 'a view of a copy, not of the record read');
    assert.equal(first.entries[1]?.command, null);
    const second = recovered[1] as { m: Map<number, string>; t: Uint16Array };
    assert.ok(second.m instanceof Map && second.m.get(1) === 'a');
    assert.ok(second.t instanceof Uint16Array && second.t[0] === 7);
  });

  test('Wal with tiny segments', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synod-dlprop-'));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 20 }), async (ops) => {
          const dir = join(root, String(run++));
          await runOps(() => Wal.open(dir, { segmentBytes: 120, maxRecordBytes: 16 }), ops);
        }),
        { numRuns: Number(process.env['SYNOD_WAL_PROPERTY_RUNS'] ?? 25) },
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
