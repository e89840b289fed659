// Start-up scan of a WAL directory: validates every segment, decides between
// a torn tail (truncate and go on) and corruption (refuse to start), and
// collects the records that survived.
//
// The crash rules (docs/storage.md):
// - Only the end of the LAST segment can be torn: a segment is fully durable
//   before the next one is created, and a batch is written in one write and
//   then fdatasync'd, so a crash can cut only the last, unacknowledged batch.
// - Zeros from a record boundary to the end of a segment are space the writer
//   zero-filled ahead of its records (wal.ts): the segment ends there.
// - A short or bad record at the end of the last segment, with no valid
//   record anywhere after it, is a torn tail: it is cut off.
// - A bad record with a valid record after it, or a bad or short record in any
//   other segment, or a gap in sequence numbers between segments, is
//   corruption of acknowledged data: start-up fails with a CorruptionError
//   naming the file and byte offset.

import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptionError } from './errors.js';
import { isTempFile } from './fs-util.js';
import type { LogRecord } from './record-log.js';
import { checkRecord, RECORD_HEADER_BYTES, validRecordFollows } from './record.js';
import { checkSegmentHeader, parseSegmentName, SEGMENT_HEADER_BYTES } from './segment.js';
import { META_FILE, readMeta } from './wal-meta.js';

export interface ScannedSegment {
  readonly firstSeq: number;
  readonly path: string;
  /** Records in the segment (after any torn tail is cut). */
  readonly count: number;
  /** Valid bytes, header included: where the next record goes. */
  readonly endOffset: number;
}

export interface ScanResult {
  /** Oldest first. Empty only for a fresh directory. */
  readonly segments: ScannedSegment[];
  readonly records: LogRecord[];
  /** The low-water mark from wal.meta (1 for a fresh directory). */
  readonly firstSeq: number;
  readonly nextSeq: number;
  /** Where a torn tail was found in the last segment, and how many bytes follow it; null when the tail was clean. */
  readonly tornTail: { readonly path: string; readonly offset: number; readonly bytes: number; readonly reason: string } | null;
  /** Segments wholly below the low-water mark (an interrupted release); the opener deletes them. */
  readonly released: readonly string[];
}

export async function listSegments(dir: string): Promise<{ firstSeq: number; path: string }[]> {
  const names = await readdir(dir);
  const out: { firstSeq: number; path: string }[] = [];
  for (const name of names) {
    if (isTempFile(name)) {
      // A segment or meta file whose creation never finished: nothing in it was acknowledged.
      await unlink(join(dir, name));
      continue;
    }
    const first = parseSegmentName(name);
    if (first !== null) out.push({ firstSeq: first, path: join(dir, name) });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export async function scanWal(dir: string, maxRecordBytes: number): Promise<ScanResult> {
  const listed = await listSegments(dir);
  const metaPath = join(dir, META_FILE);
  const low = await readMeta(metaPath);
  if (low === null) {
    if (listed.length > 0) throw new CorruptionError(metaPath, 0, 'meta file missing while segments exist');
    return { segments: [], records: [], firstSeq: 1, nextSeq: 1, tornTail: null, released: [] };
  }
  if (listed.length === 0) throw new CorruptionError(dir, 0, `no WAL segment found, but wal.meta says records from ${low} on are kept`);
  // Segments wholly below the low-water mark were released; a crash stopped their deletion.
  let start = 0;
  while (start + 1 < listed.length && listed[start + 1]!.firstSeq <= low) start++;
  const released = listed.slice(0, start).map((s) => s.path);
  const live = listed.slice(start);
  if (live[0]!.firstSeq > low) {
    throw new CorruptionError(live[0]!.path, 0, `records ${low}..${live[0]!.firstSeq - 1} are missing: the segment holding them is gone`);
  }
  const segments: ScannedSegment[] = [];
  const records: LogRecord[] = [];
  let tornTail: ScanResult['tornTail'] = null;
  for (let i = 0; i < live.length; i++) {
    const seg = live[i]!;
    const isLast = i === live.length - 1;
    const prev = segments[segments.length - 1];
    if (prev !== undefined && prev.firstSeq + prev.count !== seg.firstSeq) {
      throw new CorruptionError(
        seg.path,
        0,
        `sequence gap: the previous segment ends before ${prev.firstSeq + prev.count}, this one starts at ${seg.firstSeq} (a segment is missing)`,
      );
    }
    const scanned = await scanSegment(seg.path, seg.firstSeq, isLast, maxRecordBytes, low, records);
    segments.push(scanned.segment);
    if (scanned.torn !== null) tornTail = scanned.torn;
  }
  const last = segments[segments.length - 1]!;
  return { segments, records, firstSeq: low, nextSeq: last.firstSeq + last.count, tornTail, released };
}

interface SegmentScan {
  readonly segment: ScannedSegment;
  readonly torn: ScanResult['tornTail'];
}

async function scanSegment(
  path: string,
  expectedFirst: number,
  isLast: boolean,
  maxRecordBytes: number,
  low: number,
  into: LogRecord[],
): Promise<SegmentScan> {
  const buf = await readFile(path);
  const header = checkSegmentHeader(buf);
  if (!header.ok) throw new CorruptionError(path, 0, header.reason);
  if (header.firstSeq !== expectedFirst) {
    throw new CorruptionError(path, 16, `header says the first record is ${header.firstSeq}, the file name says ${expectedFirst}`);
  }
  let at = SEGMENT_HEADER_BYTES;
  let count = 0;
  while (at < buf.length) {
    const check = checkRecord(buf, at, buf.length, maxRecordBytes);
    if (!check.ok && allZero(buf, at)) break;
    if (!check.ok) {
      const followed = validRecordFollows(buf, at + 1, buf.length, maxRecordBytes);
      if (!isLast || followed) {
        const where = !isLast ? 'in a segment that is not the last' : 'with valid records after it';
        throw new CorruptionError(path, at, `${check.reason}, ${where}`);
      }
      const torn = { path, offset: at, bytes: buf.length - at, reason: check.reason };
      return { segment: { firstSeq: expectedFirst, path, count, endOffset: at }, torn };
    }
    const seq = expectedFirst + count;
    const payloadAt = at + RECORD_HEADER_BYTES;
    if (seq >= low) into.push({ seq, type: check.type, payload: buf.subarray(payloadAt, payloadAt + check.length) });
    at = payloadAt + check.length;
    count++;
  }
  return { segment: { firstSeq: expectedFirst, path, count, endOffset: at }, torn: null };
}

/** True when every byte from `from` to the end is zero (space zero-filled ahead of the records). */
function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
