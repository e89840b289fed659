// The server side of one HTTP/2 connection (RFC 9113), written for gRPC:
// frames are parsed straight from the socket's chunks, every frame a turn of
// the event loop produces goes out in one socket write, and the response of a
// unary call is three frames with no stream objects from node:stream.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  CLIENT_PREFACE, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, ErrorCode, FRAME_HEADER_LENGTH, Flag, FrameType,
  MAX_ALLOWED_FRAME_SIZE, MAX_WINDOW, SETTINGS_ACK, Setting, errorName, frame, goAwayFrame, rstStreamFrame,
  settingsFrame, windowUpdateFrame, writeFrameHeader, type ErrorCodeValue,
} from './frames.js';
import { HeaderListTooLarge, HpackDecoder, HpackError } from './hpack.js';
import { H2Stream, type StreamOwner } from './stream.js';

export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; more open streams are refused (REFUSED_STREAM). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise; a bigger request is answered by onHeadersTooLarge. */
  readonly maxHeaderListBytes: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise for each stream. */
  readonly streamWindow: number;
  /** What we let the client have in flight on the whole connection. */
  readonly connectionWindow: number;
  /** After this long without a frame from the client we PING it (etcd's --grpc-keepalive-interval; 0: never). */
  readonly keepaliveIntervalMs: number;
  /** A PING unanswered this long ends the connection (etcd's --grpc-keepalive-timeout). */
  readonly keepaliveTimeoutMs: number;
  /**
   * Client PINGs closer together than this while streams are open (two hours
   * with none, as gRPC servers allow) are strikes; the third ends the
   * connection with GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (etcd's
   * --grpc-keepalive-min-time). Strikes clear whenever we send a response.
   */
  readonly pingMinIntervalMs: number;
}

export const DEFAULT_H2_LIMITS: H2Limits = {
  maxConcurrentStreams: 10_000,
  maxHeaderListBytes: 64 * 1024,
  streamWindow: 1024 * 1024,
  connectionWindow: 16 * 1024 * 1024,
  keepaliveIntervalMs: 2 * 60 * 60 * 1000,
  keepaliveTimeoutMs: 20_000,
  pingMinIntervalMs: 5000,
};

/** Pings a client may send without streams open: one per two hours (gRPC's PermitWithoutStream false). */
const IDLE_PING_INTERVAL_MS = 2 * 60 * 60 * 1000;
const MAX_PING_STRIKES = 2;
/** Our keepalive PING's payload (its ACK echoes it). */
const KEEPALIVE_PING = Buffer.from('synodka0');

/** What the connection hands up: each new request stream. */
export interface H2Handler {
  onStream(stream: H2Stream): void;
  /**
   * An HTTP/1.1 request instead of the HTTP/2 preface: the handler may take
   * the socket (with the bytes read so far) and return true; otherwise it is
   * answered 505 and closed.
   */
  onHttp1?(socket: Socket, head: Buffer): boolean;
  /** A request whose decoded header list exceeds maxHeaderListBytes (its stream is open, headers empty). */
  onHeadersTooLarge(stream: H2Stream, size: number): void;
}

/** Bytes of DATA kept in the socket's buffer before streams wait for 'drain'. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Output the client leaves unread before the connection is cut (floods of PING or SETTINGS, say). */
const SOCKET_HARD_LIMIT = 256 * 1024 * 1024;
/**
 * Streams a client may reset per second before the connection is cut
 * (ENHANCE_YOUR_CALM): each reset stream still started a call, so a client
 * opening and resetting streams in a loop (the "rapid reset" attack) would
 * get unbounded work for free.
 */
const MAX_RESETS_PER_SECOND = 1000;
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority']);

/** A connection error (§5.4.1): GOAWAY with this code, then the connection closes. */
class ConnectionError extends Error {
  constructor(readonly code: ErrorCodeValue, message: string) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);

