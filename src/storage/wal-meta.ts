// The WAL's meta file `wal.meta`: the low-water mark, i.e. the first sequence
// number not released. It is replaced atomically before released segments are
// deleted, so after a crash in the middle of a release the start-up scan can
// finish the deletion, and can tell a released segment from a missing one.
//
//   offset 0   8 bytes  magic "SYNODWMT"
//   offset 8   u64 LE   first sequence number not released
//   offset 16  u32 LE   CRC-32C of bytes [0,16)

import { readFile } from 'node:fs/promises';
import { crc32c } from '../core/crc32c.js';
import { CorruptionError } from './errors.js';
import { writeFileAtomic } from './fs-util.js';

export const META_FILE = 'wal.meta';
const MAGIC = Buffer.from('SYNODWMT', 'ascii');
const BYTES = 20;

export function encodeMeta(firstSeq: number): Buffer {
  const b = Buffer.alloc(BYTES);
  MAGIC.copy(b, 0);
  b.writeBigUInt64LE(BigInt(firstSeq), 8);
  b.writeUInt32LE(crc32c(b, 0, 0, 16), 16);
  return b;
}

/** The low-water mark, or null when the file does not exist. */
export async function readMeta(path: string): Promise<number | null> {
  let b: Buffer;
  try {
    b = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (b.length !== BYTES || !b.subarray(0, 8).equals(MAGIC)) throw new CorruptionError(path, 0, 'not a synod WAL meta file');
  if (b.readUInt32LE(16) !== crc32c(b, 0, 0, 16)) throw new CorruptionError(path, 16, 'meta file CRC-32C mismatch');
  const n = b.readBigUInt64LE(8);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < 1n) throw new CorruptionError(path, 8, `low-water mark ${n} out of range`);
  return Number(n);
}

export async function writeMeta(path: string, firstSeq: number): Promise<void> {
  await writeFileAtomic(path, encodeMeta(firstSeq));
}
