// Forwarding a request to the leader (src/server/forwarding.ts): requests the
// packing covers travel packed and arrive as the same request, others travel
// as objects; a packed request that does not decode, or that reaches a member
// without the packing, is answered with a failure naming why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { MemoryNetwork } from '../../src/net/memory-transport.js';
import { Forwarder, ForwardError, servePeerFrames, type PeerFrame, type RequestPacking } from '../../src/server/forwarding.js';

type Req = { readonly n: number; readonly note?: string };
type Frame = PeerFrame<never, Req, string>;

/** Packs a request without a note as its number in one byte; a note keeps it an object. */
const packing: RequestPacking<Req> = {
  pack: (r) => (r.note === undefined ? Uint8Array.of(r.n) : null),
  unpack: (b) => {
    if (b.length !== 1) throw new Error(`${b.length} bytes, expected 1`);
    return { n: b[0] as number };
  },
};

async function pair(leaderPacking: RequestPacking<Req> | null) {
  const net = new MemoryNetwork();
  const [a, b] = [NodeId(1), NodeId(2)];
  const follower = net.transport<Frame>(a, [a, b]);
  const leader = net.transport<Frame>(b, [a, b]);
  const sent: Frame[] = [];
  const send = follower.send.bind(follower);
  follower.send = (to, frame) => {
    sent.push(frame);
    send(to, frame);
  };
  const seen: Req[] = [];
  const forwarder = new Forwarder<never, Req, string>(follower, undefined, packing);
  servePeerFrames(follower, forwarder, { deliver: () => undefined, request: () => Promise.reject(new Error('not the leader')) });
  servePeerFrames(leader, new Forwarder<never, Req, string>(leader), {
    deliver: () => undefined,
    request: (req) => {
      seen.push(req);
      return Promise.resolve(`done ${req.n}`);
    },
  }, undefined, leaderPacking);
  await follower.start();
  await leader.start();
  return { forwarder, leader: b, sent, seen, stop: async () => Promise.all([follower.stop(), leader.stop()]) };
}

test('a packed request arrives as the same request; one the packing does not cover travels as an object', async () => {
  const p = await pair(packing);
  try {
    assert.equal(await p.forwarder.forward(p.leader, { n: 7 }, 1000), 'done 7');
    assert.equal(await p.forwarder.forward(p.leader, { n: 8, note: 'x' }, 1000), 'done 8');
    assert.deepEqual(p.seen, [{ n: 7 }, { n: 8, note: 'x' }]);
    const forwards = p.sent.filter((f) => f.type === 'forward');
    assert.ok(forwards[0]?.type === 'forward' && forwards[0].packed !== undefined && forwards[0].req === undefined);
    assert.ok(forwards[1]?.type === 'forward' && forwards[1].packed === undefined && forwards[1].req !== undefined);
  } finally {
    await p.stop();
  }
});

test('a packed request the leader cannot unpack fails with the reason; nothing reaches its host', async () => {
  const broken: RequestPacking<Req> = { pack: packing.pack, unpack: () => { throw new Error('bad bytes'); } };
  for (const [leaderPacking, why] of [[broken, /does not decode: bad bytes/], [null, /does not unpack requests/]] as const) {
    const p = await pair(leaderPacking);
    try {
      await assert.rejects(p.forwarder.forward(p.leader, { n: 1 }, 1000), (e: unknown) => e instanceof ForwardError && why.test(e.message));
      assert.deepEqual(p.seen, []);
    } finally {
      await p.stop();
    }
  }
});
