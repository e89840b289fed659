// WAL segment files: naming and the 32-byte segment header.
//
//   <first record sequence number as 16 lower-case hex digits>.wal
//
//   offset 0   8 bytes  magic "SYNODWAL"
//   offset 8   u32 LE   format version (1)
//   offset 12  u32 LE   reserved, 0
//   offset 16  u64 LE   sequence number of the segment's first record
//   offset 24  u32 LE   CRC-32C of bytes [0,24)
//   offset 28  u32 LE   reserved, 0
//
// The first sequence number is in both the name and the header so that a
// renamed or misplaced file is caught, and consecutive segments must continue
// each other's sequence, so that a missing segment in the middle is caught.

import { crc32c } from '../core/crc32c.js';

export const SEGMENT_HEADER_BYTES = 32;
export const SEGMENT_VERSION = 1;
const MAGIC = Buffer.from('SYNODWAL', 'ascii');
const NAME = /^([0-9a-f]{16})\.wal$/;

export function segmentName(firstSeq: number): string {
  return `${firstSeq.toString(16).padStart(16, '0')}.wal`;
}

/** The first sequence number encoded in a segment file name, or null if the name is not a segment's. */
export function parseSegmentName(name: string): number | null {
  const m = NAME.exec(name);
  if (m === null) return null;
  const n = Number.parseInt(m[1]!, 16);
  return Number.isSafeInteger(n) ? n : null;
}

export function encodeSegmentHeader(firstSeq: number): Buffer {
  const h = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(SEGMENT_VERSION, 8);
  h.writeBigUInt64LE(BigInt(firstSeq), 16);
  h.writeUInt32LE(crc32c(h, 0, 0, 24), 24);
  return h;
}

export type HeaderCheck = { readonly ok: true; readonly firstSeq: number } | { readonly ok: false; readonly reason: string };

export function checkSegmentHeader(buf: Buffer): HeaderCheck {
  if (buf.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: `segment header cut short (${buf.length} bytes)` };
  if (!buf.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: 'not a synod WAL segment (bad magic)' };
  const stored = buf.readUInt32LE(24);
  const actual = crc32c(buf, 0, 0, 24);
  if (stored !== actual) return { ok: false, reason: 'segment header CRC-32C mismatch' };
  const version = buf.readUInt32LE(8);
  if (version !== SEGMENT_VERSION) return { ok: false, reason: `unsupported segment format version ${version}` };
  const first = buf.readBigUInt64LE(16);
  if (first > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'first sequence number out of range' };
  return { ok: true, firstSeq: Number(first) };
}
