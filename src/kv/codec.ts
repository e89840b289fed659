// Encodings the logs need for KV commands and snapshots. Keys and values are
// Uint8Arrays, which plain JSON mangles, so:
// - `kvSnapshotTextCodec`: JSON in which every byte array is {"$b64": "..."};
//   for logs that move snapshots as text (Raft's snapshotCodec option);
// - `kvCommandBytes`: the size of a command for a log's byte limits (Raft's
//   commandBytes option), counting bytes rather than JSON text.

import { fromByteString, toByteString } from './bytes.js';
import type { KvCommand } from './command.js';
import type { KvSnapshot } from './snapshot.js';
import { SNAPSHOT_FORMAT } from './snapshot.js';

const TAG = '$b64';

function replacer(this: unknown, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON (Node's Buffer has one).
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return { [TAG]: btoa(toByteString(raw)) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return fromByteString(atob(tagged));
  }
  return value;
}

/** JSON with byte arrays as base64; any value made of JSON data and Uint8Arrays round-trips. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function fromJsonText(text: string): unknown {
  return JSON.parse(text, reviver);
}

export const kvSnapshotTextCodec = {
  encode(s: KvSnapshot): string {
    return toJsonText(s);
  },
  decode(text: string): KvSnapshot {
    const s = fromJsonText(text) as Partial<KvSnapshot> | null;
    if (s === null || typeof s !== 'object' || s.format !== SNAPSHOT_FORMAT) throw new Error('kv snapshot text: not a format 1 snapshot');
    return s as KvSnapshot;
  },
};

/** Bytes a value takes: byte arrays and strings by length, numbers 8, containers their contents plus a little. */
function sizeOf(v: unknown, depth: number): number {
  if (v instanceof Uint8Array) return v.length + 4;
  if (typeof v === 'string') return v.length + 4;
  if (v === null || typeof v !== 'object' || depth > 32) return 8;
  let n = 4;
  if (Array.isArray(v)) for (const x of v) n += sizeOf(x, depth + 1);
  else for (const [k, x] of Object.entries(v)) n += k.length + sizeOf(x, depth + 1);
  return n;
}

export function kvCommandBytes(cmd: KvCommand): number {
  return sizeOf(cmd, 0);
}

/** The approximate size of any value made of JSON data and byte arrays. */
export function approximateBytes(v: unknown): number {
  return sizeOf(v, 0);
}
