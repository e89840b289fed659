// synod's gRPC server for the etcd v3 API, on its own HTTP/2 layer (./h2).
//
// Why not node:http2 or @grpc/grpc-js: on the brief's 2-core machine an empty
// Put cost the node:http2 server about 40 µs of CPU (a Duplex stream, header
// objects and several native crossings per call), and grpc-js more. The h2
// layer parses frames from the socket's chunks and writes each event-loop
// turn's frames at once (`npm run bench -- grpc`). This file speaks the
// gRPC-over-HTTP/2 protocol: POST + application/grpc, length-prefixed
// messages, grpc-timeout, grpc-status/grpc-message trailers (or a
// trailers-only answer), identity encoding only.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { EtcdHandlers } from './handlers.js';
import { buildMethodTable, unknownMethodMessage, type MethodEntry } from './method-table.js';
import { loadEtcdRoot } from './proto.js';
import { parseGrpcTimeoutMs, MAX_TIMER_MS } from './deadline.js';
import { GrpcStatus } from './status.js';
import { UnaryCall, respondTrailersOnly, type CallLimits } from './calls.js';
import { BidiStreamCall, ServerStreamingCall } from './stream-calls.js';
import { DEFAULT_H2_LIMITS, H2Connection, type H2Handler, type H2Limits } from './h2/connection.js';
import type { H2Stream } from './h2/stream.js';
import { encodeHeaders } from './h2/hpack.js';
import { createSecureServer, type TlsIdentity } from '../../net/tls.js';

export interface EtcdGrpcServerOptions extends Partial<CallLimits> {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  readonly maxConcurrentStreams?: number;
  /** Connections open at once; more are refused (closed at once). */
  readonly maxConnections?: number;
  /** Plain HTTP/1.1 requests on the same port (etcd's /health, /version, /metrics); without it they are answered 505. */
  readonly http1?: RequestListener;
  /** Serve over TLS (ALPN h2) with this certificate and key (PEM); with clientCertAuth, clients must present one signed by `ca`. */
  readonly tls?: TlsIdentity;
  /** Keepalive: pinging silent clients and limiting theirs (H2Limits; etcd's --grpc-keepalive-* flags). */
  readonly keepalive?: { readonly minTimeMs?: number; readonly intervalMs?: number; readonly timeoutMs?: number };
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

const METHOD_NOT_ALLOWED = encodeHeaders([[':status', '405'], ['allow', 'POST']]);
const UNSUPPORTED_MEDIA_TYPE = encodeHeaders([[':status', '415'], ['grpc-status', String(GrpcStatus.INTERNAL)],
  ['grpc-message', 'content-type must be application/grpc']]);

export class EtcdGrpcServer implements H2Handler {
  readonly net: Server;
  private readonly table: Map<string, MethodEntry>;
  private readonly limits: CallLimits;
  private readonly connections = new Set<H2Connection>();
  /** With TLS: every accepted TCP socket (see createSecureServer). */
  private readonly rawSockets: Set<Socket> = new Set();
  private readonly http1: RequestListener | undefined;
  private http1Server: HttpServer | undefined;
  /** Sockets handed to the HTTP/1.1 server. */
  private readonly http1Sockets = new Set<Socket>();
  private readonly maxConnections: number;
  private readonly h2Limits: H2Limits;
  private readonly maxConcurrentStreams: number;

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
    this.maxConcurrentStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    const ka = options.keepalive ?? {};
    this.h2Limits = {
      ...DEFAULT_H2_LIMITS,
      maxConcurrentStreams: this.maxConcurrentStreams,
      ...(ka.minTimeMs === undefined ? {} : { pingMinIntervalMs: ka.minTimeMs }),
      ...(ka.intervalMs === undefined ? {} : { keepaliveIntervalMs: ka.intervalMs }),
      ...(ka.timeoutMs === undefined ? {} : { keepaliveTimeoutMs: ka.timeoutMs }),
    };
    this.http1 = options.http1;
    if (options.tls === undefined) {
      this.net = createServer(this.onConnection.bind(this));
    } else {
      const secure = createSecureServer(options.tls, this.onConnection.bind(this), ['h2']);
      this.net = secure.server;
      this.rawSockets = secure.rawSockets;
    }
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.net.once('error', onError);
      this.net.listen(port, host, () => {
        this.net.off('error', onError);
        resolve(this.net.address() as AddressInfo);
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
      this.net.close(() => resolve());
      for (const s of this.http1Sockets) s.destroy();
      // With TLS the raw sockets go too: one still in its handshake has no connection, and would hold close() open.
      const cut = (): void => {
        for (const c of this.connections) c.destroy();
        for (const s of this.rawSockets) s.destroy();
      };
      if (graceMs <= 0) {
        cut();
        return;
      }
      for (const c of this.connections) c.goAway();
      setTimeout(cut, graceMs).unref();
    });
  }

