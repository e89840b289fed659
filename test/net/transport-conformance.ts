// The shared conformance suite for Transport<M>: run against the TCP transport
// on 127.0.0.1 and the in-memory transport (transport.test.ts).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import type { QueueLimits, Transport } from '../../src/net/transport.js';
import { FrameError } from '../../src/net/frame.js';

export interface TestCluster {
  node(id: number): Transport<unknown>;
  /** Stops the node's transport (like a crash of that member). */
  stopNode(id: number): Promise<void>;
  /** Starts a fresh transport for a stopped member, at its old address. */
  startNode(id: number): Promise<Transport<unknown>>;
  close(): Promise<void>;
}

export type ClusterFactory = (ids: readonly number[], limits: QueueLimits) => Promise<TestCluster>;

export interface Received {
  readonly from: number;
  readonly msg: unknown;
}

export function collect(t: Transport<unknown>): Received[] {
  const got: Received[] = [];
  t.onMessage((from, msg) => got.push({ from, msg }));
  return got;
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function withCluster(make: ClusterFactory, ids: readonly number[], limits: QueueLimits, body: (c: TestCluster) => Promise<void>): Promise<void> {
  const c = await make(ids, limits);
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

/** connected() and stats() must agree; every use below checks both. */
const connected = (t: Transport<unknown>, peer: number): boolean => {
  const reported = t.stats().peers.find((p) => p.peer === peer)?.connected === true;
  assert.equal(t.connected(peer as NodeId), reported, `connected(${peer}) disagrees with stats()`);
  return reported;
};
const peerStats = (t: Transport<unknown>, peer: number) => t.stats().peers.find((p) => p.peer === peer)!;

/** `plain`: the transport carries plain data only (src/net/codec.ts): byte arrays arrive as Buffers, and no Maps or BigInts. */
export function transportConformance(name: string, make: ClusterFactory, encoding: 'structured' | 'plain' = 'structured'): void {
  describe(`Transport conformance: ${name}`, () => {
    test('every member reaches every other, and the receiver learns who sent', () =>
      withCluster(make, [1, 2, 3], {}, async (c) => {
        const got = [1, 2, 3].map((id) => collect(c.node(id)));
        for (const from of [3, 2, 1]) for (const to of [1, 2, 3]) if (from !== to) c.node(from).send(NodeId(to), { hi: `${from}->${to}` });
        await waitFor('6 messages', () => got.every((g) => g.length === 2));
        for (const [i, g] of got.entries()) {
          const to = i + 1;
          assert.deepEqual(g.map((r) => r.msg).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
            [1, 2, 3].filter((f) => f !== to).map((f) => ({ hi: `${f}->${to}` })));
          for (const r of g) assert.deepEqual(r.msg, { hi: `${r.from}->${to}` });
        }
      }));

    test('order per peer is kept, in both directions, over thousands of messages', () =>
      withCluster(make, [1, 2], {}, async (c) => {
        const at1 = collect(c.node(1));
        const at2 = collect(c.node(2));
        const n = 3000;
        for (let i = 0; i < n; i++) {
          c.node(1).send(NodeId(2), { seq: i });
          c.node(2).send(NodeId(1), { seq: i });
          if (i % 500 === 0) await new Promise((r) => setImmediate(r));
        }
        await waitFor('all messages', () => at1.length === n && at2.length === n);
        assert.deepEqual(at2.map((r) => (r.msg as { seq: number }).seq), Array.from({ length: n }, (_, i) => i));
        assert.deepEqual(at1.map((r) => (r.msg as { seq: number }).seq), Array.from({ length: n }, (_, i) => i));
      }));

    if (encoding === 'plain') {
      test('plain messages arrive intact (objects, arrays, numbers, strings, null, byte arrays as Buffers, nesting)', () =>
        withCluster(make, [1, 2], {}, async (c) => {
          const got = collect(c.node(2));
          const msg = { type: 'AppendEntries', term: 7, big: 2 ** 53 - 1, f: -0.25, s: 'é', n: null, entries: [{ index: 1, data: new Uint8Array([1, 2, 3]) }, { index: 2, data: null }] };
          c.node(1).send(NodeId(2), msg);
          await waitFor('the message', () => got.length === 1);
          assert.deepEqual(got[0]!.msg, { ...msg, entries: [{ index: 1, data: Buffer.from([1, 2, 3]) }, { index: 2, data: null }] });
        }));
    } else test('structured messages arrive intact (Maps, BigInts, byte arrays, nesting)', () =>
      withCluster(make, [1, 2], {}, async (c) => {
        const got = collect(c.node(2));
        const msg = { type: 'AppendEntries', term: 7, entries: [{ index: 1, data: new Uint8Array([1, 2, 3]) }], m: new Map([['k', 2n ** 70n]]) };
        c.node(1).send(NodeId(2), msg);
        await waitFor('the message', () => got.length === 1);
        assert.deepEqual(got[0]!.msg, msg);
      }));

    test('messages queued for a member that is down are bounded (oldest dropped) and the rest arrive when it returns', () =>
      withCluster(make, [1, 2, 3], { maxQueuedMessages: 10 }, async (c) => {
        for (const [from, down] of [[1, 3], [3, 1]] as const) {
          const warm = collect(c.node(down));
          c.node(from).send(NodeId(down), { warmup: true });
          await waitFor('connection', () => connected(c.node(from), down) && warm.length === 1);
          await c.stopNode(down);
          await waitFor('disconnection noticed', () => !connected(c.node(from), down));
          const droppedBefore = peerStats(c.node(from), down).dropped;
          for (let i = 0; i < 50; i++) c.node(from).send(NodeId(down), { i });
          assert.equal(peerStats(c.node(from), down).dropped - droppedBefore, 40);
          assert.equal(peerStats(c.node(from), down).queued, 10);
          const back = await c.startNode(down);
          const got = collect(back);
          await waitFor('the newest 10 messages', () => got.length >= 10);
          await new Promise((r) => setTimeout(r, 30));
          assert.deepEqual(got.map((r) => r.msg), Array.from({ length: 10 }, (_, k) => ({ i: 40 + k })));
        }
      }));

    test('after a member restarts, messages flow again both ways', () =>
      withCluster(make, [1, 2], {}, async (c) => {
        const at2 = collect(c.node(2));
        c.node(1).send(NodeId(2), 'before');
        await waitFor('first message', () => at2.length === 1);
        for (const restarted of [2, 1]) {
          await c.stopNode(restarted);
          const fresh = await c.startNode(restarted);
          const other = restarted === 1 ? 2 : 1;
          const atFresh = collect(fresh);
          const atOther = collect(c.node(other));
          // Keep sending until something gets through: the sender may first write to the dead connection.
          const ping = `ping-${restarted}`;
          const pong = `pong-${restarted}`;
          const has = (rs: Received[], m: string): boolean => rs.some((r) => r.msg === m);
          await waitFor('delivery after restart', () => {
            c.node(other).send(NodeId(restarted), ping);
            fresh.send(NodeId(other), pong);
            return has(atFresh, ping) && has(atOther, pong);
          });
          assert.ok(atFresh.every((r) => r.from === other));
          assert.ok(atOther.every((r) => r.from === restarted));
        }
      }));

    test('sending to an unknown member or to oneself is a RangeError; an oversized message is a FrameError', () =>
      withCluster(make, [1, 2], { maxFrameBytes: 1024 }, async (c) => {
        assert.throws(() => c.node(1).send(NodeId(9), 'x'), RangeError);
        assert.throws(() => c.node(1).send(NodeId(1), 'x'), RangeError);
        assert.throws(() => c.node(1).send(NodeId(2), 'x'.repeat(2000)), (e: unknown) => e instanceof FrameError && /exceeds the frame-size limit of 1024/.test(e.message));
        const got = collect(c.node(2));
        c.node(1).send(NodeId(2), 'small');
        await waitFor('the small message', () => got.length === 1);
      }));

    test('a stopped transport delivers nothing and counts what it is asked to send', () =>
      withCluster(make, [1, 2], {}, async (c) => {
        const at1 = collect(c.node(1));
        await c.stopNode(2);
        const t2 = c.node(2);
        t2.send(NodeId(1), 'after stop');
        assert.equal(t2.stats().droppedAfterStop, 1);
        await new Promise((r) => setTimeout(r, 30));
        assert.equal(at1.length, 0);
      }));

    test('messages sent in one turn are batched into few writes', () =>
      withCluster(make, [1, 2], {}, async (c) => {
        const got = collect(c.node(2));
        c.node(1).send(NodeId(2), 'warm');
        await waitFor('connection', () => got.length === 1);
        const before = peerStats(c.node(1), 2).writes;
        for (let i = 0; i < 1000; i++) c.node(1).send(NodeId(2), { i });
        await waitFor('1000 messages', () => got.length === 1001);
        const writes = peerStats(c.node(1), 2).writes - before;
        assert.ok(writes >= 1 && writes <= 5, `${writes} writes for 1000 messages`);
      }));
  });
}
