// What only a raw HTTP/2 client can send: wrong methods and content types,
// compression, malformed grpc-timeout, messages split byte by byte, too many
// or too few messages, and a client that stops reading a stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { frame, rawCall, rawStatus, startServer, type Running } from './helpers.js';
import { FakeKv } from './fake-kv.js';
import { GrpcStatus, loadEtcdRoot, type ServerStreamCall, type SnapshotResponse } from '../../../src/server/grpc/index.js';

const root = loadEtcdRoot();
const PutRequest = root.lookupType('etcdserverpb.PutRequest');
const WatchRequest = root.lookupType('etcdserverpb.WatchRequest');
const WatchResponse = root.lookupType('etcdserverpb.WatchResponse');
const put = (key: string, value: string): Buffer => frame(PutRequest.encode({ key: Buffer.from(key), value: Buffer.from(value) }).finish());
const PUT = { ':path': '/etcdserverpb.KV/Put' };

describe('gRPC over HTTP/2: requests the server refuses', () => {
  let run: Running;
  before(async () => { run = await startServer(new FakeKv()); });
  after(() => run.server.close());

  test('a GET is HTTP 405', async () => {
    const r = await rawCall(run.address, { ...PUT, ':method': 'GET' }, []);
    assert.equal(r.headers[':status'], 405);
  });

  test('a content-type other than application/grpc is HTTP 415', async () => {
    const r = await rawCall(run.address, { ...PUT, 'content-type': 'application/json' }, [put('k', 'v')]);
    assert.equal(r.headers[':status'], 415);
  });

  test('application/grpc+json is INTERNAL: only protobuf is spoken', async () => {
    const r = await rawCall(run.address, { ...PUT, 'content-type': 'application/grpc+json' }, [put('k', 'v')]);
    assert.equal(rawStatus(r), GrpcStatus.INTERNAL);
  });

  test('grpc-encoding gzip is UNIMPLEMENTED and names identity as accepted', async () => {
    const r = await rawCall(run.address, { ...PUT, 'grpc-encoding': 'gzip' }, [put('k', 'v')]);
    assert.equal(rawStatus(r), GrpcStatus.UNIMPLEMENTED);
    assert.equal(r.headers['grpc-accept-encoding'], 'identity');
  });

  test('a compressed flag under identity encoding is INTERNAL', async () => {
    const body = PutRequest.encode({ key: Buffer.from('k') }).finish();
    const r = await rawCall(run.address, PUT, [frame(body, 1)]);
    assert.equal(rawStatus(r), GrpcStatus.INTERNAL);
    assert.match(String(r.headers['grpc-message']), /compressed flag/);
  });

  test('a malformed grpc-timeout is INTERNAL', async () => {
    const r = await rawCall(run.address, { ...PUT, 'grpc-timeout': '10x' }, [put('k', 'v')]);
    assert.equal(rawStatus(r), GrpcStatus.INTERNAL);
    assert.match(String(r.headers['grpc-message']), /malformed grpc-timeout/);
  });

  test('a unary call with no message, a cut-short one, or two messages is INTERNAL', async () => {
    for (const chunks of [[], [put('k', 'v').subarray(0, 8)], [put('a', '1'), put('b', '2')]]) {
      const r = await rawCall(run.address, PUT, chunks);
      assert.equal(rawStatus(r), GrpcStatus.INTERNAL, String(r.headers['grpc-message']));
    }
  });

  test('an unknown service is UNIMPLEMENTED, with a trailers-only answer', async () => {
    const r = await rawCall(run.address, { ':path': '/nope.Svc/Do' }, [frame(Buffer.alloc(0))]);
    assert.equal(r.headers['grpc-status'], String(GrpcStatus.UNIMPLEMENTED));
    assert.equal(r.headers['grpc-message'], 'unknown service nope.Svc');
    assert.equal(r.body.length, 0);
  });
});

describe('gRPC over HTTP/2: answers', () => {
  test('a unary answer is HEADERS, one framed message, then grpc-status 0 in trailers', async () => {
    const run = await startServer(new FakeKv());
    const wire = put('key', 'value');
    const r = await rawCall(run.address, PUT, [...wire].map((byte) => Buffer.from([byte])));
    await run.server.close();
    assert.equal(r.headers[':status'], 200);
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.equal(r.trailers['grpc-status'], '0');
    assert.equal(r.body[0], 0);
    assert.equal(r.body.readUInt32BE(1), r.body.length - 5);
  });

  test('Watch requests split byte by byte and packed two per chunk are all read', async () => {
    const run = await startServer(new FakeKv());
    const create = (key: string): Buffer => frame(WatchRequest.encode({ create_request: { key: Buffer.from(key) } }).finish());
    const bytes = Buffer.concat([create('a'), create('b'), create('c')]);
    const chunks = [...bytes.subarray(0, 12)].map((x) => Buffer.from([x])).concat([bytes.subarray(12)]);
    const session = connect(`http://${run.address}`);
    const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc' });
    const data: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      data.push(d);
      if (Buffer.concat(data).length >= 3 * 5 + 3 * 2) req.end();
    });
    let trailers: Record<string, unknown> = {};
    req.on('trailers', (t) => { trailers = t; });
    for (const c of chunks) req.write(c);
    await new Promise((resolve) => req.on('close', resolve));
    session.close();
    await run.server.close();
    const all = Buffer.concat(data);
    const ids: number[] = [];
    for (let at = 0; at < all.length;) {
      const len = all.readUInt32BE(at + 1);
      const msg = WatchResponse.toObject(WatchResponse.decode(all.subarray(at + 5, at + 5 + len)), { longs: Number });
      assert.equal(msg['created'], true);
      ids.push(msg['watch_id'] as number);
      at += 5 + len;
    }
    assert.deepEqual(ids, [1, 2, 3]);
    assert.equal(trailers['grpc-status'], '0');
  });

  test('a client that stops reading a stream is cut off RESOURCE_EXHAUSTED at maxPendingWriteBytes', async () => {
    let refused = false;
    const run = await startServer({
      snapshot: async (_r, call: ServerStreamCall<SnapshotResponse>) => {
        for (let i = 0; i < 64 && !call.cancelled; i++) {
          if (!call.write({ blob: Buffer.alloc(64 * 1024, i) }) && call.cancelled) refused = true;
        }
      },
    }, { maxPendingWriteBytes: 512 * 1024 });
    const session = connect(`http://${run.address}`);
    const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Maintenance/Snapshot', 'content-type': 'application/grpc' });
    req.pause();
    req.end(frame(Buffer.alloc(0)));
    await new Promise((r) => setTimeout(r, 300));
    let trailers: Record<string, unknown> = {};
    req.on('trailers', (t) => { trailers = t; });
    req.resume();
    await new Promise((resolve) => req.on('close', resolve));
    session.close();
    await run.server.close();
    assert.equal(refused, true);
    assert.equal(trailers['grpc-status'], String(GrpcStatus.RESOURCE_EXHAUSTED));
    assert.match(String(trailers['grpc-message']), /client too slow/);
  });
});