export class H2Connection implements StreamOwner {
  sendWindow = DEFAULT_WINDOW;
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** Why the connection ended, once it has (for logs and tests). */
  closeReason: string | undefined;
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder: HpackDecoder;
  private peerStreamWindow = DEFAULT_WINDOW;
  private recvWindow = DEFAULT_WINDOW;
  private uncredited = 0;
  private lastStreamId = 0;
  private prefaceSeen = false;
  private settingsSeen = false;
  private pending: Buffer = EMPTY;
  /** A header block being assembled from HEADERS + CONTINUATION. */
  private block: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private readonly waiting = new Set<H2Stream>();
  private goingAway = false;
  private ended = false;
  private readonly flushBound = (): void => this.flush();
  private resetWindowStart = 0;
  /** performance.now() of the last bytes from the client (keepalive). */
  private lastReceived = performance.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the client's last PING, -1 before one. */
  private lastClientPing = -1;
  private pingStrikes = 0;
  private resetsInWindow = 0;

  constructor(
    private readonly socket: Socket,
    private readonly handler: H2Handler,
    private readonly limits: H2Limits = DEFAULT_H2_LIMITS,
    private readonly onEnded?: (conn: H2Connection) => void,
  ) {
    this.decoder = new HpackDecoder(4096);
    if (limits.keepaliveIntervalMs > 0) this.armKeepalive(limits.keepaliveIntervalMs);
    socket.on('data', this.socketData);
    socket.on('drain', this.socketDrain);
    socket.on('error', this.socketError);
    socket.on('close', this.socketClose);
  }

  private readonly socketData = (chunk: Buffer): void => this.onSocketData(chunk);
  private readonly socketDrain = (): void => this.schedule();
  private readonly socketError = (err: Error): void => this.terminated(`socket error: ${err.message}`);
  private readonly socketClose = (): void => this.terminated('socket closed');

  // ---- keepalive ---------------------------------------------------------------

