// One object per gRPC call: the unary fast path and the streaming calls.
// A call is its HTTP/2 stream's sink (StreamSink), so a call costs no
// listeners or closures.
import { performance } from 'node:perf_hooks';
import type { CallContext } from './handlers.js';
import type { MethodEntry } from './method-table.js';
import { GrpcError, GrpcStatus, encodeGrpcMessage, safeTrailers, type GrpcStatusCode } from './status.js';
import { FRAME_HEADER_BYTES, frameMessage } from './framing.js';
import type { H2Stream, StreamSink } from './h2/stream.js';
import { encodeHeaders } from './h2/hpack.js';

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

/** Response headers of every call that gets going; encoded once. */
export const RESPONSE_HEADERS = encodeHeaders([[':status', '200'], ['content-type', 'application/grpc']]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0']]);

/** Answers a call that never got going: HEADERS with the status, and nothing else. */
export function respondTrailersOnly(stream: H2Stream, code: GrpcStatusCode, message: string,
  extra?: Readonly<Record<string, string>>): void {
  if (stream.headersSent || stream.localEnded) return;
  const fields: [string, string][] = [[':status', '200'], ['content-type', 'application/grpc']];
  if (extra !== undefined) for (const [k, v] of Object.entries(extra)) fields.push([k, v]);
  fields.push(['grpc-status', String(code)], ['grpc-message', encodeGrpcMessage(message)]);
  // A client still sending is told to stop without error (the stream's §8.1 reset).
  stream.respond(encodeHeaders(fields), true);
}

function onDeadline(call: BaseCall): void {
  call.finish(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
}

/** What every call shares: context for the handler, deadline, status at the end. */
export abstract class BaseCall implements CallContext, StreamSink {
  /** True once a status is decided (sent or being sent), or the stream is gone. */
  done = false;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly stream: H2Stream,
    readonly entry: MethodEntry,
    readonly limits: CallLimits,
    timeoutMs: number | undefined,
  ) {
    stream.sink = this;
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

  get metadata(): Readonly<Record<string, string>> {
    return this.stream.headers;
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
    if (s.localEnded) return;
    if (!s.headersSent) {
      respondTrailersOnly(s, code, message, extra);
    } else if (code === GrpcStatus.OK && message === '' && extra === undefined) {
      s.end(OK_TRAILERS);
    } else {
      const fields: [string, string][] = extra === undefined ? [] : Object.entries(extra);
      fields.push(['grpc-status', String(code)]);
      if (message !== '') fields.push(['grpc-message', encodeGrpcMessage(message)]);
      s.end(encodeHeaders(fields));
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

  abstract onData(chunk: Buffer): void;
  abstract onEnd(): void;

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

  /** Nothing to do: the stream delivers to this call from the start. */
  start(): void {}

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
    if (s.localEnded) return;
    s.respond(RESPONSE_HEADERS, false);
    s.write(frame);
    s.end(OK_TRAILERS);
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

