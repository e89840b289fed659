// A compact binary form for the commonest command, an etcd Put, as a member
// encodes it once where it is proposed (src/kv/encoded-log.ts). MessagePack
// spells out every field name of { client, seq, op: { type, key, value, lease,
// prevKv, ignoreValue, ignoreLease } } and decodes them back into a fresh
// object key by key; this form is a fixed header and three length-prefixed
// byte strings, about ten times cheaper both ways. Every other command stays
// MessagePack.
//
//   0      u8   0xc1 (a byte MessagePack never uses, so the two cannot be confused)
//   1      u8   version (1)
//   2      u8   flags: 1 prevKv, 2 ignoreValue, 4 ignoreLease
//   3      f64  seq (little-endian; a safe integer)
//   11     f64  lease (0: none; a safe integer)
//   19     u16  client id length c, then c bytes of UTF-8
//          u32  key length k, then k bytes
//          u32  value length v, then v bytes
//
// The decoded put has every field set (lease 0, flags false when absent): the
// state machine reads them with `?? 0` and `=== true`, so absent and default
// mean the same to it. A put that would not survive the form unchanged (a
// lease or seq that is not a safe integer, keys that are not byte arrays, a
// client id over 65,535 bytes) is left to MessagePack, so that the apply-time
// validation sees exactly what was proposed.

import type { ClientId } from '../core/ids.js';
import type { KvCommand } from './command.js';

export const PUT_MARK = 0xc1;
const VERSION = 1;
const PREV_KV = 1;
const IGNORE_VALUE = 2;
const IGNORE_LEASE = 4;
/** Mark, version, flags, seq, lease, client length. */
const HEAD = 3 + 8 + 8 + 2;

// Typed arrays, DataView and TextEncoder only (no Buffer): this folder runs in browsers too.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** The put in the compact form, or null when it must stay MessagePack. */
export function encodePut(cmd: KvCommand): Uint8Array | null {
  const op = cmd.op;
  // A put that names its user (or the cluster) goes as MessagePack, which carries every field.
  if (op.type !== 'put' || cmd.user !== undefined || cmd.internal !== undefined) return null;
  const lease = op.lease ?? 0;
  if (!Number.isSafeInteger(cmd.seq) || !Number.isSafeInteger(lease)) return null;
  if (!(op.key instanceof Uint8Array) || !(op.value instanceof Uint8Array) || typeof cmd.client !== 'string') return null;
  const client = utf8Encoder.encode(cmd.client);
  if (client.length > 0xffff) return null;
  const out = new Uint8Array(HEAD + client.length + 4 + op.key.length + 4 + op.value.length);
  const view = new DataView(out.buffer);
  out[0] = PUT_MARK;
  out[1] = VERSION;
  out[2] = (op.prevKv === true ? PREV_KV : 0) | (op.ignoreValue === true ? IGNORE_VALUE : 0) | (op.ignoreLease === true ? IGNORE_LEASE : 0);
  view.setFloat64(3, cmd.seq, true);
  view.setFloat64(11, lease, true);
  view.setUint16(19, client.length, true);
  out.set(client, HEAD);
  let at = HEAD + client.length;
  view.setUint32(at, op.key.length, true);
  out.set(op.key, at + 4);
  at += 4 + op.key.length;
  view.setUint32(at, op.value.length, true);
  out.set(op.value, at + 4);
  return out;
}

export class PutDecodeError extends Error {
  override readonly name = 'PutDecodeError';
}

/** Decodes the compact form; the key and value view `b`. Throws PutDecodeError on a malformed command. */
export function decodePut(b: Uint8Array): KvCommand {
  if (b.length < HEAD || b[0] !== PUT_MARK) throw new PutDecodeError(`put command of ${b.length} bytes is cut short or not one`);
  if (b[1] !== VERSION) throw new PutDecodeError(`put command version ${String(b[1])}, this synod reads version ${VERSION}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = b[2] as number;
  const seq = view.getFloat64(3, true);
  const lease = view.getFloat64(11, true);
  const clientEnd = HEAD + view.getUint16(19, true);
  const keyEnd = clientEnd + 4 + lengthAt(view, clientEnd);
  const valueEnd = keyEnd + 4 + lengthAt(view, keyEnd);
  if (valueEnd !== b.length) throw new PutDecodeError(`put command of ${b.length} bytes: its fields end at byte ${valueEnd}`);
  return {
    client: utf8Decoder.decode(b.subarray(HEAD, clientEnd)) as ClientId,
    seq,
    op: {
      type: 'put',
      key: b.subarray(clientEnd + 4, keyEnd),
      value: b.subarray(keyEnd + 4, valueEnd),
      lease,
      prevKv: (flags & PREV_KV) !== 0,
      ignoreValue: (flags & IGNORE_VALUE) !== 0,
      ignoreLease: (flags & IGNORE_LEASE) !== 0,
    },
  };
}

function lengthAt(view: DataView, at: number): number {
  if (at + 4 > view.byteLength) throw new PutDecodeError(`put command of ${view.byteLength} bytes is cut short at byte ${at}`);
  return view.getUint32(at, true);
}
