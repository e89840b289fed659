// The shared conformance suite for RecordLog: run against the WAL and the
// in-memory log (record-log.test.ts). Also exercises DurableLog<W> on each.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenedLog, RecordLog, RecordLogLimits } from '../../src/storage/record-log.js';
import { LogClosedError, QueueFullError, RecordTooLargeError } from '../../src/storage/errors.js';
import { DurableLog, RECORD_FRAGMENT, RECORD_SUMMARY_BEGIN, RECORD_WRITE } from '../../src/storage/durable-log.js';
import { Packr } from 'msgpackr';

/** One storage location; `open` may be called again after close or crash, like a restart. */
export interface LogHarness {
  open(): Promise<OpenedLog>;
  cleanup(): Promise<void>;
}

export type HarnessFactory = (limits: RecordLogLimits) => Promise<LogHarness>;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function withHarness(make: HarnessFactory, limits: RecordLogLimits, body: (h: LogHarness) => Promise<void>): Promise<void> {
  const h = await make(limits);
  try {
    await body(h);
  } finally {
    await h.cleanup();
  }
}

async function appendAll(log: RecordLog, items: readonly string[], type = 1): Promise<number[]> {
  return Promise.all(items.map((s) => log.append(type, bytes(s))));
}

export function recordLogConformance(name: string, make: HarnessFactory): void {
  describe(`RecordLog conformance: ${name}`, () => {
    test('a fresh log is empty and starts at sequence number 1', () =>
      withHarness(make, {}, async (h) => {
        const { log, records } = await h.open();
        assert.deepEqual(records, []);
        assert.equal(log.nextSeq, 1);
        assert.equal(log.firstSeq, 1);
        await log.close();
      }));

    test('appends get consecutive sequence numbers and replay in order with type and payload', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        const seqs = await appendAll(log, ['a', 'bb', '', 'dddd']);
        assert.deepEqual(seqs, [1, 2, 3, 4]);
        assert.equal(await log.append(7, bytes('typed')), 5);
        await log.close();
        const again = await h.open();
        assert.deepEqual(
          again.records.map((r) => [r.seq, r.type, text(r.payload)]),
          [[1, 1, 'a'], [2, 1, 'bb'], [3, 1, ''], [4, 1, 'dddd'], [5, 7, 'typed']],
        );
        assert.equal(again.log.nextSeq, 6);
        const more = await again.log.append(1, bytes('after restart'));
        assert.equal(more, 6);
        await again.log.close();
      }));

    test('many concurrent appends all become durable, in the order they were made', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        const items = Array.from({ length: 500 }, (_, i) => `record-${i}`);
        const seqs = await appendAll(log, items);
        assert.deepEqual(seqs, items.map((_, i) => i + 1));
        await log.crash();
        const { log: l2, records } = await h.open();
        assert.deepEqual(records.map((r) => text(r.payload)), items);
        await l2.close();
      }));

    test('the caller may reuse its buffer as soon as append returns', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        const buf = bytes('original');
        const p = log.append(1, buf);
        buf.fill(0);
        await p;
        await log.close();
        const { log: l2, records } = await h.open();
        assert.equal(text(records[0]!.payload), 'original');
        await l2.close();
      }));

    test('crash without sync: what survives is a prefix holding every acknowledged record', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        await appendAll(log, ['durable-1', 'durable-2']);
        const acked: number[] = [];
        const outcomes = Array.from({ length: 20 }, (_, i) =>
          log.append(1, bytes(`maybe-${i}`)).then(
            (seq) => void acked.push(seq),
            (e: unknown) => assert.ok(e instanceof LogClosedError),
          ),
        );
        await log.crash();
        await Promise.all(outcomes);
        const { log: l2, records } = await h.open();
        const seqs = records.map((r) => r.seq);
        assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'a contiguous prefix');
        assert.ok(seqs.length >= 2 + acked.length, 'every acknowledged record survived');
        for (const r of records.slice(2)) assert.match(text(r.payload), /^maybe-\d+$/);
        await l2.close();
      }));

    test('after a crash, appends are refused with LogClosedError', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        await log.crash();
        await assert.rejects(log.append(1, bytes('x')), LogClosedError);
      }));

    test('close makes queued appends durable, then refuses more', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        const p = appendAll(log, ['q1', 'q2', 'q3']);
        await log.close();
        assert.deepEqual(await p, [1, 2, 3]);
        await assert.rejects(log.append(1, bytes('late')), LogClosedError);
        const { log: l2, records } = await h.open();
        assert.equal(records.length, 3);
        await l2.close();
      }));

    test('release: released records are never replayed; later ones are, and numbering continues', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        await appendAll(log, Array.from({ length: 30 }, (_, i) => `r${i + 1}`));
        await log.release(21);
        assert.equal(log.firstSeq, 21);
        await log.close();
        const { log: l2, records } = await h.open();
        assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 10 }, (_, i) => 21 + i));
        assert.equal(text(records[0]!.payload), 'r21');
        assert.equal(l2.firstSeq, 21);
        assert.equal(await l2.append(1, bytes('r31')), 31);
        await l2.release(32);
        await l2.close();
        const { log: l3, records: r3 } = await h.open();
        assert.deepEqual(r3, []);
        assert.equal(l3.nextSeq, 32);
        await l3.close();
      }));

    test('release past the last durable record is refused', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        await appendAll(log, ['a', 'b']);
        await assert.rejects(async () => log.release(4), RangeError);
        await log.release(3);
        await log.close();
      }));

    test('limits: an oversized record is refused with a clear error and the log goes on', () =>
      withHarness(make, { maxRecordBytes: 100 }, async (h) => {
        const { log } = await h.open();
        assert.equal(log.maxRecordBytes, 100);
        await assert.rejects(log.append(1, new Uint8Array(101)), (e: unknown) => e instanceof RecordTooLargeError && /101 bytes exceeds the record-size limit of 100/.test(e.message));
        assert.equal(await log.append(1, new Uint8Array(100)), 1);
        await log.close();
      }));

    test('limits: the write queue is bounded', () =>
      withHarness(make, { maxQueuedBytes: 1000 }, async (h) => {
        const { log } = await h.open();
        const ok = [log.append(1, new Uint8Array(400)), log.append(1, new Uint8Array(400))];
        await assert.rejects(log.append(1, new Uint8Array(400)), QueueFullError);
        assert.deepEqual(await Promise.all(ok), [1, 2]);
        assert.equal(await log.append(1, new Uint8Array(400)), 3, 'space frees once durable');
        await log.close();
      }));

    test('limits: record types outside 1..255 are refused', () =>
      withHarness(make, {}, async (h) => {
        const { log } = await h.open();
        assert.throws(() => void log.append(0, bytes('x')), RangeError);
        assert.throws(() => void log.append(256, bytes('x')), RangeError);
        await log.close();
      }));
  });

  durableLogConformance(name, make);
}

