// synod's snapshot file: the key-value state of one member (every retained
// version of every key with its revisions, the leases, the revision and the
// compact revision), as `Maintenance.Snapshot` streams it and `snapshot save`
// writes it. Layout (all integers little-endian):
//
//   offset 0        8 bytes   magic "SYNODSNP"
//   offset 8        u32       file format version (1)
//   offset 12       u32       header length H (at most 64 KiB)
//   offset 16       H bytes   header: UTF-8 JSON (SnapshotHeader), for status and checks
//   offset 16 + H   B bytes   body: the state machine's snapshot (src/kv/snapshot.ts,
//                             MessagePack), B = header.bodyBytes, sessions left out
//   then            zero bytes up to a multiple of 512
//   end - 32        32 bytes  SHA-256 of every byte before it
//
// The SHA-256 trailer is etcd's convention: etcd's server sends the digest of
// the snapshot as the stream's last message and etcdctl writes it at the end of
// the file, which is how synod's stream ends too, so `etcdctl snapshot save`
// produces exactly this file. The padding is for etcdctl as well: etcd's
// snapshots are bbolt files, whole 512-byte pages, and etcdctl 3.4.23 refuses a
// download whose length is not 32 more than a multiple of 512 ("sha256
// checksum not found").

import { createHash } from 'node:crypto';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT, type KvSnapshot } from '../kv/snapshot.js';
import type { StoredVersion } from '../kv/backend.js';

export const SNAPSHOT_FILE_MAGIC = Buffer.from('SYNODSNP', 'ascii');
export const SNAPSHOT_FILE_VERSION = 1;
export const SNAPSHOT_DIGEST_BYTES = 32;
const PREFIX_BYTES = 16;
/** The content (all but the digest) is padded to a multiple of this. */
const ALIGN_BYTES = 512;
const MAX_HEADER_BYTES = 64 * 1024;
/** Largest snapshot file synod writes or reads: the whole state is held in memory to encode or decode it. */
export const MAX_SNAPSHOT_FILE_BYTES = 1024 * 1024 * 1024;
/** bbolt's meta-page magic (etcd's snapshot files are bbolt databases), at byte 16 of the file. */
const BBOLT_MAGIC = 0xed0cdaed;

/** What the header tells without decoding the body. */
export interface SnapshotHeader {
  /** The store revision (etcd's header.revision) the snapshot was taken at. */
  readonly revision: number;
  readonly compactRevision: number;
  /** The source member's last applied log index (a restore keeps it as the new log's start). */
  readonly appliedIndex: number;
  /** Keys that exist at `revision`. */
  readonly keys: number;
  /** Versions retained (every revision of every key since the compact revision). */
  readonly versions: number;
  readonly leases: number;
  readonly bodyBytes: number;
  /** The body's encoding: the state machine's snapshot format. */
  readonly body: 'kv-snapshot-msgpack';
  readonly bodyFormat: number;
  /** The member that served the snapshot, as hex ids (informational). */
  readonly memberId: string;
  readonly clusterId: string;
}

export class SnapshotFileError extends Error {
  override readonly name = 'SnapshotFileError';
}

/** Keys whose newest retained version is not a tombstone. */
function liveKeys(versions: readonly StoredVersion[]): number {
  const latest = new Map<string, boolean>();
  for (const v of versions) latest.set(v.key, !v.tombstone);
  let n = 0;
  for (const live of latest.values()) if (live) n++;
  return n;
}

export interface EncodedSnapshotFile {
  /** Everything but the digest: what the stream sends in chunks. */
  readonly content: Buffer;
  /** SHA-256 of `content`: the stream's last message and the file's last 32 bytes. */
  readonly digest: Buffer;
  readonly header: SnapshotHeader;
}

/**
 * Encodes a state machine snapshot as a snapshot file. Client sessions are
 * left out: they belong to the clients of the cluster the snapshot came from.
 */
