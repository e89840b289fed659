// Shared helpers for the gRPC wire-layer tests: a server on an ephemeral
// port, @grpc/grpc-js clients built from synod's own .proto files, and a raw
// HTTP/2 caller for what well-behaved clients never send.
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { EtcdGrpcServer, protoDir, type EtcdGrpcServerOptions, type EtcdHandlers } from '../../../src/server/grpc/index.js';

export interface Running {
  readonly server: EtcdGrpcServer;
  readonly port: number;
  readonly address: string;
}

export async function startServer(handlers: EtcdHandlers, options: EtcdGrpcServerOptions = {}): Promise<Running> {
  const server = new EtcdGrpcServer(handlers, options);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, address: `127.0.0.1:${port}` };
}

let pkg: grpc.GrpcObject | undefined;

/** The etcdserverpb package as @grpc/grpc-js sees it (proto-loader on proto/). */
export function etcdPackage(): grpc.GrpcObject {
  pkg ??= grpc.loadPackageDefinition(protoLoader.loadSync('etcdserverpb/rpc.proto',
    { includeDirs: [protoDir()], keepCase: true, longs: String, enums: Number, defaults: true, oneofs: true }));
  return pkg;
}

// grpc-js clients are dynamic: methods are looked up by name.
export type DynClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export function client(service: string, address: string): DynClient {
  const Ctor = (etcdPackage()['etcdserverpb'] as grpc.GrpcObject)[service] as grpc.ServiceClientConstructor;
  return new Ctor(address, grpc.credentials.createInsecure()) as unknown as DynClient;
}

export function unary<T = Record<string, unknown>>(c: DynClient, method: string, request: object,
  options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = c[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(c, request, metadata, options, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** Rejection of a promise as a gRPC ServiceError (fails if it resolves). */
export async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

export interface RawResult {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One HTTP/2 request, exactly as given, with what came back. */
export function rawCall(address: string, headers: OutgoingHttpHeaders, chunks: readonly Buffer[]): Promise<RawResult> {
  const session: ClientHttp2Session = connect(`http://${address}`);
  return new Promise((resolve, reject) => {
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let resHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const body: Buffer[] = [];
    req.on('response', (h) => { resHeaders = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (d: Buffer) => body.push(d));
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ headers: resHeaders, trailers, body: Buffer.concat(body) });
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** grpc-status of a raw result: from the trailers, or from the headers of a trailers-only answer. */
export function rawStatus(r: RawResult): number {
  return Number(r.trailers['grpc-status'] ?? r.headers['grpc-status']);
}

export function frame(body: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out[0] = flag;
  out.writeUInt32BE(body.length, 1);
  out.set(body, 5);
  return out;
}
