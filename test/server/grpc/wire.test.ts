// Pieces of the gRPC wire layer on their own: message framing, grpc-timeout,
// grpc-message encoding, 64-bit conversions and the method table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, frameMessage, type FrameSink } from '../../../src/server/grpc/framing.js';
import { parseGrpcTimeoutMs } from '../../../src/server/grpc/deadline.js';
import { decodeGrpcMessage, encodeGrpcMessage, safeTrailers } from '../../../src/server/grpc/status.js';
import { buildMethodTable, unknownMethodMessage } from '../../../src/server/grpc/method-table.js';
import {
  ETCD_METHODS, GrpcError, GrpcStatus, int64ToBigInt, int64ToNumber, loadEtcdRoot, longFromBigInt, longToBigInt,
} from '../../../src/server/grpc/index.js';

class Collect implements FrameSink {
  readonly got: string[] = [];
  onFrame(body: Buffer): void {
    this.got.push(body.toString());
  }
}

describe('gRPC framing (Length-Prefixed-Message)', () => {
  test('frameMessage writes flag 0 and a big-endian length', () => {
    const f = frameMessage(Buffer.from('abc'));
    assert.deepEqual([...f], [0, 0, 0, 0, 3, 97, 98, 99]);
  });

  test('messages split across chunks and several per chunk come out whole, in order', () => {
    const wire = Buffer.concat(['one', '', 'three', 'x'.repeat(70000)].map((s) => frameMessage(Buffer.from(s))));
    for (const step of [1, 2, 5, 7, 4096, wire.length]) {
      const d = new FrameDecoder(1 << 20);
      const c = new Collect();
      for (let i = 0; i < wire.length; i += step) assert.equal(d.push(wire.subarray(i, i + step), c), undefined);
      assert.deepEqual(c.got, ['one', '', 'three', 'x'.repeat(70000)], `chunk size ${step}`);
      assert.equal(d.bufferedBytes, 0);
    }
  });

  test('a compressed flag is a problem, seen as soon as the header is in', () => {
    const d = new FrameDecoder(100);
    const bytes = Buffer.from([1, 0, 0, 0, 1, 9]);
    assert.equal(d.push(bytes.subarray(0, 3), new Collect()), undefined);
    assert.deepEqual(d.push(bytes.subarray(3), new Collect()), { type: 'compressed' });
  });

  test('a length over the limit is refused before the body arrives', () => {
    const d = new FrameDecoder(10);
    const header = Buffer.from([0, 0, 0, 0, 11]);
    assert.deepEqual(d.push(header, new Collect()), { type: 'too-large', length: 11, limit: 10 });
  });
});

describe('grpc-timeout', () => {
  test('units H M S m u n', () => {
    assert.equal(parseGrpcTimeoutMs('2H'), 7_200_000);
    assert.equal(parseGrpcTimeoutMs('3M'), 180_000);
    assert.equal(parseGrpcTimeoutMs('5S'), 5000);
    assert.equal(parseGrpcTimeoutMs('250m'), 250);
    assert.equal(parseGrpcTimeoutMs('1500u'), 1.5);
    assert.equal(parseGrpcTimeoutMs('99999999n'), 99.999999);
  });
  test('malformed values are undefined', () => {
    for (const bad of ['', 'S', '10', '10s', '-1S', '123456789S', '1.5S', ' 1S']) {
      assert.equal(parseGrpcTimeoutMs(bad), undefined, bad);
    }
  });
});

describe('grpc-message percent-encoding', () => {
  test('printable ASCII passes through unchanged', () => {
    assert.equal(encodeGrpcMessage('etcdserver: key not found'), 'etcdserver: key not found');
  });
  test("'%', control bytes and non-ASCII are escaped as UTF-8 bytes, and decode back", () => {
    const msg = '100% sûr\nnext 🔑';
    const enc = encodeGrpcMessage(msg);
    assert.equal(enc, '100%25 s%C3%BBr%0Anext %F0%9F%94%91');
    assert.equal(decodeGrpcMessage(enc), msg);
  });
});

describe('custom trailers', () => {
  test('only lower-case, unreserved names with printable-ASCII values go on the wire', () => {
    assert.deepEqual(safeTrailers({ 'x-leader': '3', 'grpc-status': '0', ':path': '/', 'Upper': 'a', 'x-bad': 'ü\n', 'x.ok_1': 'v' }),
      { 'x-leader': '3', 'x.ok_1': 'v' });
    assert.equal(safeTrailers(undefined), undefined);
  });
});

describe('64-bit fields', () => {
  test('Long <-> bigint is exact over the whole range, signed and unsigned', () => {
    for (const v of [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n]) {
      assert.equal(longToBigInt(longFromBigInt(v)), v);
    }
    assert.equal(longToBigInt(longFromBigInt(2n ** 64n - 1n, true)), 2n ** 64n - 1n);
    assert.equal(int64ToBigInt(longFromBigInt(7587862345223385620n)), 7587862345223385620n);
  });
  test('int64ToNumber refuses values beyond 2^53 with OUT_OF_RANGE naming the field', () => {
    assert.equal(int64ToNumber(longFromBigInt(-42n), 'revision'), -42);
    assert.equal(int64ToNumber(longFromBigInt(2n ** 53n - 1n), 'revision'), 2 ** 53 - 1);
    assert.throws(() => int64ToNumber(longFromBigInt(2n ** 53n + 1n), 'lease'),
      (e: unknown) => e instanceof GrpcError && e.code === GrpcStatus.OUT_OF_RANGE && e.message.includes('lease 9007199254740993'));
  });
});

describe('method table', () => {
  test('every RPC of the .proto files (etcd, lock, election, health) has a handler name, with the right call kind', () => {
    const root = loadEtcdRoot();
    let protoMethods = 0;
    for (const s of ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth']) {
      protoMethods += root.lookupService(`etcdserverpb.${s}`).methodsArray.length;
    }
    for (const s of ['grpc.health.v1.Health', 'v3lockpb.Lock', 'v3electionpb.Election']) protoMethods += root.lookupService(s).methodsArray.length;
    assert.equal(Object.keys(ETCD_METHODS).length, protoMethods);
    const table = buildMethodTable(root, {});
    assert.equal(table.size, protoMethods);
    assert.equal(table.get('/etcdserverpb.Watch/Watch')?.kind, 'bidi');
    assert.equal(table.get('/etcdserverpb.Maintenance/Snapshot')?.kind, 'server-stream');
    assert.equal(table.get('/etcdserverpb.KV/Put')?.requestType.name, 'PutRequest');
    assert.equal(table.get('/grpc.health.v1.Health/Watch')?.kind, 'server-stream');
    assert.equal(table.get('/v3electionpb.Election/Observe')?.kind, 'server-stream');
    assert.equal(table.get('/v3lockpb.Lock/Lock')?.requestType.name, 'LockRequest');
  });
  test('unknown paths are named the way gRPC names them', () => {
    const table = buildMethodTable(loadEtcdRoot(), {});
    assert.equal(unknownMethodMessage('/etcdserverpb.KV/Nope', table), 'unknown method Nope for service etcdserverpb.KV');
    assert.equal(unknownMethodMessage('/foo.Bar/Baz', table), 'unknown service foo.Bar');
  });
  test('a handler that is not a function is refused at start-up', () => {
    assert.throws(() => buildMethodTable(loadEtcdRoot(), { put: 42 } as never), /handler put must be a function/);
  });
});
