// State machine snapshots: the whole store (every retained version, the
// sessions, the meta) as a plain object, and its binary encoding for disks and
// the wire (MessagePack through msgpackr, which runs in Node and browsers).

import { Packr } from 'msgpackr';
import type { KvState } from './backend.js';

export const SNAPSHOT_FORMAT = 1;

export interface KvSnapshot extends KvState {
  readonly format: typeof SNAPSHOT_FORMAT;
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
