// One HTTP/2 stream on the server side (RFC 9113 §5.1): a request's headers,
// its DATA handed to a sink, and the response sent under flow control (§5.2).
// The stream knows its connection only through StreamOwner.
import type { ErrorCodeValue } from './frames.js';
import { ErrorCode } from './frames.js';

/** What a stream reports to the call that serves it. */
export interface StreamSink {
  /** The payload of one DATA frame (a view; the stream does not reuse it). */
  onData(chunk: Buffer): void;
  /** The client sent END_STREAM: no more data. */
  onEnd(): void;
  /** The stream is gone: answered in full, reset by either side, or the connection closed. */
  onStreamClosed(): void;
}

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** Bytes the connection-level send window allows now. */
  readonly sendWindow: number;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly maxFrameSize: number;
  /** Queues a header block as HEADERS (+ CONTINUATION) frames. */
  sendHeaders(stream: H2Stream, block: Buffer, endStream: boolean): void;
  /** Queues one DATA frame and takes its length from both send windows. */
  sendData(stream: H2Stream, data: Buffer, start: number, end: number, endStream: boolean): void;
  sendReset(stream: H2Stream, code: ErrorCodeValue): void;
  /** The stream has output waiting for window or a flush. */
  wantsPump(stream: H2Stream): void;
  /** Consumed bytes that may be credited back to the client (WINDOW_UPDATE). */
  consumed(stream: H2Stream, bytes: number): void;
  closed(stream: H2Stream): void;
}

/** Queued bytes above which write() asks the caller to wait for drained(). */
const HIGH_WATER = 64 * 1024;

export class H2Stream {
  sink: StreamSink | undefined;
  headersSent = false;
  /** We sent END_STREAM or a reset: nothing more goes out. */
  localEnded = false;
  /** The client sent END_STREAM. */
  remoteEnded = false;
  closed = false;
  /** Our send window for this stream (may go below zero after a SETTINGS change, §6.9.2). */
  sendWindow: number;
  /** The client's send window as we have granted it. */
  recvWindow: number;
  /** Bytes consumed and not yet credited back. */
  uncredited = 0;
  /** DATA bytes queued and not yet framed. */
  pendingBytes = 0;
  /** The request's content-length, or -1 without one (§8.1.1: its DATA must add up to it). */
  contentLength = -1;
  /** DATA payload bytes received, counted only when contentLength is set. */
  receivedBytes = 0;
  private queue: Buffer[] = [];
  private queueOffset = 0;
  private trailers: Buffer | undefined;
  private held: Buffer[] | undefined;
  private heldEnd = false;
  private paused = false;
  private drainWaiters: (() => void)[] | undefined;

