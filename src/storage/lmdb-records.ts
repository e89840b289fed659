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

import type { KvMeta, StoredVersion } from '../kv/backend.js';
import type { Bytes } from '../kv/bytes.js';

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

/** A version from its index record and its value (empty when not read). */
export function decodeIndexRecord(b: Buffer, main: number, sub: number, value: Bytes): StoredVersion {
  if (b.length < HEADER_BYTES) throw new Error(`state store: version ${main}.${sub} has a record of ${b.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  return {
    key: b.toString('latin1', HEADER_BYTES),
    main,
    sub,
    createRevision: b.readDoubleLE(0),
    version: b.readDoubleLE(8),
    lease: b.readDoubleLE(16),
    tombstone: (b.readUInt8(24) & TOMBSTONE) !== 0,
    value,
  };
}

/** A session's header (its results are records of their own): f64 LE lastUsed, f64 LE floor. */
export function encodeSessionHeader(lastUsed: number, floor: number): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeDoubleLE(lastUsed, 0);
  b.writeDoubleLE(floor, 8);
  return b;
}

export function decodeSessionHeader(b: Buffer): { lastUsed: number; floor: number } {
  if (b.length !== 16) throw new Error(`state store: a session header of ${b.length} bytes, expected 16`);
  return { lastUsed: b.readDoubleLE(0), floor: b.readDoubleLE(8) };
}

export function encodeNumber(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(n, 0);
  return b;
}

export function decodeNumber(b: Buffer): number {
  if (b.length !== 8) throw new Error(`state store: a number of ${b.length} bytes, expected 8`);
  return b.readDoubleLE(0);
}

/**
 * The state record, written with every batch: u32 LE layout version, then
 * f64 LE seq, appliedIndex, revision, compactRevision, then the chain (UTF-8).
 */
export interface StateRecord {
  readonly format: number;
  /** Counts apply and reset calls over the store's life. */
  readonly seq: number;
  readonly meta: KvMeta;
}

const STATE_HEADER_BYTES = 36;

export function encodeState(s: StateRecord): Buffer {
  const chain = Buffer.from(s.meta.chain, 'utf8');
  const b = Buffer.allocUnsafe(STATE_HEADER_BYTES + chain.length);
  b.writeUInt32LE(s.format, 0);
  b.writeDoubleLE(s.seq, 4);
  b.writeDoubleLE(s.meta.appliedIndex, 12);
  b.writeDoubleLE(s.meta.revision, 20);
  b.writeDoubleLE(s.meta.compactRevision, 28);
  chain.copy(b, STATE_HEADER_BYTES);
  return b;
}

/** The state record; only `format` when it is of another layout version (the caller refuses it). */
export function decodeState(b: Buffer): StateRecord {
  if (b.length < 4) throw new Error(`state store: a state record of ${b.length} bytes`);
  const format = b.readUInt32LE(0);
  if (b.length < STATE_HEADER_BYTES) return { format, seq: 0, meta: { appliedIndex: 0, revision: 1, compactRevision: 0, chain: '' } };
  return {
    format,
    seq: b.readDoubleLE(4),
    meta: { appliedIndex: b.readDoubleLE(12), revision: b.readDoubleLE(20), compactRevision: b.readDoubleLE(28), chain: b.toString('utf8', STATE_HEADER_BYTES) },
  };
}