export function encodeSnapshotFile(snap: KvSnapshot, ids: { memberId: number; clusterId: number }): EncodedSnapshotFile {
  const kept: KvSnapshot = { ...snap, sessions: [], meta: { ...snap.meta, chain: '' } };
  const body = Buffer.from(encodeSnapshot(kept));
  const header: SnapshotHeader = {
    revision: snap.meta.revision, compactRevision: snap.meta.compactRevision, appliedIndex: snap.meta.appliedIndex,
    keys: liveKeys(snap.versions), versions: snap.versions.length, leases: snap.leases?.length ?? 0,
    bodyBytes: body.length, body: 'kv-snapshot-msgpack', bodyFormat: SNAPSHOT_FORMAT,
    memberId: ids.memberId.toString(16), clusterId: ids.clusterId.toString(16),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  SNAPSHOT_FILE_MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(SNAPSHOT_FILE_VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  const unpadded = PREFIX_BYTES + headerBytes.length + body.length;
  const padding = alignedLength(unpadded) - unpadded;
  const total = unpadded + padding + SNAPSHOT_DIGEST_BYTES;
  if (total > MAX_SNAPSHOT_FILE_BYTES) throw new SnapshotFileError(`the snapshot would take ${total} bytes, over synod's limit of ${MAX_SNAPSHOT_FILE_BYTES} bytes`);
  const content = Buffer.concat([prefix, headerBytes, body, Buffer.alloc(padding)]);
  return { content, digest: createHash('sha256').update(content).digest(), header };
}

function alignedLength(n: number): number {
  return Math.ceil(n / ALIGN_BYTES) * ALIGN_BYTES;
}

/** The whole file: content then digest. */
export function snapshotFileBytes(f: EncodedSnapshotFile): Buffer {
  return Buffer.concat([f.content, f.digest]);
}

function fail(name: string, what: string): never {
  throw new SnapshotFileError(`${name}: ${what}`);
}

function checkHeader(name: string, h: unknown): SnapshotHeader {
  if (typeof h !== 'object' || h === null) fail(name, 'corrupt: the header is not a JSON object');
  const o = h as Record<string, unknown>;
  for (const f of ['revision', 'compactRevision', 'appliedIndex', 'keys', 'versions', 'leases', 'bodyBytes', 'bodyFormat'] as const) {
    const v = o[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(name, `corrupt: header field '${f}' is ${JSON.stringify(v)}, not a whole number`);
  }
  if (o.body !== 'kv-snapshot-msgpack') fail(name, `unsupported body encoding ${JSON.stringify(o.body)} (this synod reads 'kv-snapshot-msgpack')`);
  if (o.bodyFormat !== SNAPSHOT_FORMAT) fail(name, `body format ${String(o.bodyFormat)}; this synod reads format ${SNAPSHOT_FORMAT}`);
  return o as unknown as SnapshotHeader;
}

/** Reads the prefix and header; checks the size the header promises against the file's. */
function readLayout(name: string, bytes: Buffer): { header: SnapshotHeader; bodyAt: number; bodyEnd: number } {
  if (bytes.length >= PREFIX_BYTES + 4 && bytes.readUInt32LE(16) === BBOLT_MAGIC) {
    fail(name, 'is an etcd (bbolt) snapshot; synod reads only its own snapshot files (take one with `synod snapshot save` or `etcdctl snapshot save` against a synod member)');
  }
  const minimum = PREFIX_BYTES + SNAPSHOT_DIGEST_BYTES;
  if (bytes.length < minimum) {
    if (bytes.length === 0) fail(name, 'is empty');
    if (!bytes.subarray(0, Math.min(8, bytes.length)).equals(SNAPSHOT_FILE_MAGIC.subarray(0, Math.min(8, bytes.length)))) fail(name, 'is not a synod snapshot (no SYNODSNP magic)');
    fail(name, `truncated: ${bytes.length} bytes, and a synod snapshot has at least ${minimum}`);
  }
  if (!bytes.subarray(0, 8).equals(SNAPSHOT_FILE_MAGIC)) fail(name, 'is not a synod snapshot (no SYNODSNP magic at its start)');
  const version = bytes.readUInt32LE(8);
  if (version !== SNAPSHOT_FILE_VERSION) fail(name, `snapshot file format ${version}; this synod reads format ${SNAPSHOT_FILE_VERSION}`);
  const headerBytes = bytes.readUInt32LE(12);
  if (headerBytes > MAX_HEADER_BYTES) fail(name, `corrupt: header length ${headerBytes} is over ${MAX_HEADER_BYTES}`);
  if (PREFIX_BYTES + headerBytes + SNAPSHOT_DIGEST_BYTES > bytes.length) fail(name, `truncated: ${bytes.length} bytes, shorter than its own header (${headerBytes} bytes) and digest`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes).toString('utf8'));
  } catch (e) {
    fail(name, `corrupt: the header is not JSON (${(e as Error).message})`);
  }
  const header = checkHeader(name, parsed);
  const bodyEnd = PREFIX_BYTES + headerBytes + header.bodyBytes;
  const expected = alignedLength(bodyEnd) + SNAPSHOT_DIGEST_BYTES;
  if (bytes.length < expected) fail(name, `truncated: ${bytes.length} bytes, and its header promises ${expected} (${expected - bytes.length} missing)`);
  if (bytes.length > expected) fail(name, `corrupt: ${bytes.length - expected} unexpected bytes after the ${expected} its header promises`);
  if (bytes.subarray(bodyEnd, expected - SNAPSHOT_DIGEST_BYTES).some((b) => b !== 0)) fail(name, 'corrupt: the padding after the body is not zeros');
  return { header, bodyAt: PREFIX_BYTES + headerBytes, bodyEnd };
}

export interface DecodedSnapshotFile {
  readonly header: SnapshotHeader;
  /** Hex SHA-256 of the content (the trailer), as stored. */
  readonly digest: string;
  readonly snapshot: KvSnapshot;
}

/**
 * Reads a snapshot file; throws a SnapshotFileError naming `name` and what is
 * wrong (truncated, not a snapshot, digest mismatch, undecodable body).
 */
export function decodeSnapshotFile(name: string, bytes: Buffer, opts: { skipHashCheck?: boolean } = {}): DecodedSnapshotFile {
  const { header, bodyAt, bodyEnd } = readLayout(name, bytes);
  const end = bytes.length - SNAPSHOT_DIGEST_BYTES;
  const stored = bytes.subarray(end);
  if (opts.skipHashCheck !== true) {
    const actual = createHash('sha256').update(bytes.subarray(0, end)).digest();
    if (!actual.equals(stored)) fail(name, 'corrupt: its SHA-256 does not match the digest at its end (the file was changed or damaged after it was saved)');
  }
  let snapshot: KvSnapshot;
  try {
    snapshot = decodeSnapshot(bytes.subarray(bodyAt, bodyEnd));
  } catch (e) {
    fail(name, `corrupt: ${(e as Error).message}`);
  }
  const m = snapshot.meta as Partial<KvSnapshot['meta']> | undefined;
  if (m?.revision !== header.revision || m.compactRevision !== header.compactRevision || m.appliedIndex !== header.appliedIndex) {
    fail(name, 'corrupt: its header and body disagree on the revision, compact revision or applied index');
  }
  if (snapshot.versions.length !== header.versions) fail(name, `corrupt: its header counts ${header.versions} versions, its body holds ${snapshot.versions.length}`);
  return { header, digest: stored.toString('hex'), snapshot };
}

/** What `snapshot status` prints: the header and digest, once the whole file has been checked. */
export function inspectSnapshotFile(name: string, bytes: Buffer): { header: SnapshotHeader; digest: string; totalBytes: number } {
  const decoded = decodeSnapshotFile(name, bytes);
  return { header: decoded.header, digest: decoded.digest, totalBytes: bytes.length };
}
