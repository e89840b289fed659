// TCP-only behaviour: a bad peer connection is closed with a logged reason and
// never takes the node down; the connection rules of the hello exchange.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import pino from 'pino';
import { Packr } from 'msgpackr';
import { NodeId } from '../../src/core/ids.js';
import { TcpTransport } from '../../src/net/tcp-transport.js';
import { FRAME_HELLO, FRAME_MESSAGE } from '../../src/net/frame.js';
import { Codec, PLAIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../src/net/codec.js';
import { collect, waitFor } from './transport-conformance.js';
import { tcpCluster } from './transport.test.js';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly reason?: string;
}

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

function frame(kind: number, body: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = kind;
  b.set(body, 5);
  return b;
}

const packr = new Packr({ structuredClone: true });
const hello = (id: number, cluster = 'test-cluster'): Buffer => frame(FRAME_HELLO, packr.pack({ v: PROTOCOL_VERSION, cluster, id }));

/** Opens a raw socket to a node, writes `bytes`, resolves when the node closes it (or rejects after a timeout). */
function rawSession(port: number, bytes: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the node did not close the connection'));
    }, 3000);
    s.on('connect', () => {
      for (const b of bytes) s.write(b);
    });
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

async function checkStillWorks(c: Awaited<ReturnType<typeof tcpCluster>>): Promise<void> {
  const got = collect(c.node(2));
  c.node(1).send(NodeId(2), 'still alive');
  await waitFor('delivery between the good members', () => got.some((r) => r.msg === 'still alive'));
}

