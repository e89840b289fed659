// One object per gRPC call: the unary fast path and the streaming calls.
// Stream event listeners are module-level functions that find their call
// through a symbol on the stream, so a call costs no closures.
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { CallContext } from './handlers.js';
import type { MethodEntry } from './method-table.js';
import { GrpcError, GrpcStatus, encodeGrpcMessage, safeTrailers, type GrpcStatusCode } from './status.js';
import { FRAME_HEADER_BYTES, frameMessage } from './framing.js';

/** Limits one server applies to every call. */
export interface CallLimits {
  /** Largest gRPC message accepted (bigger: RESOURCE_EXHAUSTED, as gRPC does). */
  readonly maxReceiveMessageBytes: number;
  /** Largest request etcd would accept (bigger: INVALID_ARGUMENT "etcdserver: request is too large"). */
  readonly maxRequestBytes: number;
  /** Largest response message sent (bigger: RESOURCE_EXHAUSTED). */
  readonly maxSendMessageBytes: number;
  /** Outgoing bytes a streaming call may have queued before it is ended RESOURCE_EXHAUSTED. */
  readonly maxPendingWriteBytes: number;
  /** Decoded requests a bidi call queues for its handler before it stops reading. */
  readonly maxQueuedRequests: number;
}

export const CALL = Symbol('synod.grpc.call');
export type StreamWithCall = ServerHttp2Stream & { [CALL]?: BaseCall };

export const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' } as const;
export const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;
const OK_TRAILERS = { 'grpc-status': '0' } as const;

/** Answers a call that never got going: HEADERS with the status, and nothing else. */
export function respondTrailersOnly(stream: ServerHttp2Stream, code: GrpcStatusCode, message: string,
  extra?: Readonly<Record<string, string>>): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond({ ...RESPONSE_HEADERS, ...extra, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) },
    { endStream: true });
  // Whatever the client still sends is read and dropped, so that HTTP/2 flow
  // control never leaves the stream (and the client) stuck half-open.
  stream.resume();
}

function onWantTrailers(this: StreamWithCall): void {
  const call = this[CALL];
  this.sendTrailers(call?.trailers ?? OK_TRAILERS);
}

function onClose(this: StreamWithCall): void {
  this[CALL]?.onStreamClosed();
}

function onDeadline(call: BaseCall): void {
  call.finish(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
}

/** What every call shares: context for the handler, deadline, status at the end. */
export abstract class BaseCall implements CallContext {
  /** True once a status is decided (sent or being sent), or the stream is gone. */
  done = false;
  trailers: Record<string, string> = OK_TRAILERS;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly stream: StreamWithCall,
    readonly entry: MethodEntry,
    readonly metadata: IncomingHttpHeaders,
    readonly limits: CallLimits,
    timeoutMs: number | undefined,
  ) {
    stream[CALL] = this;
    stream.on('close', onClose);
    if (timeoutMs === undefined) {
      this.deadline = Infinity;
    } else {
      this.deadline = performance.now() + timeoutMs;
      this.timer = setTimeout(onDeadline, timeoutMs, this);
    }
  }

  readonly deadline: number;

  get method(): string {
    return this.entry.path;
  }

  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.cancelledFlag) this.controller.abort();
    }
    return this.controller.signal;
  }

  private cancelledFlag = false;

  /** The call will not complete normally: tell the handler through `signal`. */
  protected cancel(): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    this.controller?.abort();
  }

  /** Ends the call with a status; later calls are ignored. */
  finish(code: GrpcStatusCode, message: string, extra?: Readonly<Record<string, string>>): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    const s = this.stream;
    if (s.destroyed) return;
    if (!s.headersSent) {
      respondTrailersOnly(s, code, message, extra);
    } else {
      const trailers: Record<string, string> = { ...extra, 'grpc-status': String(code) };
      if (message !== '') trailers['grpc-message'] = encodeGrpcMessage(message);
      this.trailers = trailers;
      if (!s.writableEnded) s.end();
    }
    if (code !== GrpcStatus.OK) this.cancel();
  }

  /** Ends the call with whatever a handler threw. */
  fail(err: unknown): void {
    if (err instanceof GrpcError) this.finish(err.code, err.message, safeTrailers(err.trailers));
    else this.finish(GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err));
  }

  onStreamClosed(): void {
    this.clearTimer();
    if (!this.done) {
      this.done = true;
      this.cancel();
    }
    this.closed();
  }

  /** Hook for subclasses: the HTTP/2 stream is gone. */
  protected closed(): void {}

  /** Encodes and frames one response, or ends the call and returns undefined. */
  protected encode(response: unknown): Buffer | undefined {
    let body: Uint8Array;
    try {
      body = this.entry.responseType.encode(response as object).finish();
    } catch (err) {
      this.finish(GrpcStatus.INTERNAL, `cannot encode ${this.entry.responseType.name}: ${(err as Error).message}`);
      return undefined;
    }
    if (body.length > this.limits.maxSendMessageBytes) {
      this.finish(GrpcStatus.RESOURCE_EXHAUSTED,
        `response larger than max (${body.length} vs. ${this.limits.maxSendMessageBytes})`);
      return undefined;
    }
    return frameMessage(body);
  }

  /** Decodes one request message, or ends the call INVALID_ARGUMENT. */
  protected decode(body: Buffer): unknown {
    if (body.length > this.limits.maxRequestBytes) {
      this.finish(GrpcStatus.INVALID_ARGUMENT, 'etcdserver: request is too large');
      return undefined;
    }
    try {
      return this.entry.requestType.decode(body);
    } catch (err) {
      this.finish(GrpcStatus.INVALID_ARGUMENT,
        `cannot decode ${this.entry.requestType.name}: ${(err as Error).message}`);
      return undefined;
    }
  }

  protected clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

