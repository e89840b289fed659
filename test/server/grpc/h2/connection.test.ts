// The HTTP/2 layer under synod's gRPC server, driven with raw frames for what
// well-behaved clients never send, and with node:http2's client (nghttp2)
// for flow control and framing limits a real peer sets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect, constants } from 'node:http2';
import { frame as grpcFrame, rawCall, rawStatus, startServer, type Running } from '../helpers.js';
import { FakeKv } from '../fake-kv.js';
import { GrpcStatus, loadEtcdRoot, type ServerStreamCall, type SnapshotResponse } from '../../../../src/server/grpc/index.js';
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType, frame, settingsFrame, windowUpdateFrame } from '../../../../src/server/grpc/h2/frames.js';
import { HpackDecoder, encodeHeaders } from '../../../../src/server/grpc/h2/hpack.js';

const root = loadEtcdRoot();
const PutRequest = root.lookupType('etcdserverpb.PutRequest');
const putBody = (key: string): Buffer => grpcFrame(PutRequest.encode({ key: Buffer.from(key), value: Buffer.from('v') }).finish());
const PUT_HEADERS: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', '/etcdserverpb.KV/Put'],
  [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers']];

interface Frame { type: number; flags: number; stream: number; payload: Buffer }

/** A raw HTTP/2 client: writes bytes as given, reads frames as they come. */
class RawClient {
  readonly frames: Frame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly decoder = new HpackDecoder(4096);

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({ type: this.buf[3] as number, flags: this.buf[4] as number, stream: this.buf.readUInt32BE(5) & 0x7fffffff,
          payload: this.buf.subarray(9, 9 + len) });
        this.buf = this.buf.subarray(9 + len);
      }
      this.wake();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => {});
  }

  static async open(port: number, preface = true): Promise<RawClient> {
    const socket = connectTcp(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const c = new RawClient(socket);
    if (preface) c.send(CLIENT_PREFACE, settingsFrame([]));
    return c;
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  /** Waits for a frame matching `pred` (or the close, if `orClose`). */
  async until(pred: (f: Frame) => boolean, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f !== undefined) return f;
      if (this.closed) throw new Error(`connection closed; frames: ${this.frames.map((x) => x.type).join(',')}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async closedWithin(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(this.closed, true, 'the server should close the connection');
  }

  goAway(): Frame | undefined {
    return this.frames.find((f) => f.type === FrameType.GOAWAY);
  }

  headers(stream: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.frames.filter((x) => x.type === FrameType.HEADERS && x.stream === stream)) {
      const fields = this.decoder.decode(f.payload, 1 << 20);
      for (let i = 0; i < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const headersFrame = (stream: number, fields: [string, string][], flags: number = Flag.END_HEADERS): Buffer =>
  frame(FrameType.HEADERS, flags, stream, encodeHeaders(fields));

describe('HTTP/2 layer: connection errors end one connection, never the server', () => {
  let run: Running;
  before(async () => { run = await startServer(new FakeKv()); });
  after(() => run.server.close());

  async function stillServes(): Promise<void> {
    const r = await rawCall(run.address, { ':path': '/etcdserverpb.KV/Put' }, [putBody('alive')]);
    assert.equal(rawStatus(r), GrpcStatus.OK);
  }

  test('an HTTP/1.1 request is answered 505 with what the port speaks, and closed', async () => {
    const c = await RawClient.open(run.port, false);
    const text: Buffer[] = [];
    c.socket.removeAllListeners('data');
    c.socket.on('data', (d: Buffer) => text.push(d));
    c.send(Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    await c.closedWithin();
    const answer = Buffer.concat(text).toString();
    assert.match(answer, /^HTTP\/1\.1 505 /);
    assert.match(answer, /gRPC over HTTP\/2/);
    assert.match(answer, /--listen-metrics-urls/);
    await stillServes();
  });

  test('with an HTTP/1.1 listener, a request (its line split over two packets) is served by it, and gRPC goes on', async () => {
    const http1 = await startServer(new FakeKv(), { http1: (req, res) => res.end(`plain ${req.method ?? ''} ${req.url ?? ''}\n`) });
    const c = await RawClient.open(http1.port, false);
    const text: Buffer[] = [];
    c.socket.removeAllListeners('data');
    c.socket.on('data', (d: Buffer) => text.push(d));
    c.send(Buffer.from('GET /hea'));
    await new Promise((r) => setTimeout(r, 50));
    c.send(Buffer.from('lth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    await c.closedWithin();
    const answer = Buffer.concat(text).toString();
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /plain GET \/health/);
    const r = await rawCall(http1.address, { ':path': '/etcdserverpb.KV/Put' }, [putBody('after-http1')]);
    assert.equal(rawStatus(r), GrpcStatus.OK);
    await http1.server.close();
  });

  test('bytes that are not the preface get GOAWAY PROTOCOL_ERROR', async () => {
    const c = await RawClient.open(run.port, false);
    c.send(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello, say'));
    await c.closedWithin();
    assert.equal(c.goAway()?.payload.readUInt32BE(4), ErrorCode.PROTOCOL_ERROR);
    await stillServes();
  });

  test('a first frame other than SETTINGS, a frame over 16 KiB, and a bad header block each get their GOAWAY code', async () => {
    const cases: [Buffer, number, RegExp][] = [
      [Buffer.concat([CLIENT_PREFACE, frame(FrameType.PING, 0, 0, Buffer.alloc(8))]), ErrorCode.PROTOCOL_ERROR, /must be SETTINGS/],
      [Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.DATA, 0, 1, Buffer.alloc(20_000))]),
        ErrorCode.FRAME_SIZE_ERROR, /exceeds SETTINGS_MAX_FRAME_SIZE/],
      [Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]))]),
        ErrorCode.COMPRESSION_ERROR, /index 0/i],
      [Buffer.concat([CLIENT_PREFACE, settingsFrame([]), headersFrame(2, PUT_HEADERS)]), ErrorCode.PROTOCOL_ERROR, /odd-numbered/],
      [Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(4))]),
        ErrorCode.PROTOCOL_ERROR, /WINDOW_UPDATE of 0/],
      [Buffer.concat([CLIENT_PREFACE, settingsFrame([]), headersFrame(1, PUT_HEADERS, 0), frame(FrameType.PING, 0, 0, Buffer.alloc(8))]),
        ErrorCode.PROTOCOL_ERROR, /inside a header block/],
    ];
    for (const [bytes, code, reason] of cases) {
      const c = await RawClient.open(run.port, false);
      c.send(bytes);
      await c.closedWithin();
      const goAway = c.goAway();
      assert.ok(goAway !== undefined, `GOAWAY expected for ${reason}`);
      assert.equal(goAway.payload.readUInt32BE(4), code, String(reason));
      assert.match(goAway.payload.subarray(8).toString(), reason);
    }
    await stillServes();
  });

  test('PING is answered with its payload; SETTINGS are acknowledged', async () => {
    const c = await RawClient.open(run.port);
    c.send(frame(FrameType.PING, 0, 0, Buffer.from('12345678')));
    const pong = await c.until((f) => f.type === FrameType.PING);
    assert.equal(pong.flags & Flag.ACK, Flag.ACK);
    assert.equal(pong.payload.toString(), '12345678');
    await c.until((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
    c.close();
  });
});

/** Sends a whole Put on stream `id` and checks it is answered with grpc-status 0. */
async function putSucceeds(c: RawClient, id: number): Promise<void> {
  c.send(headersFrame(id, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, id, putBody('k')));
  await c.until((f) => f.type === FrameType.HEADERS && f.stream === id && (f.flags & Flag.END_STREAM) !== 0);
  assert.equal(c.headers(id)['grpc-status'], '0');
}

describe('HTTP/2 layer: streams', () => {
  test('malformed request headers reset only that stream (PROTOCOL_ERROR); the next stream is served', async () => {
    const run = await startServer(new FakeKv());
    const c = await RawClient.open(run.port);
    // A literal field with a new name (RFC 7541 §6.2.2), written by hand: the encoder refuses upper case.
    const upper = Buffer.concat([Buffer.from([0x00, 7]), Buffer.from('X-Upper'), Buffer.from([2]), Buffer.from('no')]);
    c.send(frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.concat([encodeHeaders(PUT_HEADERS), upper])));
    const rst = await c.until((f) => f.type === FrameType.RST_STREAM && f.stream === 1);
    assert.equal(rst.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR);
    await putSucceeds(c, 3);
    c.close();
    await run.server.close();
  });

  test('content-length (§8.1.1): a request whose DATA disagrees with it, or with a malformed one, is reset PROTOCOL_ERROR; a matching one is served', async () => {
    const run = await startServer(new FakeKv());
    const c = await RawClient.open(run.port);
    const body = putBody('k');
    const reset = async (id: number, headers: [string, string][], ...frames: Buffer[]): Promise<void> => {
      c.send(headersFrame(id, headers, Flag.END_HEADERS | (frames.length === 0 ? Flag.END_STREAM : 0)), ...frames);
      const rst = await c.until((f) => f.type === FrameType.RST_STREAM && f.stream === id);
      assert.equal(rst.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR, `stream ${id}`);
    };
    const withLength = (v: string): [string, string][] => [...PUT_HEADERS, ['content-length', v]];
    await reset(1, withLength(String(body.length - 1)), frame(FrameType.DATA, Flag.END_STREAM, 1, body));
    await reset(3, withLength(String(body.length + 1)), frame(FrameType.DATA, Flag.END_STREAM, 3, body));
    await reset(5, withLength('12abc'), frame(FrameType.DATA, Flag.END_STREAM, 5, body));
    await reset(7, withLength('5'));
    // Split over two frames, adding up: served.
    c.send(headersFrame(9, withLength(String(body.length))), frame(FrameType.DATA, 0, 9, body.subarray(0, 4)), frame(FrameType.DATA, Flag.END_STREAM, 9, body.subarray(4)));
    await c.until((f) => f.type === FrameType.HEADERS && f.stream === 9 && (f.flags & Flag.END_STREAM) !== 0);
    assert.equal(c.headers(9)['grpc-status'], '0');
    await putSucceeds(c, 11);
    c.close();
    await run.server.close();
  });

  test('streams above SETTINGS_MAX_CONCURRENT_STREAMS are refused (REFUSED_STREAM)', async () => {
    const run = await startServer({ put: () => new Promise(() => {}) }, { maxConcurrentStreams: 1 });
    const c = await RawClient.open(run.port);
    c.send(headersFrame(1, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, 1, putBody('a')));
    c.send(headersFrame(3, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, 3, putBody('b')));
    const rst = await c.until((f) => f.type === FrameType.RST_STREAM && f.stream === 3);
    assert.equal(rst.payload.readUInt32BE(0), ErrorCode.REFUSED_STREAM);
    c.close();
    await run.server.close();
  });

  test('a header list over the limit is answered RESOURCE_EXHAUSTED, and the connection stays usable', async () => {
    const run = await startServer(new FakeKv());
    const c = await RawClient.open(run.port);
    const big = 'x'.repeat(70 * 1024);
    const block = encodeHeaders([...PUT_HEADERS, ['x-big', big]]);
    // Split into HEADERS + CONTINUATIONs of 16 KiB.
    const parts: Buffer[] = [];
    for (let at = 0; at < block.length; at += 16_384) {
      const end = Math.min(block.length, at + 16_384);
      const last = end === block.length ? Flag.END_HEADERS : 0;
      parts.push(frame(at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, last, 1, block.subarray(at, end)));
    }
    c.send(...parts);
    await c.until((f) => f.type === FrameType.HEADERS && f.stream === 1);
    const h = c.headers(1);
    assert.equal(h['grpc-status'], String(GrpcStatus.RESOURCE_EXHAUSTED));
    assert.match(h['grpc-message'] ?? '', /exceeds the limit/);
    await putSucceeds(c, 3);
    c.close();
    await run.server.close();
  });

  test('a response larger than the client\'s windows waits for WINDOW_UPDATE and arrives whole', async () => {
    const chunk = 40_000;
    const run = await startServer({
      snapshot: async (_r, call: ServerStreamCall<SnapshotResponse>) => {
        for (let i = 0; i < 10; i++) {
          if (!call.write({ blob: Buffer.alloc(chunk, i) })) await call.drained();
        }
      },
    });
    const c = await RawClient.open(run.port, false);
    // A 1000-byte stream window and the default 65,535-byte connection window.
    c.send(CLIENT_PREFACE, settingsFrame([[0x4, 1000]]),
      headersFrame(1, [[':method', 'POST'], [':scheme', 'http'], [':path', '/etcdserverpb.Maintenance/Snapshot'],
        ['content-type', 'application/grpc']]), frame(FrameType.DATA, Flag.END_STREAM, 1, grpcFrame(Buffer.alloc(0))));
    await c.until((f) => f.type === FrameType.DATA && f.stream === 1);
    await new Promise((r) => setTimeout(r, 100));
    const dataBytes = (): number => c.frames.filter((f) => f.type === FrameType.DATA).reduce((n, f) => n + f.payload.length, 0);
    assert.equal(dataBytes(), 1000, 'no more than the stream window before a WINDOW_UPDATE');
    // Open both windows step by step; every DATA frame stays within 16 KiB.
    let credited = 1000;
    while (!c.frames.some((f) => f.type === FrameType.HEADERS && f.stream === 1 && (f.flags & Flag.END_STREAM) !== 0)) {
      const step = 30_000;
      c.send(windowUpdateFrame(1, step), windowUpdateFrame(0, step));
      credited += step;
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(dataBytes() <= credited);
      assert.ok(credited < 2_000_000, 'the response should have ended');
    }
    const data = c.frames.filter((f) => f.type === FrameType.DATA);
    assert.ok(data.every((f) => f.payload.length <= 16_384));
    const body = Buffer.concat(data.map((f) => f.payload));
    assert.ok(body.length > 10 * chunk);
    assert.equal(c.headers(1)['grpc-status'], '0');
    c.close();
    await run.server.close();
  });

  test('node:http2 with a small window and a large frame size reads a 2 MiB snapshot byte for byte', async () => {
    const blob = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) & 0xff;
    const run = await startServer({
      snapshot: async (_r, call: ServerStreamCall<SnapshotResponse>) => {
        for (let at = 0; at < blob.length; at += 100_000) {
          if (!call.write({ blob: blob.subarray(at, at + 100_000) })) await call.drained();
        }
      },
    });
    const session = connect(`http://${run.address}`, { settings: { initialWindowSize: 4096, maxFrameSize: 65_536 } });
    const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Maintenance/Snapshot', 'content-type': 'application/grpc' });
    req.end(grpcFrame(Buffer.alloc(0)));
    const got: Buffer[] = [];
    req.on('data', (d: Buffer) => got.push(d));
    let trailers: Record<string, unknown> = {};
    req.on('trailers', (t) => { trailers = t; });
    await new Promise((resolve) => req.on('close', resolve));
    session.close();
    await run.server.close();
    assert.equal(trailers['grpc-status'], '0');
    const SnapshotResponse = root.lookupType('etcdserverpb.SnapshotResponse');
    const all = Buffer.concat(got);
    const parts: Buffer[] = [];
    for (let at = 0; at < all.length;) {
      const len = all.readUInt32BE(at + 1);
      parts.push(Buffer.from((SnapshotResponse.decode(all.subarray(at + 5, at + 5 + len)) as unknown as { blob: Uint8Array }).blob));
      at += 5 + len;
    }
    assert.ok(Buffer.concat(parts).equals(blob));
  });

  test('a client reset cancels the call: the handler sees cancelled', async () => {
    let resolveSeen: (v: boolean) => void = () => {};
    const seen = new Promise<boolean>((r) => { resolveSeen = r; });
    const run = await startServer({
      put: (_req, ctx) => new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => { resolveSeen(ctx.cancelled); reject(new Error('cancelled')); });
      }),
    });
    const session = connect(`http://${run.address}`);
    const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Put', 'content-type': 'application/grpc' });
    req.on('error', () => {});
    req.end(putBody('k'));
    await new Promise((r) => setTimeout(r, 100));
    req.close(constants.NGHTTP2_CANCEL);
    assert.equal(await seen, true);
    session.close();
    await run.server.close();
  });

  test('a graceful close sends GOAWAY, lets the call in flight finish, and refuses new streams', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const kv = new FakeKv();
    const run = await startServer({ put: async (req) => { await gate; return kv.put(req); } });
    const c = await RawClient.open(run.port);
    c.send(headersFrame(1, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, 1, putBody('k')));
    await new Promise((r) => setTimeout(r, 100));
    const closing = run.server.close(5000);
    const goAway = await c.until((f) => f.type === FrameType.GOAWAY);
    assert.equal(goAway.payload.readUInt32BE(0), 1, 'last stream id');
    assert.equal(goAway.payload.readUInt32BE(4), ErrorCode.NO_ERROR);
    c.send(headersFrame(3, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, 3, putBody('late')));
    release();
    await c.until((f) => f.type === FrameType.HEADERS && f.stream === 1 && (f.flags & Flag.END_STREAM) !== 0);
    assert.equal(c.headers(1)['grpc-status'], '0');
    await c.closedWithin();
    assert.equal(c.frames.some((f) => f.stream === 3 && f.type === FrameType.HEADERS), false);
    await closing;
  });
});

