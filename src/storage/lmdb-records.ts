// The binary records of the LMDB state store (docs/storage.md, "State in LMDB").
//
// A version's key is its revision, 12 bytes big-endian: main revision as two
// u32 (high, low), then the sub-revision, so LMDB's byte order is revision
// order. Its index record, everything the in-memory index needs and no value:
//
//   0  f64 LE  createRevision
//   8  f64 LE  version
//   16 f64 LE  lease
//   24 u8      flags (1 = tombstone)
//   25 ...     the key, one byte per char (a byte string, see src/kv/bytes.ts)
//
// Values are kept apart, under the same key, so that start-up reads only the
// small index records.

import type { StoredVersion } from '../kv/backend.js';

const HEADER_BYTES = 25;
const TOMBSTONE = 1;

export function revisionKey(main: number, sub: number): Buffer {
  const k = Buffer.allocUnsafe(12);
  k.writeUInt32BE(Math.floor(main / 2 ** 32), 0);
  k.writeUInt32BE(main >>> 0, 4);
  k.writeUInt32BE(sub, 8);
  return k;
}

export function revisionOfKey(k: Buffer): { main: number; sub: number } {
  if (k.length !== 12) throw new Error(`state store: a version key of ${k.length} bytes, expected 12`);
  return { main: k.readUInt32BE(0) * 2 ** 32 + k.readUInt32BE(4), sub: k.readUInt32BE(8) };
}

export function encodeIndexRecord(v: StoredVersion): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + v.key.length);
  b.writeDoubleLE(v.createRevision, 0);
  b.writeDoubleLE(v.version, 8);
  b.writeDoubleLE(v.lease, 16);
  b.writeUInt8(v.tombstone ? TOMBSTONE : 0, 24);
  b.write(v.key, HEADER_BYTES, 'latin1');
  return b;
}

/** A version without its value, from its index record. */
export function decodeIndexRecord(b: Buffer, main: number, sub: number): Omit<StoredVersion, 'value'> {
  if (b.length < HEADER_BYTES) throw new Error(`state store: version ${main}.${sub} has a record of ${b.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  return {
    key: b.toString('latin1', HEADER_BYTES),
    main,
    sub,
    createRevision: b.readDoubleLE(0),
    version: b.readDoubleLE(8),
    lease: b.readDoubleLE(16),
    tombstone: (b.readUInt8(24) & TOMBSTONE) !== 0,
  };
}
