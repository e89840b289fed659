// gRPC length-prefixed messages (gRPC over HTTP/2, "Length-Prefixed-Message"):
// one flag byte (1 = compressed), a 4-byte big-endian length, then the bytes.

export const FRAME_HEADER_BYTES = 5;

/** Frames an encoded message (uncompressed) into one buffer, ready to write. */
export function frameMessage(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** Receives whole messages from a FrameDecoder (an object, so no closure per call). */
export interface FrameSink {
  onFrame(body: Buffer): void;
}

/** Why a byte stream is not a valid sequence of gRPC messages. */
export type FrameProblem =
  | { readonly type: 'compressed' }
  | { readonly type: 'too-large'; readonly length: number; readonly limit: number };

/**
 * Splits a stream of DATA chunks into whole messages. Chunks are kept as they
 * arrive and joined only when a message spans chunks, so a message inside one
 * chunk is handed on as a view of it, without a copy.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Length of the message being assembled, once its header is in; else -1. */
  private expected = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes received but not yet part of a whole message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Adds a chunk and hands each completed message to `sink.onFrame`; returns a
   * problem (and stops) at the first header that breaks the rules.
   */
  push(chunk: Buffer, sink: FrameSink): FrameProblem | undefined {
    if (this.pendingBytes === 0) return this.scan(chunk, sink);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const need = this.expected < 0 ? FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + this.expected;
    if (this.pendingBytes < need) return this.peekHeader();
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.expected = -1;
    return this.scan(joined, sink);
  }

  private scan(buf: Buffer, sink: FrameSink): FrameProblem | undefined {
    let at = 0;
    while (buf.length - at >= FRAME_HEADER_BYTES) {
      const problem = this.checkHeader(buf, at);
      if (problem !== undefined) return problem;
      const length = buf.readUInt32BE(at + 1);
      const end = at + FRAME_HEADER_BYTES + length;
      if (end > buf.length) break;
      sink.onFrame(buf.subarray(at + FRAME_HEADER_BYTES, end));
      at = end;
    }
    if (at < buf.length) {
      const rest = at === 0 ? buf : buf.subarray(at);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
      return this.peekHeader();
    }
    return undefined;
  }

  /** Checks the header of the partial message as soon as its 5 bytes are in. */
  private peekHeader(): FrameProblem | undefined {
    if (this.expected >= 0 || this.pendingBytes < FRAME_HEADER_BYTES) return undefined;
    const head = this.pending.length === 1 && this.pending[0] !== undefined
      ? this.pending[0]
      : Buffer.concat(this.pending, this.pendingBytes);
    const problem = this.checkHeader(head, 0);
    if (problem !== undefined) return problem;
    this.expected = head.readUInt32BE(1);
    return undefined;
  }

  private checkHeader(buf: Buffer, at: number): FrameProblem | undefined {
    if (buf[at] !== 0) return { type: 'compressed' };
    const length = buf.readUInt32BE(at + 1);
    if (length > this.maxMessageBytes) return { type: 'too-large', length, limit: this.maxMessageBytes };
    return undefined;
  }
}
