// The peer codec: msgpackr in structured-clone mode, so Maps, Sets, BigInts,
// typed arrays and shared references cross the wire as they are. Each frame is
// self-contained (no msgpack structures shared between frames), so a frame
// can be decoded without any history of the connection.

import { Packr } from 'msgpackr';

/** The first frame each side sends on a new connection. */
export interface Hello {
  readonly v: number;
  readonly cluster: string;
  readonly id: number;
}

export const PROTOCOL_VERSION = 1;

export class Codec {
  private readonly packr = new Packr({ structuredClone: true });

  encode(value: unknown): Buffer {
    return this.packr.pack(value);
  }

  /** Throws on bytes that are not one complete msgpack value. */
  decode(body: Uint8Array): unknown {
    return this.packr.unpack(body);
  }
}

export function isHello(v: unknown): v is Hello {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  return typeof h['v'] === 'number' && typeof h['cluster'] === 'string' && typeof h['id'] === 'number' && Number.isSafeInteger(h['id']);
}
