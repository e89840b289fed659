// Snapshot files: one file per snapshot, written atomically (temporary file,
// fsync, rename, fsync of the directory), the newest valid one found at
// start-up. A snapshot that fails its checksum is skipped (and reported), so a
// crash or a bad sector in the newest falls back to an older one; the WAL
// segments a snapshot covers are released only after it is durable.
//
//   snap-<index as 16 hex digits>.snap
//   offset 0   8 bytes  magic "SYNODSNP"
//   offset 8   u64 LE   index the snapshot covers (the caller's log index or WAL sequence number)
//   offset 16  u32 LE   payload length
//   offset 20  u32 LE   CRC-32C of bytes [0,20) and the payload
//   offset 24  payload

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../core/crc32c.js';
import { RecordTooLargeError } from './errors.js';
import { fsyncDir, isTempFile, writeFileAtomic } from './fs-util.js';

const MAGIC = Buffer.from('SYNODSNP', 'ascii');
const HEADER = 24;
const NAME = /^snap-([0-9a-f]{16})\.snap$/;

export interface Snapshot {
  readonly index: number;
  readonly data: Uint8Array;
}

export interface SnapshotLoad {
  /** The newest snapshot that checks out, or null. */
  readonly snapshot: Snapshot | null;
  /** Newer snapshot files that did not check out, with why. */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

export interface SnapshotStoreOptions {
  /** Largest snapshot accepted (default 1 GiB). */
  readonly maxSnapshotBytes?: number;
  /** How many snapshots to keep after a save (default 2: the newest and one fallback). */
  readonly keep?: number;
}

export class SnapshotStore {
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(
    readonly dir: string,
    options: SnapshotStoreOptions = {},
  ) {
    this.maxBytes = options.maxSnapshotBytes ?? 1024 * 1024 * 1024;
    this.keep = options.keep ?? 2;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0 || this.maxBytes > 0xffff_ffff) {
      throw new RangeError(`maxSnapshotBytes must be in 0..${0xffff_ffff}, got ${this.maxBytes}`);
    }
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new RangeError(`keep must be at least 1, got ${this.keep}`);
  }

  /** Writes a snapshot durably, then removes all but the newest `keep`. */
  async save(index: number, data: Uint8Array): Promise<void> {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`snapshot index must be a non-negative safe integer, got ${index}`);
    if (data.length > this.maxBytes) throw new RecordTooLargeError(data.length, this.maxBytes);
    await mkdir(this.dir, { recursive: true });
    const file = Buffer.allocUnsafe(HEADER + data.length);
    MAGIC.copy(file, 0);
    file.writeBigUInt64LE(BigInt(index), 8);
    file.writeUInt32LE(data.length, 16);
    file.set(data, HEADER);
    file.writeUInt32LE(crc32c(file, crc32c(file, 0, 0, 20), HEADER), 20);
    await writeFileAtomic(join(this.dir, snapshotName(index)), file);
    await this.prune();
  }

  /** The newest valid snapshot. Also removes leftover temporary files. */
  async loadLatest(): Promise<SnapshotLoad> {
    const files = await this.list();
    const skipped: { path: string; reason: string }[] = [];
    for (const f of files) {
      const buf = await readFile(f.path);
      const check = parseSnapshot(buf, f.index);
      if (typeof check === 'string') {
        skipped.push({ path: f.path, reason: check });
        continue;
      }
      return { snapshot: check, skipped };
    }
    return { snapshot: null, skipped };
  }

  /** Snapshot files, newest first. */
  private async list(): Promise<{ index: number; path: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: { index: number; path: string }[] = [];
    for (const name of names) {
      if (isTempFile(name)) {
        await unlink(join(this.dir, name));
        continue;
      }
      const m = NAME.exec(name);
      if (m !== null) out.push({ index: Number.parseInt(m[1]!, 16), path: join(this.dir, name) });
    }
    return out.sort((a, b) => b.index - a.index);
  }

  private async prune(): Promise<void> {
    const files = await this.list();
    const old = files.slice(this.keep);
    for (const f of old) await unlink(f.path);
    if (old.length > 0) await fsyncDir(this.dir);
  }
}

export function snapshotName(index: number): string {
  return `snap-${index.toString(16).padStart(16, '0')}.snap`;
}

function parseSnapshot(buf: Buffer, nameIndex: number): Snapshot | string {
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC)) return 'not a synod snapshot (short file or bad magic)';
  const length = buf.readUInt32LE(16);
  if (buf.length !== HEADER + length) return `length field says ${length} bytes, the file holds ${buf.length - HEADER}`;
  const crc = crc32c(buf, crc32c(buf, 0, 0, 20), HEADER);
  if (crc !== buf.readUInt32LE(20)) return 'CRC-32C mismatch';
  const index = Number(buf.readBigUInt64LE(8));
  if (index !== nameIndex) return `header index ${index} differs from the file name's ${nameIndex}`;
  return { index, data: buf.subarray(HEADER) };
}