  private onConnection(socket: Socket): void {
    if (this.connections.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    // A response's frames go out in one write per event-loop turn; Nagle's
    // algorithm would hold the next turn's behind the client's delayed ACK.
    socket.setNoDelay(true);
    const conn = new H2Connection(socket, this, this.h2Limits,
      (c) => this.connections.delete(c));
    this.connections.add(conn);
  }

  /** An HTTP/1.1 request on the gRPC port: served by the http1 listener, when there is one. */
  onHttp1(socket: Socket, head: Buffer): boolean {
    if (this.http1 === undefined) return false;
    this.http1Server ??= createHttpServer(this.http1);
    this.http1Sockets.add(socket);
    socket.once('close', () => this.http1Sockets.delete(socket));
    socket.unshift(head);
    this.http1Server.emit('connection', socket);
    return true;
  }

  onHeadersTooLarge(stream: H2Stream, size: number): void {
    respondTrailersOnly(stream, GrpcStatus.RESOURCE_EXHAUSTED,
      `request metadata of ${size} bytes exceeds the limit of ${DEFAULT_H2_LIMITS.maxHeaderListBytes}`);
  }

  onStream(stream: H2Stream): void {
    const headers = stream.headers;
    if (headers[':method'] !== 'POST') {
      stream.respond(METHOD_NOT_ALLOWED, true);
      return;
    }
    const contentType = headers['content-type'];
    if (contentType === undefined || !contentType.startsWith('application/grpc')) {
      // gRPC over HTTP/2: a non-gRPC request gets HTTP 415, so no plain HTTP
      // client mistakes the 200 of a gRPC error for success.
      stream.respond(UNSUPPORTED_MEDIA_TYPE, true);
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
    this.startCall(stream, entry);
  }

  private startCall(stream: H2Stream, entry: MethodEntry): void {
    const timeout = stream.headers['grpc-timeout'];
    let timeoutMs: number | undefined;
    if (timeout !== undefined) {
      timeoutMs = parseGrpcTimeoutMs(timeout);
      if (timeoutMs === undefined) {
        respondTrailersOnly(stream, GrpcStatus.INTERNAL, `malformed grpc-timeout: ${timeout}`);
        return;
      }
      if (timeoutMs > MAX_TIMER_MS) timeoutMs = undefined;
    }
    switch (entry.kind) {
      case 'unary':
        new UnaryCall(stream, entry, this.limits, timeoutMs).start();
        return;
      case 'server-stream':
        new ServerStreamingCall(stream, entry, this.limits, timeoutMs).start();
        return;
      case 'bidi':
        new BidiStreamCall(stream, entry, this.limits, timeoutMs).start();
        return;
    }
  }

  /** Content sub-type and encoding: only protobuf, only identity. */
  private checkHeaders(headers: Readonly<Record<string, string>>, contentType: string):
    [typeof GrpcStatus.INTERNAL | typeof GrpcStatus.UNIMPLEMENTED, string, Record<string, string>?] | undefined {
    if (contentType.length > 16 && contentType !== 'application/grpc+proto' && !contentType.startsWith('application/grpc;')) {
      return [GrpcStatus.INTERNAL, `content-type ${contentType} is not supported; synod speaks application/grpc+proto`];
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      return [GrpcStatus.UNIMPLEMENTED, `grpc-encoding ${encoding} is not supported; synod accepts identity only`,
        { 'grpc-accept-encoding': 'identity' }];
    }
    return undefined;
  }
}
