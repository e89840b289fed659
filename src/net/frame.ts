// Frames on a peer connection:
//
//   u32 BE  length of what follows (kind byte + body), at most maxFrameBytes
//   u8      kind: 1 = hello, 2 = message
//   body    msgpack (codec.ts)
//
// The decoder is a small state machine fed with socket chunks. A length over
// the limit is reported at once, before any of the frame is buffered, so a
// peer cannot make us allocate more than the limit.

export const FRAME_HEADER_BYTES = 4;
export const FRAME_HELLO = 1;
export const FRAME_MESSAGE = 2;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface Frame {
  readonly kind: number;
  readonly body: Buffer;
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(kind: number, body: Uint8Array, maxFrameBytes: number): Buffer {
  const length = 1 + body.length;
  if (length > maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds the frame-size limit of ${maxFrameBytes} bytes`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  out.writeUInt32BE(length, 0);
  out.writeUInt8(kind, 4);
  out.set(body, 5);
  return out;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the frames completed. Throws FrameError on a bad length or kind. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length === 0) throw new FrameError('empty frame (length 0)');
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds the frame-size limit of ${this.maxFrameBytes} bytes`);
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      const kind = whole.readUInt8(FRAME_HEADER_BYTES);
      if (kind !== FRAME_HELLO && kind !== FRAME_MESSAGE) throw new FrameError(`unknown frame kind ${kind}`);
      frames.push({ kind, body: whole.subarray(FRAME_HEADER_BYTES + 1) });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
