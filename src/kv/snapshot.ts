// State machine snapshots: the whole store (every retained version, the
// sessions, the meta) as a plain object, and its binary encoding for disks and
// the wire (MessagePack through msgpackr, which runs in Node and browsers).

import { Packr } from 'msgpackr';
import type { KvState } from './backend.js';

export const SNAPSHOT_FORMAT = 1;

export interface KvSnapshot extends KvState {
  readonly format: typeof SNAPSHOT_FORMAT;
}

/**
 * What a log holds in place of a snapshot when the state lives in a durable
 * backend (LMDB, src/storage/lmdb-backend.ts): the state through `index` is
 * already durable there, so the log keeps and writes only this marker. A host
 * that must send a snapshot to a lagging follower materializes one from the
 * state machine at send time (docs/storage.md). Never restored: a marker at or
 * below the state machine's applied index is skipped, one above it is an error.
 */
export interface KvSnapshotMarker {
  readonly format: 'marker';
  readonly index: number;
}

/** What a key-value node hands its log at compaction: the whole state, or a marker. */
export type KvLogSnapshot = KvSnapshot | KvSnapshotMarker;

export function snapshotMarker(index: number): KvSnapshotMarker {
  return { format: 'marker', index };
}

export function isSnapshotMarker(s: KvLogSnapshot): s is KvSnapshotMarker {
  return s.format === 'marker';
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeSnapshot(s: KvSnapshot): Uint8Array {
  return packr.pack(s);
}

/** Decodes a snapshot; throws an Error naming what is wrong when the bytes are not one. */
export function decodeSnapshot(bytes: Uint8Array): KvSnapshot {
  let s: unknown;
  try {
    s = packr.unpack(bytes);
  } catch (e) {
    throw new Error(`kv snapshot: not MessagePack (${(e as Error).message})`, { cause: e });
  }
  if (typeof s !== 'object' || s === null) throw new Error('kv snapshot: not an object');
  const o = s as Partial<KvSnapshot>;
  if (o.format !== SNAPSHOT_FORMAT) throw new Error(`kv snapshot: format ${String(o.format)}, expected ${SNAPSHOT_FORMAT}`);
  if (typeof o.meta !== 'object' || !Array.isArray(o.versions) || !Array.isArray(o.sessions)) {
    throw new Error('kv snapshot: missing meta, versions or sessions');
  }
  return o as KvSnapshot;
}