interface Write {
  readonly type: 'hard-state' | 'entries';
  readonly term: number;
  readonly data?: Map<string, bigint>;
}

function durableLogConformance(name: string, make: HarnessFactory): void {
  describe(`DurableLog<W> on ${name}`, () => {
    test('writes come back in order with their structure (Maps, BigInts)', () =>
      withHarness(make, {}, async (h) => {
        const { log, recovered } = DurableLog.recover<Write>(await h.open());
        assert.deepEqual(recovered, []);
        const ws: Write[] = [
          { type: 'hard-state', term: 1 },
          { type: 'entries', term: 1, data: new Map([['k', 10n ** 20n]]) },
        ];
        await log.append(ws);
        await log.append([{ type: 'hard-state', term: 2 }]);
        await log.close();
        const again = DurableLog.recover<Write>(await h.open());
        assert.deepEqual(again.recovered, [...ws, { type: 'hard-state', term: 2 }]);
        assert.equal(again.log.stats().writesSinceSummary, 3);
        await again.log.close();
      }));

    test('compaction: a summary replaces history, later writes follow it, released records are gone', () =>
      withHarness(make, {}, async (h) => {
        const { log } = DurableLog.recover<Write>(await h.open());
        for (let t = 1; t <= 50; t++) await log.append([{ type: 'hard-state', term: t }]);
        await log.compact([{ type: 'hard-state', term: 50 }, { type: 'entries', term: 50 }]);
        await log.append([{ type: 'hard-state', term: 51 }]);
        await log.close();
        const opened = await h.open();
        assert.equal(opened.records.length, 5, `replays ${opened.records.length} records (BEGIN, 2 writes, END, 1 write), not the whole history`);
        const again = DurableLog.recover<Write>(opened);
        assert.deepEqual(again.recovered, [
          { type: 'hard-state', term: 50 },
          { type: 'entries', term: 50 },
          { type: 'hard-state', term: 51 },
        ]);
        await again.log.close();
      }));

    test('an incomplete summary (crash while writing it) is ignored', () =>
      withHarness(make, {}, async (h) => {
        const { log } = DurableLog.recover<Write>(await h.open());
        await log.append([{ type: 'hard-state', term: 1 }, { type: 'hard-state', term: 2 }]);
        // What a crash in the middle of compact() leaves: BEGIN and part of the summary.
        const packr = new Packr({ structuredClone: true });
        await log.recordLog.append(RECORD_SUMMARY_BEGIN, packr.pack(2));
        await log.recordLog.append(RECORD_WRITE, packr.pack({ type: 'hard-state', term: 99 }));
        await log.crash();
        const again = DurableLog.recover<Write>(await h.open());
        assert.deepEqual(again.recovered, [{ type: 'hard-state', term: 1 }, { type: 'hard-state', term: 2 }]);
        await again.log.close();
      }));

    test('a write bigger than a record is split into fragments and comes back whole, also inside a summary', () =>
      withHarness(make, { maxRecordBytes: 64 }, async (h) => {
        const { log } = DurableLog.recover<{ s: string }>(await h.open());
        const big = { s: 'x'.repeat(1000) };
        await log.append([{ s: 'small' }, big, { s: 'after' }]);
        await log.close();
        const r1 = DurableLog.recover<{ s: string }>(await h.open());
        assert.deepEqual(r1.recovered, [{ s: 'small' }, big, { s: 'after' }]);
        await r1.log.compact([big, { s: 'summary' }]);
        await r1.log.close();
        const r2 = DurableLog.recover<{ s: string }>(await h.open());
        assert.deepEqual(r2.recovered, [big, { s: 'summary' }]);
        await r2.log.close();
      }));

    test('fragments whose write never finished (a crash) are ignored', () =>
      withHarness(make, { maxRecordBytes: 64 }, async (h) => {
        const { log } = DurableLog.recover<{ s: string }>(await h.open());
        await log.append([{ s: 'kept' }]);
        await log.recordLog.append(RECORD_FRAGMENT, new Uint8Array(64).fill(0xa5));
        await log.recordLog.append(RECORD_FRAGMENT, new Uint8Array(64).fill(0xa5));
        await log.crash();
        const again = DurableLog.recover<{ s: string }>(await h.open());
        assert.deepEqual(again.recovered, [{ s: 'kept' }]);
        await again.log.close();
      }));

    test('a write over maxWriteBytes is refused and nothing of that call is queued', () =>
      withHarness(make, {}, async (h) => {
        const { log } = DurableLog.recover<{ s: string }>(await h.open(), { maxWriteBytes: 64 });
        await assert.rejects(log.append([{ s: 'ok' }, { s: 'x'.repeat(100) }]), (e: unknown) => e instanceof RecordTooLargeError && /limit of 64 bytes/.test(e.message));
        await log.append([{ s: 'fine' }]);
        await log.close();
        const again = DurableLog.recover<{ s: string }>(await h.open());
        assert.deepEqual(again.recovered, [{ s: 'fine' }]);
        await again.log.close();
      }));

    test('records written by one encoder instance decode in a fresh process (no shared msgpack structures)', () =>
      withHarness(make, {}, async (h) => {
        const { log } = DurableLog.recover<Write>(await h.open());
        for (let i = 0; i < 100; i++) await log.append([{ type: 'entries', term: i }]);
        await log.close();
        const again = DurableLog.recover<Write>(await h.open());
        assert.equal(again.recovered.length, 100);
        assert.deepEqual(again.recovered[99], { type: 'entries', term: 99 });
        await again.log.close();
      }));
  });
}
