// Record framing inside a WAL segment (see docs/storage.md):
//
//   offset 0  u32 LE  payload length in bytes
//   offset 4  u32 LE  CRC-32C over bytes [0,4) and [8,9) of this header, then the payload
//   offset 8  u8      record type, 1..255 (0 is never valid, so zero-filled space never parses)
//   offset 9  payload
//
// The CRC covers the length, so a flipped length bit is caught rather than
// making the reader skip to a wrong place and carry on.

import { crc32c } from '../core/crc32c.js';

export const RECORD_HEADER_BYTES = 9;
export const MAX_RECORD_TYPE = 255;

export function recordChecksum(buf: Uint8Array, at: number, length: number): number {
  let c = crc32c(buf, 0, at, at + 4);
  c = crc32c(buf, c, at + 8, at + 9);
  return crc32c(buf, c, at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length);
}

/** Writes one framed record into `out` at `at`; returns the offset just past it. */
export function encodeRecord(out: Buffer, at: number, type: number, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, at);
  out.writeUInt8(type, at + 8);
  out.set(payload, at + RECORD_HEADER_BYTES);
  out.writeUInt32LE(recordChecksum(out, at, payload.length), at + 4);
  return at + RECORD_HEADER_BYTES + payload.length;
}

export type RecordCheck =
  | { readonly ok: true; readonly type: number; readonly length: number }
  | { readonly ok: false; readonly torn: boolean; readonly reason: string };

/**
 * Checks the record starting at `at`. `torn` is true when the record runs past
 * the end of the data (a write cut short); otherwise the bytes are there but wrong.
 */
export function checkRecord(buf: Buffer, at: number, end: number, maxRecordBytes: number): RecordCheck {
  if (end - at < RECORD_HEADER_BYTES) return { ok: false, torn: true, reason: `short record header (${end - at} bytes)` };
  const length = buf.readUInt32LE(at);
  const type = buf.readUInt8(at + 8);
  if (length > maxRecordBytes) return { ok: false, torn: false, reason: `record length ${length} exceeds the limit ${maxRecordBytes}` };
  if (type === 0) return { ok: false, torn: false, reason: 'record type 0 (zero-filled or never written)' };
  if (end - at - RECORD_HEADER_BYTES < length) {
    return { ok: false, torn: true, reason: `record of ${length} bytes cut short at ${end - at - RECORD_HEADER_BYTES}` };
  }
  const stored = buf.readUInt32LE(at + 4);
  const actual = recordChecksum(buf, at, length);
  if (stored !== actual) return { ok: false, torn: false, reason: `CRC-32C mismatch (stored ${hex(stored)}, computed ${hex(actual)})` };
  return { ok: true, type, length };
}

/**
 * True when some byte position in [from, end) starts a record that checks out.
 * Used only after a bad record at the end of the last segment: if a valid
 * record follows, the damage is in the middle of acknowledged data, not a torn tail.
 */
export function validRecordFollows(buf: Buffer, from: number, end: number, maxRecordBytes: number): boolean {
  for (let at = from; at + RECORD_HEADER_BYTES <= end; at++) {
    // Cheap filters before the CRC: a plausible length and a non-zero type.
    const length = buf.readUInt32LE(at);
    if (length > maxRecordBytes || length > end - at - RECORD_HEADER_BYTES) continue;
    if (buf[at + 8] === 0) continue;
    if (checkRecord(buf, at, end, maxRecordBytes).ok) return true;
  }
  return false;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