  constructor(
    readonly id: number,
    readonly headers: Readonly<Record<string, string>>,
    private readonly owner: StreamOwner,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get needDrain(): boolean {
    return this.pendingBytes >= HIGH_WATER;
  }

  /** Sends the response headers; with endStream the response is complete (trailers-only). */
  respond(block: Buffer, endStream: boolean): void {
    if (this.localEnded || this.headersSent) return;
    this.headersSent = true;
    this.owner.sendHeaders(this, block, endStream);
    if (endStream) this.endedLocally();
  }

  /** Queues response bytes; false when the queue is above its high-water mark or the stream is done. */
  write(data: Buffer): boolean {
    if (this.localEnded || this.trailers !== undefined) return false;
    if (data.length === 0) return true;
    if (this.pendingBytes === 0 && this.fits(data.length)) {
      this.owner.sendData(this, data, 0, data.length, false);
      return true;
    }
    this.queue.push(data);
    this.pendingBytes += data.length;
    this.owner.wantsPump(this);
    return this.pendingBytes < HIGH_WATER;
  }

  /** Ends the response with trailers, after the queued data. */
  end(trailersBlock: Buffer): void {
    if (this.localEnded || this.trailers !== undefined) return;
    if (this.pendingBytes === 0) {
      this.owner.sendHeaders(this, trailersBlock, true);
      this.endedLocally();
    } else {
      this.trailers = trailersBlock;
    }
  }

  /** Resets the stream (§6.4); nothing more is sent or delivered. */
  reset(code: ErrorCodeValue): void {
    if (this.closed) return;
    this.owner.sendReset(this, code);
    this.close();
  }

  /** Stops delivering DATA; what arrives is held and not credited, so flow control holds the client back. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) {
      for (const chunk of held) {
        if (this.closed || this.paused) {
          (this.held ??= []).push(chunk);
          continue;
        }
        this.deliver(chunk);
      }
    }
    if (this.heldEnd && !this.paused && !this.closed) {
      this.heldEnd = false;
      this.sink?.onEnd();
    }
  }

  /** Resolves once the queue is below its high-water mark, or the stream is closed. */
  drained(): Promise<void> {
    if (!this.needDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  // ---- called by the connection ----------------------------------------------

  /** @internal A DATA payload arrived (flow control already charged). */
  received(chunk: Buffer, endStream: boolean): void {
    if (endStream) this.remoteEnded = true;
    if (chunk.length > 0) {
      if (this.paused) (this.held ??= []).push(chunk);
      else this.deliver(chunk);
    }
    if (endStream) this.receivedEnd();
  }

  /** @internal END_STREAM arrived on HEADERS (or DATA). */
  receivedEnd(): void {
    this.remoteEnded = true;
    if (this.paused || this.held !== undefined) this.heldEnd = true;
    else this.sink?.onEnd();
    if (this.localEnded) this.close();
  }

  /**
   * @internal Frames queued data while both windows allow, then the trailers;
   * returns true if output is still waiting for window.
   */
  pump(): boolean {
    const max = this.owner.maxFrameSize;
    while (this.queue.length > 0) {
      const allowed = Math.min(this.sendWindow, this.owner.sendWindow, max);
      if (allowed <= 0) return true;
      const head = this.queue[0] as Buffer;
      const end = Math.min(head.length, this.queueOffset + allowed);
      this.owner.sendData(this, head, this.queueOffset, end, false);
      this.pendingBytes -= end - this.queueOffset;
      if (end === head.length) {
        this.queue.shift();
        this.queueOffset = 0;
      } else {
        this.queueOffset = end;
      }
    }
    this.wakeDrainWaiters();
    if (this.trailers !== undefined && !this.localEnded) {
      const t = this.trailers;
      this.trailers = undefined;
      this.owner.sendHeaders(this, t, true);
      this.endedLocally();
    }
    return false;
  }

  /** @internal The stream is gone (reset by the peer, or the connection closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.localEnded = true;
    this.queue = [];
    this.pendingBytes = 0;
    // Data held for a paused call was never credited: give it back to the connection window, or each
    // such stream would shrink that window for good. (remoteEnded: no stream credit for a closed stream.)
    const held = this.held;
    this.held = undefined;
    this.remoteEnded = true;
    if (held !== undefined) this.owner.consumed(this, held.reduce((n, c) => n + c.length, 0));
    this.owner.closed(this);
    this.wakeDrainWaiters();
    this.sink?.onStreamClosed();
  }

  private fits(length: number): boolean {
    return length <= this.sendWindow && length <= this.owner.sendWindow && length <= this.owner.maxFrameSize;
  }

  private deliver(chunk: Buffer): void {
    this.owner.consumed(this, chunk.length);
    this.sink?.onData(chunk);
  }

  /**
   * Our response is complete. A client still sending is asked to stop without
   * error (§8.1: RST_STREAM with NO_ERROR after a complete response).
   */
  private endedLocally(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.close();
    else this.reset(ErrorCode.NO_ERROR);
  }

  private wakeDrainWaiters(): void {
    if (this.drainWaiters === undefined || (this.needDrain && !this.closed)) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = undefined;
    for (const w of waiters) w();
  }
}
