// A small etcd v3 client on @grpc/grpc-js, for synod's own client commands
// (`synod put/get/del/txn/member list/endpoint ...`) and for tests. Any etcd
// client works against synod; this one exists so the CLI needs no other tool.

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

let cached: Any;
function services(): Any {
  if (cached === undefined) {
    const def = protoLoader.loadSync('etcdserverpb/rpc.proto', {
      includeDirs: [PROTO_DIR],
      keepCase: true,
      longs: String,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
    });
    cached = (grpc.loadPackageDefinition(def) as Any).etcdserverpb;
  }
  return cached;
}

export interface ClientOptions {
  /** host:port or http://host:port, tried in order until one answers. */
  readonly endpoints: readonly string[];
  readonly dialTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
  /**
   * TLS (PEM): the CA that signs the servers' certificates (absent: the
   * system's), and a client certificate and key for servers that ask for one.
   * Given, or with any https:// endpoint, every endpoint is dialled over TLS.
   */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** A user to log in as (Auth.Authenticate, by `login()`); every call then carries its token. */
  readonly auth?: { readonly user: string; readonly password: string };
}

export class EtcdClientError extends Error {
  override readonly name = 'EtcdClientError';
  constructor(message: string, readonly code: number | undefined) {
    super(message);
  }
}

/** Retry on another endpoint only where the request cannot have taken effect. */
const RETRY_ELSEWHERE = new Set([grpc.status.UNAVAILABLE]);

export function normalizeEndpoint(e: string): string {
  const s = e.trim().replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (!/^[^:/\s]+:\d+$/.test(s)) throw new EtcdClientError(`endpoint '${e}' is not host:port`, undefined);
  return s;
}

export class EtcdClient {
  readonly endpoints: readonly string[];
  private readonly clients = new Map<string, Record<string, Any>>();
  private readonly commandTimeoutMs: number;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly auth: ClientOptions['auth'];
  private metadata: grpc.Metadata | undefined;

  constructor(opts: ClientOptions) {
    if (opts.endpoints.length === 0) throw new EtcdClientError('no endpoints given', undefined);
    this.endpoints = opts.endpoints.map(normalizeEndpoint);
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 5000;
    const tls = opts.tls ?? (opts.endpoints.some((e) => e.trim().startsWith('https://')) ? {} : undefined);
    if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
      throw new EtcdClientError('a client certificate needs its key, and a key its certificate', undefined);
    }
    this.auth = opts.auth;
    this.credentials = tls === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
  }

  private stub(endpoint: string, service: string): Any {
    let perEndpoint = this.clients.get(endpoint);
    if (perEndpoint === undefined) {
      perEndpoint = {};
      this.clients.set(endpoint, perEndpoint);
    }
    let s = perEndpoint[service];
    if (s === undefined) {
      const Ctor = services()[service];
      s = new Ctor(endpoint, this.credentials, { 'grpc.max_receive_message_length': 64 << 20 });
      perEndpoint[service] = s;
    }
    return s;
  }

  /**
   * Logs in with the `auth` option at the first endpoint that answers; every
   * call after it carries the token. Without `auth`, does nothing.
   */
  async login(): Promise<void> {
    if (this.auth === undefined) return;
    this.metadata = undefined;
    const res = await this.call('Auth', 'Authenticate', { name: this.auth.user, password: this.auth.password });
    const md = new grpc.Metadata();
    md.set('token', String(res.token));
    this.metadata = md;
  }

  /** One unary call at one endpoint. */
  callAt(endpoint: string, service: string, method: string, request: unknown): Promise<Any> {
    const stub = this.stub(endpoint, service);
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.commandTimeoutMs);
      stub[method](request, this.metadata ?? new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null, res: unknown) => {
        if (err) reject(new EtcdClientError(`${endpoint}: ${err.details || err.message}`, err.code));
        else resolve(res);
      });
    });
  }

  /** A unary call at the first endpoint that is available. */
  async call(service: string, method: string, request: unknown): Promise<Any> {
    let last: unknown;
    for (const e of this.endpoints) {
      try {
        return await this.callAt(e, service, method, request);
      } catch (err) {
        last = err;
        if (!(err instanceof EtcdClientError) || err.code === undefined || !RETRY_ELSEWHERE.has(err.code)) throw err;
      }
    }
    throw last;
  }

  /** A bidirectional stream (Watch, LeaseKeepAlive) at the first endpoint. */
  stream(service: string, method: string): grpc.ClientDuplexStream<unknown, Any> {
    return this.stub(this.endpoints[0] as string, service)[method](this.metadata ?? new grpc.Metadata());
  }

  /** A bidirectional stream at one endpoint (callers that fail over pick the next one themselves). */
  streamAt(endpoint: string, service: string, method: string): grpc.ClientDuplexStream<unknown, Any> {
    return this.stub(endpoint, service)[method](this.metadata ?? new grpc.Metadata());
  }

  /** A server stream (Maintenance.Snapshot) at one endpoint; no deadline: the caller cancels it. */
  serverStreamAt(endpoint: string, service: string, method: string, request: unknown): grpc.ClientReadableStream<Any> {
    return this.stub(endpoint, service)[method](request, this.metadata ?? new grpc.Metadata());
  }

  close(): void {
    for (const perEndpoint of this.clients.values()) for (const s of Object.values(perEndpoint)) s.close();
    this.clients.clear();
  }
}

/** A prefix as an etcd range: the empty prefix is every key ("\0" to "\0"), as etcd's clients send it. */
export function prefixRange(prefix: Buffer): { key: Buffer; end: Buffer } {
  return prefix.length === 0 ? { key: Buffer.from([0]), end: Buffer.from([0]) } : { key: prefix, end: prefixEnd(prefix) };
}

/** etcd's "prefix" range end: the key with its last byte incremented. */
export function prefixEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
