// The wire layer against @grpc/grpc-js clients built from synod's own .proto
// files, with the Map-backed fake behind it: unary calls, errors, deadlines,
// metadata, cancellation, the Watch bidi stream and a server stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { FakeKv } from './fake-kv.js';
import { client, grpcError, startServer, unary, type DynClient, type Running } from './helpers.js';
import {
  GrpcError, GrpcStatus, type BidiCall, type CallContext, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse,
  type ServerStreamCall, type SnapshotResponse,
} from '../../../src/server/grpc/index.js';

const b = (s: string): Buffer => Buffer.from(s);
type Kv = { key: Buffer; value: Buffer; version: string; mod_revision: string };

describe('etcd KV over @grpc/grpc-js', () => {
  const fake = new FakeKv();
  let run: Running;
  let kv: DynClient;

  before(async () => {
    run = await startServer(fake);
    kv = client('KV', run.address);
  });
  after(async () => {
    kv.close();
    await run.server.close();
  });

  test('put, get, get by prefix, delete', async () => {
    const put = await unary<{ header: { revision: string; cluster_id: string } }>(kv, 'Put', { key: b('a/1'), value: b('one') });
    assert.equal(put.header.cluster_id, BigInt('0xcafef00dcafef00d').toString());
    await unary(kv, 'Put', { key: b('a/2'), value: b('two') });
    await unary(kv, 'Put', { key: b('b/1'), value: b('other') });
    const one = await unary<{ kvs: Kv[]; count: string }>(kv, 'Range', { key: b('a/1') });
    assert.equal(one.kvs.length, 1);
    assert.equal(one.kvs[0]?.value.toString(), 'one');
    const prefix = await unary<{ kvs: Kv[] }>(kv, 'Range', { key: b('a/'), range_end: b('a0') });
    assert.deepEqual(prefix.kvs.map((x) => x.key.toString()), ['a/1', 'a/2']);
    const del = await unary<{ deleted: string }>(kv, 'DeleteRange', { key: b('a/'), range_end: b('a0') });
    assert.equal(del.deleted, '2');
    const none = await unary<{ kvs: Kv[] }>(kv, 'Range', { key: b('a/'), range_end: b('a0') });
    assert.equal(none.kvs.length, 0);
  });

  test('txn: compare on value chooses success or failure, ops nested in oneofs', async () => {
    await unary(kv, 'Put', { key: b('t'), value: b('v1') });
    const ok = await unary<{ succeeded: boolean; responses: { response: string }[] }>(kv, 'Txn', {
      compare: [{ key: b('t'), target: 3, result: 0, value: b('v1') }],
      success: [{ request_put: { key: b('t'), value: b('v2') } }, { request_range: { key: b('t') } }],
      failure: [{ request_delete_range: { key: b('t') } }],
    });
    assert.equal(ok.succeeded, true);
    assert.deepEqual(ok.responses.map((r) => r.response), ['response_put', 'response_range']);
    const no = await unary<{ succeeded: boolean }>(kv, 'Txn', {
      compare: [{ key: b('t'), target: 3, result: 0, value: b('v1') }],
      success: [], failure: [{ request_range: { key: b('t') } }],
    });
    assert.equal(no.succeeded, false);
  });

  test('300 concurrent calls multiplexed on one connection all complete, in any order', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `c/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => unary(kv, 'Put', { key: b(k), value: b(k) })));
    const all = await unary<{ kvs: Kv[]; count: string }>(kv, 'Range', { key: b('c/'), range_end: b('c0') });
    assert.equal(all.count, '300');
    assert.deepEqual(all.kvs.map((x) => x.value.toString()), keys);
  });

  test('64-bit header fields above 2^53 survive the trip exactly', async () => {
    const res = await unary<{ header: { member_id: string } }>(kv, 'Range', { key: b('x') });
    assert.equal(res.header.member_id, BigInt('0x8e9e05c52164694d').toString());
  });
});

describe('Cluster and Maintenance over @grpc/grpc-js', () => {
  test('status and member list reach their handlers', async () => {
    const run = await startServer(new FakeKv());
    const m = client('Maintenance', run.address);
    const c = client('Cluster', run.address);
    try {
      const st = await unary<{ version: string; leader: string }>(m, 'Status', {});
      assert.equal(st.version, '3.5.0-synod-fake');
      assert.equal(st.leader, BigInt('0x8e9e05c52164694d').toString());
      const ml = await unary<{ members: { name: string; peerURLs: string[] }[] }>(c, 'MemberList', {});
      assert.equal(ml.members[0]?.name, 'fake-1');
      assert.deepEqual(ml.members[0]?.peerURLs, ['http://127.0.0.1:12380']);
    } finally {
      m.close();
      c.close();
      await run.server.close();
    }
  });
});

describe('errors over @grpc/grpc-js', () => {
  const fake = new FakeKv();
  let run: Running;
  let kv: DynClient;
  let lastCtx: CallContext | undefined;

  before(async () => {
    fake.slowMs = 5000;
    const handlers = Object.assign(fake, {
      hash: (): never => {
        throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'kaputt: 100% sûr', { 'x-leader': 'm2', 'x-bad': 'ü' });
      },
      hashKV: (): never => { throw new Error('plain failure'); },
      defragment: (_r: object, ctx: CallContext) => { lastCtx = ctx; return {}; },
    });
    run = await startServer(handlers, { maxReceiveMessageBytes: 64 * 1024, maxRequestBytes: 32 * 1024 });
    kv = client('KV', run.address);
  });
  after(async () => {
    kv.close();
    await run.server.close();
  });

  test('an RPC with no handler answers UNIMPLEMENTED naming it', async () => {
    const lease = client('Lease', run.address);
    const err = await grpcError(unary(lease, 'LeaseGrant', { TTL: 5 }));
    lease.close();
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.equal(err.details, 'synod does not offer Lease.LeaseGrant yet');
  });

  test('an unknown method answers UNIMPLEMENTED', async () => {
    const raw = new grpc.Client(run.address, grpc.credentials.createInsecure());
    const err = await grpcError(new Promise((resolve, reject) => raw.makeUnaryRequest('/etcdserverpb.KV/Nope',
      (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(r)))));
    raw.close();
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.equal(err.details, 'unknown method Nope for service etcdserverpb.KV');
  });

  test('a message over the gRPC limit is RESOURCE_EXHAUSTED; over the request limit, INVALID_ARGUMENT', async () => {
    const big = await grpcError(unary(kv, 'Put', { key: b('k'), value: Buffer.alloc(100 * 1024) }));
    assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(big.details, /larger than max \(\d+ vs\. 65536\)/);
    const large = await grpcError(unary(kv, 'Put', { key: b('k'), value: Buffer.alloc(40 * 1024) }));
    assert.equal(large.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(large.details, 'etcdserver: request is too large');
    // The connection still serves the next call.
    await unary(kv, 'Put', { key: b('k'), value: b('small') });
  });

  test('bytes that are not a PutRequest are INVALID_ARGUMENT', async () => {
    const raw = new grpc.Client(run.address, grpc.credentials.createInsecure());
    const err = await grpcError(new Promise((resolve, reject) => raw.makeUnaryRequest('/etcdserverpb.KV/Put',
      (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x0a, 0x7f, 0x01]), (e, r) => (e ? reject(e) : resolve(r)))));
    raw.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /cannot decode PutRequest/);
  });

  test('a deadline that passes ends the call DEADLINE_EXCEEDED and aborts the handler', async () => {
    const t0 = Date.now();
    const err = await grpcError(unary(kv, 'Compact', { revision: 1 }, { deadline: Date.now() + 150 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 3000, 'answered long before the handler would have');
    while (fake.compactAborted === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.equal(fake.compactAborted, true);
  });

  test('a 64-bit request field beyond 2^53 reaches the handler exactly; int64ToNumber answers OUT_OF_RANGE', async () => {
    const err = await grpcError(unary(kv, 'Put', { key: b('k'), value: b('v'), lease: '1152921504606846977' }));
    assert.equal(err.code, grpc.status.OUT_OF_RANGE);
    assert.match(err.details, /lease 1152921504606846977 is beyond 2\^53/);
  });

  test('a GrpcError keeps its code, and its message survives percent-encoding', async () => {
    const m = client('Maintenance', run.address);
    const err = await grpcError(unary(m, 'Hash', {}));
    const plain = await grpcError(unary(m, 'HashKV', {}));
    m.close();
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err.details, 'kaputt: 100% sûr');
    assert.deepEqual(err.metadata.get('x-leader'), ['m2']);
    assert.deepEqual(err.metadata.get('x-bad'), []);
    assert.equal(plain.code, grpc.status.UNKNOWN);
    assert.equal(plain.details, 'plain failure');
  });

  test('request metadata and the deadline reach the handler', async () => {
    const m = client('Maintenance', run.address);
    const md = new grpc.Metadata();
    md.set('token', 'secret-token');
    await unary(m, 'Defragment', {}, { deadline: Date.now() + 10_000 }, md);
    m.close();
    assert.equal(lastCtx?.metadata['token'], 'secret-token');
    assert.equal(lastCtx?.method, '/etcdserverpb.Maintenance/Defragment');
    assert.ok(Number.isFinite(lastCtx?.deadline));
    assert.equal(lastCtx?.cancelled, false);
  });

  test('a call the client cancels is seen as cancelled by the handler', async () => {
    let seen: CallContext | undefined;
    const run2 = await startServer({
      compact: (_r, ctx) => {
        seen = ctx;
        return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({})));
      },
    });
    const c = client('KV', run2.address);
    const call = c['Compact']?.call(c, { revision: 1 }, () => undefined) as grpc.ClientUnaryCall;
    while (seen === undefined) await new Promise((r) => setTimeout(r, 5));
    call.cancel();
    while (!seen.cancelled) await new Promise((r) => setTimeout(r, 5));
    assert.equal(seen.signal.aborted, true);
    c.close();
    await run2.server.close();
  });
});

describe('streams over @grpc/grpc-js', () => {
  test('Watch: created, an event for a put in range, none outside, canceled, then end', async () => {
    const fake = new FakeKv();
    const run = await startServer(fake);
    const w = client('Watch', run.address);
    const kv = client('KV', run.address);
    const stream = w['Watch']?.call(w) as grpc.ClientDuplexStream<object, Record<string, unknown>>;
    const got: Record<string, unknown>[] = [];
    let waiter: (() => void) | undefined;
    stream.on('data', (d: Record<string, unknown>) => {
      got.push(d);
      waiter?.();
    });
    const next = async (): Promise<Record<string, unknown>> => {
      while (got.length === 0) await new Promise<void>((resolve) => { waiter = resolve; });
      return got.shift() as Record<string, unknown>;
    };
    stream.write({ create_request: { key: b('w/'), range_end: b('w0') } });
    const created = await next();
    assert.equal(created['created'], true);
    const id = created['watch_id'];
    await unary(kv, 'Put', { key: b('zz'), value: b('outside') });
    await unary(kv, 'Put', { key: b('w/1'), value: b('inside') });
    const ev = await next() as { watch_id: string; events: { type: number; kv: Kv }[] };
    assert.equal(ev.watch_id, id);
    assert.equal(ev.events.length, 1);
    assert.equal(ev.events[0]?.kv.key.toString(), 'w/1');
    assert.equal(ev.events[0]?.kv.value.toString(), 'inside');
    stream.write({ cancel_request: { watch_id: id } });
    const canceled = await next();
    assert.equal(canceled['canceled'], true);
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.end();
    assert.equal((await status).code, grpc.status.OK);
    w.close();
    kv.close();
    await run.server.close();
  });

  test('LeaseKeepAlive: a handler that reads late loses nothing (queue bounded, stream paused, order kept)', async () => {
    const run = await startServer({
      leaseKeepAlive: async (call: BidiCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>) => {
        await new Promise((r) => setTimeout(r, 200));
        for await (const req of call.requests) {
          call.write({ ID: req.ID, TTL: 10 });
        }
      },
    }, { maxQueuedRequests: 8 });
    const l = client('Lease', run.address);
    const stream = l['LeaseKeepAlive']?.call(l) as grpc.ClientDuplexStream<object, { ID: string }>;
    const ids: string[] = [];
    stream.on('data', (d: { ID: string }) => ids.push(d.ID));
    for (let i = 1; i <= 500; i++) stream.write({ ID: i });
    stream.end();
    const status = await new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(ids, Array.from({ length: 500 }, (_, i) => String(i + 1)));
    l.close();
    await run.server.close();
  });

  test('LeaseKeepAlive with no handler: the stream ends UNIMPLEMENTED', async () => {
    const run = await startServer({});
    const l = client('Lease', run.address);
    const stream = l['LeaseKeepAlive']?.call(l) as grpc.ClientDuplexStream<object, object>;
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    l.close();
    await run.server.close();
  });

  test('Snapshot: a server stream of chunks, then OK', async () => {
    const run = await startServer({
      snapshot: async (_req, call: ServerStreamCall<SnapshotResponse>) => {
        for (let i = 3; i >= 1; i--) {
          if (!call.write({ remaining_bytes: (i - 1) * 4, blob: Buffer.from(`blk${i}`) })) await call.drained();
        }
      },
    });
    const m = client('Maintenance', run.address);
    const stream = m['Snapshot']?.call(m, {}) as grpc.ClientReadableStream<{ blob: Buffer; remaining_bytes: string }>;
    const blobs: string[] = [];
    stream.on('data', (d: { blob: Buffer }) => blobs.push(d.blob.toString()));
    const status = await new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(blobs, ['blk3', 'blk2', 'blk1']);
    m.close();
    await run.server.close();
  });
});

describe('shutdown', () => {
  test('close(graceMs) lets a call in flight finish, then refuses new connections', async () => {
    const fake = new FakeKv();
    fake.slowMs = 300;
    const run = await startServer(fake);
    const kv = client('KV', run.address);
    await unary(kv, 'Put', { key: b('k'), value: b('v') });
    const inFlight = unary(kv, 'Compact', { revision: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const closed = run.server.close(5000);
    await inFlight;
    await closed;
    assert.equal(fake.compactAborted, false);
    kv.close();
    const late = client('KV', run.address);
    const err = await grpcError(unary(late, 'Range', { key: b('k') }, { deadline: Date.now() + 1000 }));
    late.close();
    assert.ok(err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED, String(err.code));
  });
});