describe('TCP transport: a bad connection is closed, the node carries on', () => {
  const cases: { name: string; bytes: () => Buffer[]; reason: RegExp }[] = [
    { name: 'garbage bytes', bytes: () => [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], reason: /exceeds the frame-size limit|unknown frame kind|not a hello|undecodable/ },
    { name: 'an oversized frame', bytes: () => [Buffer.from([0xff, 0xff, 0xff, 0xf0, 2])], reason: /frame of 4294967280 bytes exceeds the frame-size limit/ },
    { name: 'an empty frame', bytes: () => [Buffer.from([0, 0, 0, 0])], reason: /empty frame/ },
    { name: 'an undecodable hello', bytes: () => [frame(FRAME_HELLO, Buffer.from([0x92, 0x01]))], reason: /undecodable hello/ },
    { name: 'a message before the hello', bytes: () => [frame(FRAME_MESSAGE, packr.pack('hi'))], reason: /first frame is not a hello/ },
    { name: 'a hello from another cluster', bytes: () => [hello(1, 'other-cluster')], reason: /cluster id "other-cluster" is not ours/ },
    { name: 'a hello from an unknown member', bytes: () => [hello(0)], reason: /node 0 is not a member/ },
    { name: 'a hello from a member that should not dial', bytes: () => [hello(3)], reason: /node 3 should not dial node 2 \(the lower id dials\)/ },
  ];
  for (const k of cases) {
    test(k.name, async () => {
      const { logger, lines } = capturingLogger();
      const c = await tcpCluster([1, 2, 3], {}, logger);
      try {
        await rawSession(c.addrs.get(2)!.port, k.bytes());
        const warn = lines.find((l) => l.msg.startsWith('closing peer connection: protocol error'));
        assert.ok(warn !== undefined, 'a warning was logged');
        assert.match(warn.reason ?? '', k.reason);
        assert.equal(c.nodes.get(2)!.stats().badConnections, 1);
        await checkStillWorks(c);
      } finally {
        await c.close();
      }
    });
  }

  test('a message that fails validation closes the connection', async () => {
    const { logger, lines } = capturingLogger();
    const isPing = (m: unknown): m is { type: 'ping' } => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ping';
    const b = new TcpTransport({ id: NodeId(2), clusterId: 'test-cluster', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(1), null]]), logger, validate: isPing });
    await b.start();
    try {
      const got = collect(b as TcpTransport<unknown>);
      await rawSession(b.address().port, [hello(1), frame(FRAME_MESSAGE, packr.pack({ type: 'ping' })), frame(FRAME_MESSAGE, packr.pack({ type: 'bogus' }))]);
      assert.deepEqual(got.map((r) => r.msg), [{ type: 'ping' }]);
      assert.ok(lines.some((l) => l.reason === 'message fails validation'));
    } finally {
      await b.stop();
    }
  });

  test('an undecodable message after a good hello closes the connection; earlier messages were delivered', async () => {
    const { logger, lines } = capturingLogger();
    const b = new TcpTransport<unknown>({ id: NodeId(2), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(1), null]]), logger });
    await b.start();
    try {
      const got = collect(b);
      await rawSession(b.address().port, [hello(1, 'c'), frame(FRAME_MESSAGE, packr.pack('fine')), frame(FRAME_MESSAGE, Buffer.from([0x92, 0x01]))]);
      assert.deepEqual(got.map((r) => r.msg), ['fine']);
      assert.ok(lines.some((l) => /undecodable message: Unexpected end/.test(l.reason ?? '')));
      assert.equal(b.stats().badConnections, 1);
    } finally {
      await b.stop();
    }
  });

  test('plain encoding: byte arrays arrive as Buffers over a copy of the body, and structured frames (from an older member) still decode', () => {
    const codec = new Codec({ plain: true });
    const bytes = new Uint8Array([9, 8, 7]);
    const body = Buffer.concat([Buffer.alloc(100), codec.encode({ type: 'append', entries: [{ index: 1, command: bytes }], none: null })]).subarray(100);
    const got = codec.decode(body) as { entries: { command: Uint8Array }[]; none: null };
    assert.ok(Buffer.isBuffer(got.entries[0]?.command));
    assert.deepEqual([...(got.entries[0]?.command ?? [])], [9, 8, 7]);
    body.fill(0);
    assert.deepEqual([...(got.entries[0]?.command ?? [])], [9, 8, 7], 'not a view of the received bytes');
    assert.equal(got.none, null);
    const old = codec.decode(packr.pack({ type: 'append', entries: [{ index: 1, command: bytes }, { index: 2, command: bytes }, { index: 3, command: bytes }, { index: 4, command: bytes }] })) as { entries: { command: Uint8Array }[] };
    assert.equal(Object.getPrototypeOf(old), Object.prototype, 'a record decodes as a plain object');
    assert.deepEqual(old.entries.map((e) => [...e.command]), [[9, 8, 7], [9, 8, 7], [9, 8, 7], [9, 8, 7]]);
    assert.equal(codec.version, PLAIN_PROTOCOL_VERSION);
    assert.equal(new Codec().version, PROTOCOL_VERSION);
  });

  test('members of the two encodings refuse each other by protocol version, with both versions named', async () => {
    const { logger, lines } = capturingLogger();
    const plain = new TcpTransport<unknown>({ id: NodeId(2), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(1), null]]), logger, plainData: true });
    await plain.start();
    const structured = new TcpTransport<unknown>({ id: NodeId(1), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(2), plain.address()]]), logger, backoffInitialMs: 10, backoffMaxMs: 50 });
    await structured.start();
    try {
      await waitFor('the plain member refuses the structured one', () => lines.some((l) => l.reason === `protocol version ${PROTOCOL_VERSION}, expected ${PLAIN_PROTOCOL_VERSION}`));
      assert.equal(plain.connected(NodeId(1)), false);
      assert.equal(structured.connected(NodeId(2)), false);
    } finally {
      await structured.stop();
      await plain.stop();
    }
  });

  test('a member the cluster removed is refused with a hello that says so, and learns it; an unknown one is only closed', async () => {
    const { logger, lines } = capturingLogger();
    const told: number[] = [];
    const acceptor = new TcpTransport<unknown>({ id: NodeId(3), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map(), logger, isRemoved: (id) => id === NodeId(1) });
    await acceptor.start();
    const removed = new TcpTransport<unknown>({ id: NodeId(1), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(3), acceptor.address()]]), logger, backoffInitialMs: 10, backoffMaxMs: 50, onRemovedByPeer: (p) => void told.push(p) });
    const unknown = new TcpTransport<unknown>({ id: NodeId(2), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(3), acceptor.address()]]), logger, backoffInitialMs: 10, backoffMaxMs: 50, onRemovedByPeer: (p) => void told.push(-p) });
    await removed.start();
    await unknown.start();
    try {
      await waitFor('the removed member is told', () => told.includes(3));
      await waitFor('the unknown member is refused', () => lines.some((l) => l.reason === 'node 2 is not a member known here'));
      assert.ok(!told.includes(-3), 'an unknown member is not told it was removed');
      assert.ok(lines.some((l) => l.reason === 'node 1 was removed from the cluster'));
    } finally {
      await removed.stop();
      await unknown.stop();
      await acceptor.stop();
    }
  });

  test('a member that dials no one probes when it has no connection: told if removed, closed quietly if still known', async () => {
    const { logger, lines } = capturingLogger();
    const told: number[] = [];
    // Node 1 removed node 3; node 2 still knows node 3 but has no address for it, so neither dials it.
    const one = new TcpTransport<unknown>({ id: NodeId(1), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map(), logger, isRemoved: (id) => id === NodeId(3) });
    const two = new TcpTransport<unknown>({ id: NodeId(2), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(3), null]]), logger });
    await one.start();
    await two.start();
    const three = new TcpTransport<unknown>({
      id: NodeId(3), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, logger, probeIntervalMs: 50, onRemovedByPeer: (p) => void told.push(p),
      peers: new Map([[NodeId(2), two.address()]]),
    });
    await three.start();
    try {
      await waitFor('a probe to node 2', () => lines.some((l) => l.reason === 'probe from node 3'));
      assert.deepEqual(told, [], 'node 2 still knows node 3');
      assert.ok(!lines.some((l) => l.msg === 'closing peer connection: protocol error'), 'a probe is no protocol error');
      three.setPeer(NodeId(1), one.address());
      await waitFor('node 1 tells node 3 it was removed', () => (told as number[]).includes(1));
    } finally {
      await three.stop();
      await two.stop();
      await one.stop();
    }
  });

  test('a connection that never says hello is closed after the handshake timeout', async () => {
    const { logger, lines } = capturingLogger();
    const b = new TcpTransport({ id: NodeId(2), clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(1), null]]), logger, handshakeTimeoutMs: 50 });
    await b.start();
    try {
      await rawSession(b.address().port, []);
      assert.ok(lines.some((l) => l.reason === 'no hello within the handshake timeout'));
    } finally {
      await b.stop();
    }
  });

  test('the acceptor answers a good hello with its own', async () => {
    const c = await tcpCluster([1, 2], {});
    try {
      const s = connect({ host: '127.0.0.1', port: c.addrs.get(2)!.port });
      const reply = await new Promise<Buffer>((resolve) => {
        s.on('connect', () => s.write(hello(1)));
        s.once('data', resolve);
      });
      s.destroy();
      assert.equal(reply[4], FRAME_HELLO);
      assert.deepEqual(packr.unpack(reply.subarray(5, 4 + reply.readUInt32BE(0))), { v: PROTOCOL_VERSION, cluster: 'test-cluster', id: 2 });
    } finally {
      await c.close();
    }
  });

  test('a removed member can no longer be sent to, and its connection is closed', async () => {
    const c = await tcpCluster([1, 2], {});
    try {
      const got = collect(c.node(2));
      c.node(1).send(NodeId(2), 'hello');
      await waitFor('first message', () => got.length === 1);
      c.nodes.get(1)!.removePeer(NodeId(2));
      assert.throws(() => c.node(1).send(NodeId(2), 'x'), RangeError);
      await waitFor('node 2 sees the connection go', () => c.node(2).stats().peers[0]!.connected === false);
    } finally {
      await c.close();
    }
  });

  test('the dialler backs off while the peer is absent and connects once it listens', async () => {
    const c = await tcpCluster([1, 2], {});
    try {
      await c.stopNode(2);
      const got: unknown[] = [];
      c.node(1).send(NodeId(2), 'queued while down');
      await new Promise((r) => setTimeout(r, 250)); // several failed attempts (back-off 10..100 ms)
      const back = await c.startNode(2);
      back.onMessage((_f, m) => got.push(m));
      await waitFor('the queued message', () => got.length === 1);
      assert.deepEqual(got, ['queued while down']);
    } finally {
      await c.close();
    }
  });

  test('under repeated restarts of the receiver, what arrives is in order and never duplicated', async () => {
    const c = await tcpCluster([1, 2], {});
    try {
      const seen: number[] = [];
      const listen = (t: ReturnType<typeof c.node>): void => t.onMessage((_f, m) => void seen.push(m as number));
      listen(c.node(2));
      let next = 0;
      let sending = true;
      const sender = (async () => {
        while (sending) {
          for (let i = 0; i < 50; i++) c.node(1).send(NodeId(2), next++);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      for (let round = 0; round < 3; round++) {
        const before = seen.length;
        await waitFor('traffic', () => seen.length > before + 100);
        await c.stopNode(2);
        await new Promise((r) => setTimeout(r, 20));
        listen(await c.startNode(2));
      }
      const before = seen.length;
      await waitFor('traffic after the last restart', () => seen.length > before + 100);
      sending = false;
      await sender;
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `message ${seen[i]} after ${seen[i - 1]}`);
      assert.ok(seen.length > 400 && seen.length <= next);
    } finally {
      await c.close();
    }
  });

  test('members with 53-bit ids (as the server uses) connect and exchange messages', async () => {
    const lo = 2 ** 52 + 1;
    const hi = 2 ** 53 - 1;
    const c = await tcpCluster([lo, hi], {});
    try {
      const atHi = collect(c.node(hi));
      const atLo = collect(c.node(lo));
      c.node(hi).send(NodeId(lo), 'from hi');
      c.node(lo).send(NodeId(hi), 'from lo');
      await waitFor('both messages', () => atHi.length === 1 && atLo.length === 1);
      assert.deepEqual(atHi[0], { from: lo, msg: 'from lo' });
      assert.deepEqual(atLo[0], { from: hi, msg: 'from hi' });
    } finally {
      await c.close();
    }
  });
});
