// Streaming calls: server-streaming (Maintenance.Snapshot) and bidirectional
// (Watch, LeaseKeepAlive). Response headers go out at once, so a client sees
// the stream open before the first response.
import type { BidiCall, ServerStreamCall } from './handlers.js';
import type { MethodEntry } from './method-table.js';
import { BaseCall, RESPONSE_HEADERS, SingleRequestCall } from './calls.js';
import { FrameDecoder, type FrameProblem, type FrameSink } from './framing.js';
import { GrpcStatus } from './status.js';

function openResponse(call: BaseCall): void {
  call.stream.respond(RESPONSE_HEADERS, false);
}

/** Sends one response on a streaming call, enforcing the pending-bytes limit. */
function writeResponse(call: BaseCall, frame: Buffer | undefined): boolean {
  if (frame === undefined || call.done) return false;
  const s = call.stream;
  if (s.pendingBytes + frame.length > call.limits.maxPendingWriteBytes) {
    call.finish(GrpcStatus.RESOURCE_EXHAUSTED,
      `client too slow: ${s.pendingBytes + frame.length} bytes pending exceed ${call.limits.maxPendingWriteBytes}`);
    return false;
  }
  return s.write(frame);
}

function waitDrained(call: BaseCall): Promise<void> {
  return call.done ? Promise.resolve() : call.stream.drained();
}

async function runStreaming(call: BaseCall, invoke: () => Promise<void>): Promise<void> {
  try {
    await invoke();
    call.finish(GrpcStatus.OK, '');
  } catch (err) {
    call.fail(err);
  }
}

/** Maintenance.Snapshot: one request, a stream of responses. */
export class ServerStreamingCall<Res> extends SingleRequestCall implements ServerStreamCall<Res> {
  write(response: Res): boolean {
    return writeResponse(this, this.done ? undefined : this.encode(response));
  }

  drained(): Promise<void> {
    return waitDrained(this);
  }

  protected run(request: unknown): void {
    openResponse(this);
    const entry = this.entry;
    void runStreaming(this, () => (entry.handler as NonNullable<MethodEntry['handler']>)
      .call(entry.handlers, request, this) as Promise<void>);
  }
}

/**
 * Watch and LeaseKeepAlive. Requests are decoded as they arrive and queued
 * for the handler's `for await`; when the queue holds maxQueuedRequests the
 * HTTP/2 stream is paused, so HTTP/2 flow control holds the client back.
 */
export class BidiStreamCall<Req, Res> extends BaseCall implements BidiCall<Req, Res>, FrameSink {
  private decoder: FrameDecoder | undefined;
  private readonly queue: Req[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  start(): void {
    this.decoder = new FrameDecoder(this.limits.maxReceiveMessageBytes);
    openResponse(this);
    const entry = this.entry;
    void runStreaming(this, () => (entry.handler as NonNullable<MethodEntry['handler']>)
      .call(entry.handlers, this) as Promise<void>);
  }

  write(response: Res): boolean {
    return writeResponse(this, this.done ? undefined : this.encode(response));
  }

  drained(): Promise<void> {
    return waitDrained(this);
  }

  get requests(): AsyncIterable<Req> {
    return { [Symbol.asyncIterator]: () => ({ next: () => this.next() }) };
  }

  onData(chunk: Buffer): void {
    if (this.done || this.decoder === undefined) return;
    const problem = this.decoder.push(chunk, this);
    if (problem !== undefined) this.frameProblem(problem);
  }

  onFrame(body: Buffer): void {
    if (this.done) return;
    const request = this.decode(body) as Req | undefined;
    if (request === undefined) return;
    this.queue.push(request);
    if (this.queue.length >= this.limits.maxQueuedRequests) this.stream.pause();
    this.notify();
  }

  onEnd(): void {
    if (!this.done && this.decoder !== undefined && this.decoder.bufferedBytes > 0) {
      this.finish(GrpcStatus.INTERNAL, `${this.entry.label}: stream ended inside a message`);
    }
    this.ended = true;
    this.notify();
  }

  protected override closed(): void {
    this.ended = true;
    this.notify();
  }

  private frameProblem(problem: FrameProblem): void {
    if (problem.type === 'compressed') {
      this.finish(GrpcStatus.INTERNAL, 'compressed flag set on a message, but the call uses identity encoding');
    } else {
      this.finish(GrpcStatus.RESOURCE_EXHAUSTED, `received message larger than max (${problem.length} vs. ${problem.limit})`);
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async next(): Promise<IteratorResult<Req>> {
    for (;;) {
      const request = this.queue.shift();
      if (request !== undefined) {
        if (this.queue.length < this.limits.maxQueuedRequests && this.stream.isPaused && !this.done) this.stream.resume();
        return { value: request, done: false };
      }
      if (this.ended || this.done) return { value: undefined, done: true };
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }
}
