// synod's gRPC server for the etcd v3 API, on node:http2 directly.
//
// Why not @grpc/grpc-js's server: on the brief's 2-core machine a bare
// node:http2 responder answered an empty Put about 1.7x as fast. This file
// speaks the gRPC-over-HTTP/2 protocol itself: POST + application/grpc,
// length-prefixed messages, grpc-timeout, grpc-status/grpc-message trailers
// (or a trailers-only answer), identity encoding only.
import {
  createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { EtcdHandlers } from './handlers.js';
import { buildMethodTable, unknownMethodMessage, type MethodEntry } from './method-table.js';
import { loadEtcdRoot } from './proto.js';
import { parseGrpcTimeoutMs, MAX_TIMER_MS } from './deadline.js';
import { GrpcStatus } from './status.js';
import { UnaryCall, respondTrailersOnly, type CallLimits, type StreamWithCall } from './calls.js';
import { BidiStreamCall, ServerStreamingCall } from './stream-calls.js';

export interface EtcdGrpcServerOptions extends Partial<CallLimits> {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  readonly maxConcurrentStreams?: number;
  /** Connections open at once; more are refused (closed at once). */
  readonly maxConnections?: number;
}

/**
 * Defaults follow etcd: requests up to 1.5 MiB (--max-request-bytes), gRPC
 * messages up to that plus 512 KiB of overhead, responses up to 2 GiB - 1.
 */
export const DEFAULT_LIMITS: CallLimits = {
  maxRequestBytes: 1.5 * 1024 * 1024,
  maxReceiveMessageBytes: 1.5 * 1024 * 1024 + 512 * 1024,
  maxSendMessageBytes: 2 ** 31 - 1,
  maxPendingWriteBytes: 64 * 1024 * 1024,
  maxQueuedRequests: 64,
};
const DEFAULT_MAX_CONCURRENT_STREAMS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 10_000;

function ignoreError(): void {}

/**
 * A response goes out as HEADERS, DATA and trailers in separate writes; with
 * Nagle's algorithm on, the later ones wait for the client's delayed ACK.
 */
function noDelay(socket: Socket): void {
  socket.setNoDelay(true);
}

export class EtcdGrpcServer {
  readonly http2: Http2Server;
  private readonly table: Map<string, MethodEntry>;
  private readonly limits: CallLimits;
  private readonly sessions = new Set<Http2Session>();
  private readonly maxConnections: number;

  constructor(handlers: EtcdHandlers, options: EtcdGrpcServerOptions = {}) {
    this.table = buildMethodTable(loadEtcdRoot(), handlers);
    this.limits = {
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_LIMITS.maxRequestBytes,
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_LIMITS.maxReceiveMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes ?? DEFAULT_LIMITS.maxSendMessageBytes,
      maxPendingWriteBytes: options.maxPendingWriteBytes ?? DEFAULT_LIMITS.maxPendingWriteBytes,
      maxQueuedRequests: options.maxQueuedRequests ?? DEFAULT_LIMITS.maxQueuedRequests,
    };
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.http2 = createServer({
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS },
      // Node's default (10 MiB) is reached under a few hundred concurrent
      // clients and answered with ENHANCE_YOUR_CALM; bound it higher instead.
      maxSessionMemory: 64,
    });
    this.http2.on('stream', this.onStream.bind(this));
    this.http2.on('session', this.onSession.bind(this));
    this.http2.on('sessionError', ignoreError);
    this.http2.on('connection', noDelay);
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.http2.once('error', onError);
      this.http2.listen(port, host, () => {
        this.http2.off('error', onError);
        resolve(this.http2.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections. With graceMs 0 the open ones are cut at once;
   * otherwise each gets a GOAWAY, calls in flight may finish within graceMs,
   * and what is still open then (Watch streams, typically) is cut.
   */
  close(graceMs = 0): Promise<void> {
    return new Promise((resolve) => {
      this.http2.close(() => resolve());
      if (graceMs <= 0) {
        for (const s of this.sessions) s.destroy();
        return;
      }
      for (const s of this.sessions) s.close();
      setTimeout(() => {
        for (const s of this.sessions) s.destroy();
      }, graceMs).unref();
    });
  }

  private onSession(session: Http2Session): void {
    if (this.sessions.size >= this.maxConnections) {
      session.destroy();
      return;
    }
    this.sessions.add(session);
    session.on('error', ignoreError);
    session.once('close', () => this.sessions.delete(session));
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', ignoreError);
    if (headers[':method'] !== 'POST') {
      stream.respond({ ':status': 405, allow: 'POST' }, { endStream: true });
      return;
    }
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      // gRPC over HTTP/2: a non-gRPC request gets HTTP 415, so no plain HTTP
      // client mistakes the 200 of a gRPC error for success.
      stream.respond({ ':status': 415, 'grpc-status': String(GrpcStatus.INTERNAL), 'grpc-message': 'content-type must be application/grpc' },
        { endStream: true });
      return;
    }
    const problem = this.checkHeaders(headers, contentType);
    if (problem !== undefined) {
      respondTrailersOnly(stream, problem[0], problem[1], problem[2]);
      return;
    }
    const path = headers[':path'] ?? '';
    const entry = this.table.get(path);
    if (entry === undefined) {
      respondTrailersOnly(stream, GrpcStatus.UNIMPLEMENTED, unknownMethodMessage(path, this.table));
      return;
    }
    if (entry.handler === undefined) {
      respondTrailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `synod does not offer ${entry.label} yet`);
      return;
    }
    this.startCall(stream as StreamWithCall, entry, headers);
  }

  private startCall(stream: StreamWithCall, entry: MethodEntry, headers: IncomingHttpHeaders): void {
    const timeout = headers['grpc-timeout'];
    let timeoutMs: number | undefined;
    if (timeout !== undefined) {
      timeoutMs = parseGrpcTimeoutMs(timeout as string);
      if (timeoutMs === undefined) {
        respondTrailersOnly(stream, GrpcStatus.INTERNAL, `malformed grpc-timeout: ${String(timeout)}`);
        return;
      }
      if (timeoutMs > MAX_TIMER_MS) timeoutMs = undefined;
    }
    switch (entry.kind) {
      case 'unary':
        new UnaryCall(stream, entry, headers, this.limits, timeoutMs).start();
        return;
      case 'server-stream':
        new ServerStreamingCall(stream, entry, headers, this.limits, timeoutMs).start();
        return;
      case 'bidi':
        new BidiStreamCall(stream, entry, headers, this.limits, timeoutMs).start();
        return;
    }
  }

  /** Content sub-type and encoding: only protobuf, only identity. */
  private checkHeaders(headers: IncomingHttpHeaders, contentType: string):
    [typeof GrpcStatus.INTERNAL | typeof GrpcStatus.UNIMPLEMENTED, string, Record<string, string>?] | undefined {
    if (contentType.length > 16 && contentType !== 'application/grpc+proto' && !contentType.startsWith('application/grpc;')) {
      return [GrpcStatus.INTERNAL, `content-type ${contentType} is not supported; synod speaks application/grpc+proto`];
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      return [GrpcStatus.UNIMPLEMENTED, `grpc-encoding ${String(encoding)} is not supported; synod accepts identity only`,
        { 'grpc-accept-encoding': 'identity' }];
    }
    return undefined;
  }
}