  /** Checks `afterMs` from now whether the client has been silent for a whole interval; if so, PINGs it. */
  private armKeepalive(afterMs: number): void {
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = undefined;
      if (this.ended) return;
      const silent = performance.now() - this.lastReceived;
      if (silent < this.limits.keepaliveIntervalMs) return this.armKeepalive(this.limits.keepaliveIntervalMs - silent);
      this.queue(frame(FrameType.PING, 0, 0, KEEPALIVE_PING));
      this.keepaliveTimer = setTimeout(() => {
        this.keepaliveTimer = undefined;
        // Any frame since the PING (its ACK among them) shows the client is there.
        if (performance.now() - this.lastReceived < this.limits.keepaliveTimeoutMs) return this.armKeepalive(this.limits.keepaliveIntervalMs);
        this.closeReason = `keepalive: no answer to a PING within ${this.limits.keepaliveTimeoutMs} ms`;
        this.destroy();
      }, this.limits.keepaliveTimeoutMs);
      this.keepaliveTimer.unref();
    }, afterMs);
    this.keepaliveTimer.unref();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Graceful close (§6.8): GOAWAY naming the last stream we will serve; the
   * connection ends once those streams are done.
   */
  goAway(): void {
    if (this.goingAway || this.ended) return;
    this.goingAway = true;
    this.queue(goAwayFrame(this.lastStreamId, ErrorCode.NO_ERROR, ''));
    if (this.streams.size === 0) this.endSoon();
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.terminated('destroyed');
  }

  // ---- StreamOwner -----------------------------------------------------------------

  sendHeaders(stream: H2Stream, block: Buffer, endStream: boolean): void {
    this.pingStrikes = 0;
    const max = this.maxFrameSize;
    const flags0 = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.queue(frame(FrameType.HEADERS, flags0 | Flag.END_HEADERS, stream.id, block));
      return;
    }
    for (let at = 0; at < block.length; at += max) {
      const end = Math.min(block.length, at + max);
      const last = end === block.length ? Flag.END_HEADERS : 0;
      this.queue(at === 0
        ? frame(FrameType.HEADERS, flags0 | last, stream.id, block, at, end)
        : frame(FrameType.CONTINUATION, last, stream.id, block, at, end));
    }
  }

  sendData(stream: H2Stream, data: Buffer, start: number, end: number, endStream: boolean): void {
    this.pingStrikes = 0;
    const length = end - start;
    stream.sendWindow -= length;
    this.sendWindow -= length;
    const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
    writeFrameHeader(header, 0, length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, stream.id);
    this.queue(header);
    if (length > 0) this.queue(start === 0 && end === data.length ? data : data.subarray(start, end));
  }

  sendReset(stream: H2Stream, code: ErrorCodeValue): void {
    this.queue(rstStreamFrame(stream.id, code));
  }

  wantsPump(stream: H2Stream): void {
    this.waiting.add(stream);
    this.schedule();
  }

  consumed(stream: H2Stream, bytes: number): void {
    this.creditConnection(bytes);
    if (stream.remoteEnded) return;
    stream.uncredited += bytes;
    if (stream.uncredited >= this.limits.streamWindow / 2) {
      this.queue(windowUpdateFrame(stream.id, stream.uncredited));
      stream.recvWindow += stream.uncredited;
      stream.uncredited = 0;
    }
  }

  closed(stream: H2Stream): void {
    this.streams.delete(stream.id);
    this.waiting.delete(stream);
    if (this.goingAway && this.streams.size === 0) this.endSoon();
  }

  // ---- output ------------------------------------------------------------------------

  private queue(buf: Buffer): void {
    if (this.ended) return;
    this.out.push(buf);
    this.outBytes += buf.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled || this.ended) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  /** Frames waiting streams' data while windows and the socket allow, then writes everything queued. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.ended) return;
    if (this.waiting.size > 0 && this.socket.writableLength < SOCKET_HIGH_WATER) {
      for (const stream of this.waiting) {
        if (this.sendWindow <= 0) break;
        if (!stream.pump()) this.waiting.delete(stream);
      }
    }
    if (this.outBytes === 0) return;
    const out = this.out;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    if (out.length === 1) {
      this.socket.write(out[0] as Buffer);
    } else if (bytes <= 64 * 1024) {
      this.socket.write(Buffer.concat(out, bytes));
    } else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
    if (this.socket.writableLength > SOCKET_HARD_LIMIT) {
      this.fail(new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `client left ${this.socket.writableLength} bytes unread`));
    }
  }

  private endSoon(): void {
    this.flush();
    this.socket.end();
  }

  // ---- input ---------------------------------------------------------------------------

  private onSocketData(chunk: Buffer): void {
    if (this.ended) return;
    this.lastReceived = performance.now();
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      if (!this.prefaceSeen) {
        const rest = this.readPreface(buf);
        if (rest === undefined) {
          this.pending = buf;
          return;
        }
        buf = rest;
      }
      let at = 0;
      while (buf.length - at >= FRAME_HEADER_LENGTH && !this.ended) {
        const length = (buf[at] as number) << 16 | (buf[at + 1] as number) << 8 | (buf[at + 2] as number);
        if (length > DEFAULT_MAX_FRAME_SIZE) {
          throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${DEFAULT_MAX_FRAME_SIZE}`);
        }
        if (buf.length - at < FRAME_HEADER_LENGTH + length) break;
        const type = buf[at + 3] as number;
        const flags = buf[at + 4] as number;
        const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
        const start = at + FRAME_HEADER_LENGTH;
        at = start + length;
        this.onFrame(type, flags, streamId, buf.subarray(start, at));
      }
      this.pending = at === buf.length ? EMPTY : buf.subarray(at);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Checks the client preface (§3.4); returns what follows it, or undefined while it is incomplete. */
  private readPreface(buf: Buffer): Buffer | undefined {
    const n = Math.min(buf.length, CLIENT_PREFACE.length);
    if (buf.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) {
      const head = buf.toString('latin1', 0, Math.min(buf.length, 256));
      if (/^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/.test(head)) {
        if (!this.handOffHttp1(buf)) this.refuseHttp1();
        return undefined;
      }
      // The start of a request line, cut by the network: wait for the rest of it.
      if (/^[A-Z]{1,16}( [^\r\n]*)?$/.test(head) && buf.length < 256) return undefined;
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the client did not open with the HTTP/2 connection preface');
    }
    if (buf.length < CLIENT_PREFACE.length) return undefined;
    this.prefaceSeen = true;
    this.sendPreface();
    return buf.subarray(CLIENT_PREFACE.length);
  }

  /**
   * §3.4: the server's preface is a SETTINGS frame; then the connection
   * window. Sent once the client's preface is in, so a client speaking
   * HTTP/1.1 gets a plain answer with no frames before it.
   */
  private sendPreface(): void {
    const limits = this.limits;
    this.queue(settingsFrame([
      [Setting.MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams],
      [Setting.INITIAL_WINDOW_SIZE, limits.streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes],
    ]));
    if (limits.connectionWindow > DEFAULT_WINDOW) {
      this.queue(windowUpdateFrame(0, limits.connectionWindow - DEFAULT_WINDOW));
      this.recvWindow = limits.connectionWindow;
    }
  }

  /** Gives the socket, and what was read of it, to the handler's HTTP/1.1 server; false if it has none. */
  private handOffHttp1(head: Buffer): boolean {
    if (this.handler.onHttp1 === undefined) return false;
    this.socket.off('data', this.socketData);
    this.socket.off('drain', this.socketDrain);
    this.socket.off('error', this.socketError);
    this.socket.off('close', this.socketClose);
    this.ended = true;
    this.closeReason = 'handed to the HTTP/1.1 server';
    this.onEnded?.(this);
    return this.handler.onHttp1(this.socket, head);
  }

  /** An HTTP/1.1 request on the gRPC port: say what the port speaks, then close. */
  private refuseHttp1(): void {
    const body = 'this port speaks gRPC over HTTP/2 (prior knowledge), the etcd v3 API; ' +
      'HTTP/1.1 /health and /metrics are served on the metrics port (--listen-metrics-urls)\n';
    this.ended = true;
    this.closeReason = 'HTTP/1.1 request refused';
    this.socket.end(`HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.block !== undefined && type !== FrameType.CONTINUATION) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `frame type ${type} inside a header block of stream ${this.block.streamId}`);
    }
    if (!this.settingsSeen && type !== FrameType.SETTINGS) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the first frame after the preface must be SETTINGS');
    }
    switch (type) {
      case FrameType.DATA: return this.onData(flags, streamId, payload);
      case FrameType.HEADERS: return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION: return this.onContinuation(flags, streamId, payload);
      case FrameType.SETTINGS: return this.onSettings(flags, streamId, payload);
      case FrameType.WINDOW_UPDATE: return this.onWindowUpdate(streamId, payload);
      case FrameType.PING: return this.onPing(flags, streamId, payload);
      case FrameType.RST_STREAM: return this.onRstStream(streamId, payload);
      case FrameType.GOAWAY: return this.onGoAway(streamId);
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) this.streamError(streamId, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a client sent PUSH_PROMISE');
      default:
        return; // §4.1: unknown frame types are ignored
    }
  }

  /** Strips padding (§6.1, §6.2); returns [start, end] of what is left. */
  private unpad(flags: number, payload: Buffer, skip: number): [number, number] {
    if ((flags & Flag.PADDED) === 0) return [skip, payload.length];
    const padLength = payload[0];
    if (padLength === undefined || 1 + skip + padLength > payload.length) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
    }
    return [1 + skip, payload.length - padLength];
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    // §6.9.1: the whole frame, padding included, counts against the windows.
    this.recvWindow -= payload.length;
    if (this.recvWindow < 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    const [start, end] = this.unpad(flags, payload, 0);
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      this.creditConnection(payload.length); // a stream we closed: its data is dropped (§5.1 "closed")
      return;
    }
    if (stream.remoteEnded) {
      this.creditConnection(payload.length);
      return this.streamError(streamId, ErrorCode.STREAM_CLOSED);
    }
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) {
      this.creditConnection(payload.length);
      return this.streamError(streamId, ErrorCode.FLOW_CONTROL_ERROR);
    }
    if (end - start < payload.length) this.creditConnection(payload.length - (end - start));
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (stream.contentLength >= 0) {
      // §8.1.1: DATA that disagrees with content-length makes the request malformed.
      stream.receivedBytes += end - start;
      if (stream.receivedBytes > stream.contentLength || (endStream && stream.receivedBytes !== stream.contentLength)) {
        this.creditConnection(end - start);
        return this.streamError(streamId, ErrorCode.PROTOCOL_ERROR);
      }
    }
    stream.received(start === 0 && end === payload.length ? payload : payload.subarray(start, end), endStream);
  }

  private creditConnection(bytes: number): void {
    this.uncredited += bytes;
    if (this.uncredited >= this.limits.connectionWindow / 2) {
      this.queue(windowUpdateFrame(0, this.uncredited));
      this.recvWindow += this.uncredited;
      this.uncredited = 0;
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}: clients open odd-numbered streams`);
    }
    const [start, end] = this.unpad(flags, payload, (flags & Flag.PRIORITY) !== 0 ? 5 : 0);
    const part = payload.subarray(start, end);
    this.block = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [part], bytes: part.length };
    if ((flags & Flag.END_HEADERS) !== 0) this.endBlock();
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.block;
    if (block === undefined || block.streamId !== streamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${streamId} without a header block open`);
    }
    block.parts.push(payload);
    block.bytes += payload.length;
    // The block is kept until it ends; bound it so a CONTINUATION flood cannot grow it without end.
    if (block.bytes > 4 * this.limits.maxHeaderListBytes) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block of more than ${block.bytes} bytes`);
    }
    if ((flags & Flag.END_HEADERS) !== 0) this.endBlock();
  }

  private endBlock(): void {
    const block = this.block as NonNullable<H2Connection['block']>;
    this.block = undefined;
    const bytes = block.parts.length === 1 ? block.parts[0] as Buffer : Buffer.concat(block.parts, block.bytes);
    let fields: string[] | undefined;
    let tooLarge = -1;
    try {
      fields = this.decoder.decode(bytes, this.limits.maxHeaderListBytes);
    } catch (err) {
      if (err instanceof HeaderListTooLarge) tooLarge = err.size;
      else if (err instanceof HpackError) throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, err.message);
      else throw err;
    }
    const id = block.streamId;
    if (id <= this.lastStreamId) return this.trailersFromClient(id, block.endStream);
    this.lastStreamId = id;
    if (this.goingAway) return; // §6.8: streams above the GOAWAY's last id are not served
    if (this.streams.size >= this.limits.maxConcurrentStreams) return this.streamError(id, ErrorCode.REFUSED_STREAM);
    const headers = fields === undefined ? {} : requestHeaders(fields);
    if (headers === undefined) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
    const stream = new H2Stream(id, headers, this, this.peerStreamWindow, this.limits.streamWindow);
    const declared = headers['content-length'];
    if (declared !== undefined) {
      stream.contentLength = Number(declared);
      // A request that ends with its headers carries no DATA: its content-length must be 0.
      if (block.endStream && stream.contentLength !== 0) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
    }
    this.streams.set(id, stream);
    if (block.endStream) stream.remoteEnded = true;
    if (tooLarge >= 0) this.handler.onHeadersTooLarge(stream, tooLarge);
    else this.handler.onStream(stream);
    if (block.endStream && !stream.closed) stream.receivedEnd();
  }

  /** A second header block on an open stream: trailers, which must end it (§8.1). */
  private trailersFromClient(streamId: number, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return; // closed by us; ignored
    if (!endStream || stream.remoteEnded) return this.streamError(streamId, ErrorCode.PROTOCOL_ERROR);
    if (stream.contentLength >= 0 && stream.receivedBytes !== stream.contentLength) return this.streamError(streamId, ErrorCode.PROTOCOL_ERROR);
    stream.receivedEnd();
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS length not a multiple of 6');
    this.settingsSeen = true;
    for (let at = 0; at < payload.length; at += 6) this.applySetting(payload.readUInt16BE(at), payload.readUInt32BE(at + 2));
    this.queue(SETTINGS_ACK);
  }

  private applySetting(id: number, value: number): void {
    switch (id) {
      case Setting.ENABLE_PUSH:
        if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
        return;
      case Setting.INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        // §6.9.2: the change applies to every open stream's window.
        const delta = value - this.peerStreamWindow;
        this.peerStreamWindow = value;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `stream ${s.id} window overflow`);
          if (delta > 0 && s.pendingBytes > 0) this.wantsPump(s);
        }
        return;
      }
      case Setting.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        }
        this.maxFrameSize = value;
        return;
      default:
        return; // HEADER_TABLE_SIZE: our encoder never indexes; the rest are advisory or unknown (ignored)
    }
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE length not 4');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
      if (this.waiting.size > 0) this.schedule();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      return;
    }
    if (increment === 0) return this.streamError(streamId, ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.streamError(streamId, ErrorCode.FLOW_CONTROL_ERROR);
    if (stream.pendingBytes > 0 || this.waiting.has(stream)) this.wantsPump(stream);
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING length not 8');
    if ((flags & Flag.ACK) !== 0) return;
    // gRPC's keepalive enforcement: pings more often than allowed, three times over, end the connection.
    const now = performance.now();
    const allowed = this.streams.size > 0 ? this.limits.pingMinIntervalMs : IDLE_PING_INTERVAL_MS;
    if (this.lastClientPing >= 0 && now - this.lastClientPing < allowed && ++this.pingStrikes > MAX_PING_STRIKES) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too_many_pings');
    }
    this.lastClientPing = now;
    this.queue(frame(FrameType.PING, Flag.ACK, 0, payload));
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM length not 4');
    if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    const now = performance.now();
    if (now - this.resetWindowStart > 1000) {
      this.resetWindowStart = now;
      this.resetsInWindow = 0;
    }
    if (++this.resetsInWindow > MAX_RESETS_PER_SECOND) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${MAX_RESETS_PER_SECOND} streams reset by the client in a second`);
    }
    stream.close();
  }

  private onGoAway(streamId: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
    // The client will open no more streams; those open may finish.
    this.goingAway = true;
    if (this.streams.size === 0) this.endSoon();
  }

  /** A stream error (§5.4.2): RST_STREAM, and the stream (if open) closes. */
  private streamError(streamId: number, code: ErrorCodeValue): void {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) stream.reset(code);
    else this.queue(rstStreamFrame(streamId, code));
  }

  /** A connection error: GOAWAY with the code and reason, then close. */
  private fail(err: unknown): void {
    if (this.ended) return;
    const code = err instanceof ConnectionError ? err.code : ErrorCode.INTERNAL_ERROR;
    const message = err instanceof Error ? err.message : String(err);
    this.closeReason = `${errorName(code)}: ${message}`;
    this.queue(goAwayFrame(this.lastStreamId, code, message));
    this.flush();
    this.socket.end();
    this.terminated(this.closeReason);
  }

  private terminated(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.closeReason ??= reason;
    if (this.keepaliveTimer !== undefined) clearTimeout(this.keepaliveTimer);
    const open = [...this.streams.values()];
    for (const s of open) s.close();
    this.onEnded?.(this);
  }
}

/**
 * The request's header list as a record (§8.3.1), or undefined when it is
 * malformed (§8.1.1): upper-case names, unknown or repeated pseudo-headers,
 * pseudo-headers after regular ones, connection-specific fields, a TE other
 * than "trailers", a content-length that is not one decimal number, or a
 * missing :method, :scheme or :path.
 */
export function requestHeaders(fields: readonly string[]): Record<string, string> | undefined {
  // No prototype, so a header named __proto__ is just a header.
  const headers = Object.create(null) as Record<string, string>;
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name !== name.toLowerCase() || name.length === 0) return undefined;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (regular || !REQUEST_PSEUDO.has(name) || headers[name] !== undefined) return undefined;
      headers[name] = value;
      continue;
    }
    regular = true;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) return undefined;
    if (name === 'content-length' && (!/^\d{1,15}$/.test(value) || headers[name] !== undefined)) return undefined;
    const prior = headers[name];
    headers[name] = prior === undefined ? value : `${prior}, ${value}`;
  }
  if (headers[':method'] === undefined || headers[':path'] === undefined || headers[':scheme'] === undefined) return undefined;
  return headers;
}