describe('HTTP/2 layer: hostile and random input', () => {
  test('keepalive: a silent client is PINGed and, not answering, cut off; one that answers stays', async () => {
    const run = await startServer(new FakeKv(), { keepalive: { intervalMs: 150, timeoutMs: 150 } });
    const mute = await RawClient.open(run.port);
    const ping = await mute.until((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) === 0);
    assert.equal(ping.stream, 0);
    await mute.closedWithin(2000);
    const alive = await RawClient.open(run.port);
    let answered = 0;
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const p = alive.frames.filter((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) === 0);
      for (; answered < p.length; answered++) alive.send(frame(FrameType.PING, Flag.ACK, 0, (p[answered] as Frame).payload));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(answered >= 2, `${answered} pings answered`);
    assert.equal(alive.closed, false);
    await putSucceeds(alive, 1);
    alive.close();
    await run.server.close();
  });

  test('keepalive enforcement: pings closer than the minimum, three times over, get GOAWAY too_many_pings; spaced ones are fine', async () => {
    const run = await startServer({ put: () => new Promise(() => {}) }, { keepalive: { minTimeMs: 100 } });
    const ping = (n: number): Buffer => frame(FrameType.PING, 0, 0, Buffer.alloc(8, n));
    // With a stream open, one ping per 100 ms is allowed.
    const polite = await RawClient.open(run.port);
    polite.send(headersFrame(1, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM, 1, putBody('k')));
    for (let i = 0; i < 5; i++) {
      polite.send(ping(i));
      await new Promise((r) => setTimeout(r, 130));
    }
    assert.equal(polite.frames.filter((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0).length, 5);
    assert.equal(polite.goAway(), undefined);
    // Without streams, a client may ping once per two hours: the fourth ping in a row ends it.
    const rude = await RawClient.open(run.port);
    rude.send(ping(1), ping(2), ping(3), ping(4));
    const g = await rude.until((f) => f.type === FrameType.GOAWAY);
    assert.equal(g.payload.readUInt32BE(4), ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(g.payload.subarray(8).toString(), /too_many_pings/);
    polite.close();
    await run.server.close();
  });

  test('a client resetting streams in a loop (rapid reset) is cut off with ENHANCE_YOUR_CALM', async () => {
    const run = await startServer({ put: () => new Promise(() => {}) });
    const c = await RawClient.open(run.port);
    const burst: Buffer[] = [];
    for (let id = 1; id < 2 * 1100; id += 2) {
      burst.push(headersFrame(id, PUT_HEADERS), frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
    }
    c.send(...burst);
    await c.closedWithin();
    assert.equal(c.goAway()?.payload.readUInt32BE(4), ErrorCode.ENHANCE_YOUR_CALM);
    await run.server.close();
  });

  test('300 mutated byte streams never take the server down, and it serves afterwards', async () => {
    const run = await startServer(new FakeKv());
    // A valid exchange: preface, SETTINGS, PING, two calls (one split over CONTINUATION, one with padding).
    const block = encodeHeaders(PUT_HEADERS);
    const padded = Buffer.concat([Buffer.from([3]), putBody('p'), Buffer.alloc(3)]);
    const valid = Buffer.concat([CLIENT_PREFACE, settingsFrame([[0x4, 100_000]]), frame(FrameType.PING, 0, 0, Buffer.alloc(8)),
      frame(FrameType.HEADERS, 0, 1, block.subarray(0, 10)), frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(10)),
      frame(FrameType.DATA, Flag.END_STREAM, 1, putBody('a')), windowUpdateFrame(0, 1000),
      headersFrame(3, PUT_HEADERS), frame(FrameType.DATA, Flag.END_STREAM | Flag.PADDED, 3, padded)]);
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(valid);
      const kind = rand(4);
      if (kind === 0) {
        for (let k = 0; k < 1 + rand(4); k++) bytes[CLIENT_PREFACE.length + rand(bytes.length - CLIENT_PREFACE.length)] = rand(256);
      } else if (kind === 1) {
        const at = CLIENT_PREFACE.length + rand(bytes.length - CLIENT_PREFACE.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 << rand(8));
      } else if (kind === 2) {
        const junk = Buffer.alloc(9 + rand(40));
        for (let k = 0; k < junk.length; k++) junk[k] = rand(256);
        junk[0] = 0;
        junk.writeUInt16BE(junk.length - 9, 1);
        const at = CLIENT_PREFACE.length + 15;
        bytes.set(Buffer.concat([junk, bytes.subarray(at, bytes.length - junk.length)]), at);
      } else {
        bytes.set(Buffer.alloc(1 + rand(8), 0xff), CLIENT_PREFACE.length + rand(bytes.length - CLIENT_PREFACE.length - 9));
      }
      const c = await RawClient.open(run.port, false);
      c.send(bytes);
      await new Promise((r) => setTimeout(r, 5));
      c.close();
    }
    const r = await rawCall(run.address, { ':path': '/etcdserverpb.KV/Put' }, [putBody('after')]);
    assert.equal(rawStatus(r), GrpcStatus.OK);
    await run.server.close();
  });
});