function onUnaryData(this: StreamWithCall, chunk: Buffer): void {
  (this[CALL] as UnaryCall).onData(chunk);
}

function onUnaryEnd(this: StreamWithCall): void {
  (this[CALL] as UnaryCall).onEnd();
}

/**
 * A call whose request is one message: unary calls, and the request half of
 * a server-streaming call.
 */
export abstract class SingleRequestCall extends BaseCall {
  private first: Buffer | undefined;
  private rest: Buffer[] | undefined;
  private received = 0;
  /** Bytes of the whole framed message once its header is in; else -1. */
  private expected = -1;
  private dispatched = false;

  start(): void {
    this.stream.on('data', onUnaryData);
    this.stream.on('end', onUnaryEnd);
  }

  /**
   * Collects the request and runs the handler as soon as the one message is
   * whole, without waiting for the client's END_STREAM (as grpc-go does).
   */
  onData(chunk: Buffer): void {
    if (this.done) return;
    if (this.dispatched) {
      this.finish(GrpcStatus.INTERNAL, `${this.entry.label} expects one request message; the client sent more`);
      return;
    }
    this.received += chunk.length;
    if (this.first === undefined) this.first = chunk;
    else (this.rest ??= []).push(chunk);
    if (this.expected < 0 && this.received >= FRAME_HEADER_BYTES && !this.readHeader()) return;
    if (this.expected >= 0 && this.received >= this.expected) {
      if (this.received > this.expected) {
        this.finish(GrpcStatus.INTERNAL, `${this.entry.label} expects one request message; the client sent more`);
        return;
      }
      this.dispatched = true;
      const all = this.rest === undefined ? this.first : Buffer.concat([this.first, ...this.rest]);
      const request = this.decode(all.subarray(FRAME_HEADER_BYTES));
      this.first = undefined;
      this.rest = undefined;
      if (request !== undefined) this.run(request);
    }
  }

  onEnd(): void {
    if (this.done || this.dispatched) return;
    this.finish(GrpcStatus.INTERNAL, this.received === 0
      ? `${this.entry.label} expects one request message; the client sent none`
      : `${this.entry.label}: request message cut short (${this.received} bytes with its header)`);
  }

  /** Checks the message header as soon as its 5 bytes are in; false after ending the call. */
  private readHeader(): boolean {
    const head = this.rest === undefined ? this.first as Buffer : Buffer.concat([this.first as Buffer, ...this.rest]);
    if (head[0] !== 0) {
      this.finish(GrpcStatus.INTERNAL, 'compressed flag set on a message, but the call uses identity encoding');
      return false;
    }
    const length = head.readUInt32BE(1);
    if (length > this.limits.maxReceiveMessageBytes) {
      this.finish(GrpcStatus.RESOURCE_EXHAUSTED,
        `received message larger than max (${length} vs. ${this.limits.maxReceiveMessageBytes})`);
      return false;
    }
    this.expected = FRAME_HEADER_BYTES + length;
    return true;
  }

  protected abstract run(request: unknown): void;
}

/** A unary call: one request, one response. */
export class UnaryCall extends SingleRequestCall {
  protected run(request: unknown): void {
    void runUnary(this, request);
  }

  /** Sends the one response with an OK status. */
  reply(response: unknown): void {
    if (this.done) return;
    const frame = this.encode(response);
    if (frame === undefined) return;
    this.done = true;
    this.clearTimer();
    const s = this.stream;
    if (s.destroyed) return;
    s.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    s.on('wantTrailers', onWantTrailers);
    s.end(frame);
  }
}

async function runUnary(call: UnaryCall, request: unknown): Promise<void> {
  const entry = call.entry;
  try {
    const response = await (entry.handler as NonNullable<MethodEntry['handler']>).call(entry.handlers, request, call);
    call.reply(response);
  } catch (err) {
    call.fail(err);
  }
}

export { onWantTrailers };
