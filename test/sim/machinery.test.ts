// The simulator's machinery, driven by hand with the probe protocol: disks and
// crashes, torn writes, pause/resume, busy nodes queueing inputs, manual drops,
// partitions at delivery time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import type { KvRequest } from '../../src/kv/api.js';
import { ClientId } from '../../src/core/ids.js';
import { isolate } from '../../src/sim/partitions.js';
import { Simulation } from '../../src/sim/simulation.js';
import { TraceRecorder } from '../../src/sim/trace.js';
import { probeSpec, type ProbeNode, type ProbeWrite } from './fixtures.js';

const req: KvRequest = { client: ClientId('t'), seq: 1, op: { f: 'read', key: 'k' } };

function sim(seed: number, opts: { parts?: number; torn?: boolean; nodes?: number } = {}): { s: Simulation; rec: TraceRecorder } {
  const s = new Simulation({ spec: probeSpec({ parts: opts.parts ?? 3 }), seed, nodes: opts.nodes ?? 1, tornWrites: opts.torn ?? false });
  const rec = new TraceRecorder();
  s.subscribe(rec.sink);
  return { s, rec };
}

/** Crashes node 0 in the very event in which its persist begins. */
function crashOnPersist(s: Simulation): void {
  s.watch((e) => {
    if (e.type !== 'persist' || e.node !== 0) return 'continue';
    s.crash(0);
    return 'done';
  });
}

describe('disk and crashes', () => {
  test('a crash before the fsync loses the writes; a restart recovers from nothing', () => {
    const { s, rec } = sim(1);
    crashOnPersist(s);
    s.submit(0, req);
    s.runUntil(50);
    const crash = rec.events.find((e) => e.type === 'crash');
    assert.ok(crash !== undefined && crash.type === 'crash' && crash.lostWrites === 3 && crash.tornKept === 0);
    assert.deepEqual(s.durable(0), []);
    s.restart(0);
    assert.deepEqual((s.nodeAt(0) as ProbeNode).recovered, []);
  });

  test('synced writes survive a crash and are handed to recover() in order', () => {
    const { s, rec } = sim(2);
    s.submit(0, req);
    s.runUntil(50);
    assert.ok(rec.events.some((e) => e.type === 'synced' && e.node === 0 && e.records === 3));
    s.crash(0);
    s.restart(0);
    const recovered = (s.nodeAt(0) as ProbeNode).recovered;
    assert.deepEqual(recovered.map((w) => w.part), [0, 1, 2]);
  });

  test('a torn write keeps a prefix of the in-flight records (and sometimes a strict, non-empty one)', () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { s } = sim(seed, { parts: 4, torn: true });
      crashOnPersist(s);
      s.submit(0, req);
      s.runUntil(50);
      assert.equal(s.status(0), 'down');
      const parts = (s.durable(0) as ProbeWrite[]).map((w) => w.part);
      assert.deepEqual(parts, [...Array(parts.length).keys()], 'a prefix, in order');
      kept.add(parts.length);
    }
    assert.ok([...kept].some((k) => k > 0 && k < 4), `kept lengths seen: ${[...kept].join(',')}`);
    assert.ok(kept.has(0) || kept.has(4));
  });

  test('a busy node queues inputs in arrival order until its fsync completes', () => {
    const { s, rec } = sim(3, { nodes: 2 });
    s.setSlowDisk(0, 1000);
    s.submit(0, req);
    s.runUntil(5);
    assert.ok(rec.events.some((e) => e.type === 'persist' && e.node === 0), 'the persist started');
    (s.nodeAt(1) as ProbeNode).ping(NodeId(0), 7);
    s.tickNode(1); // makes node 1 run ready() and send the ping
    s.submit(0, { ...req, seq: 2 });
    s.runUntil(30);
    const n0 = s.nodeAt(0) as ProbeNode;
    assert.deepEqual(n0.received, [], 'the ping waits while the disk is busy');
    assert.equal(n0.requests.length, 1);
    assert.ok(s.queuedInputs(0) >= 2);
    s.runUntil(2000);
    assert.deepEqual(n0.received, [7]);
    assert.equal(n0.requests.length, 2);
  });
});

describe('pause and resume', () => {
  test('a paused node takes no input; on resume it gets its messages and missed ticks', () => {
    const { s, rec } = sim(4, { nodes: 2 });
    s.runUntil(100);
    const n1 = s.nodeAt(1) as ProbeNode;
    const ticksBefore = n1.ticks;
    s.pause(1);
    (s.nodeAt(0) as ProbeNode).ping(NodeId(1), 1);
    s.tickNode(0);
    s.runUntil(300);
    assert.ok(rec.events.some((e) => e.type === 'deliver' && e.to === 1), 'the network delivered it');
    assert.deepEqual(n1.received, [], 'but the paused process did not run');
    assert.equal(n1.ticks, ticksBefore);
    s.resume(1);
    assert.deepEqual(n1.received, [1]);
    assert.ok(n1.ticks >= ticksBefore + 19, `missed ticks delivered on resume (${n1.ticks - ticksBefore})`);
  });
});

describe('network controls', () => {
  test('a message dropped by hand never arrives', () => {
    const { s, rec } = sim(5, { nodes: 2 });
    (s.nodeAt(0) as ProbeNode).ping(NodeId(1), 9);
    s.tickNode(0);
    const inflight = s.inFlight();
    assert.equal(inflight.length, 1);
    assert.equal(s.dropMessage((inflight[0] as { id: number }).id), true);
    assert.equal(s.inFlight().length, 0);
    s.runUntil(100);
    assert.deepEqual((s.nodeAt(1) as ProbeNode).received, []);
    assert.ok(rec.events.some((e) => e.type === 'drop' && e.reason === 'manual'));
  });

  test('a partition that starts while a message is in flight drops it at delivery', () => {
    const { s, rec } = sim(6, { nodes: 3 });
    (s.nodeAt(0) as ProbeNode).ping(NodeId(1), 1);
    (s.nodeAt(0) as ProbeNode).ping(NodeId(2), 2);
    s.tickNode(0);
    s.setPartition(isolate(3, 1));
    s.runUntil(100);
    assert.deepEqual((s.nodeAt(1) as ProbeNode).received, []);
    assert.deepEqual((s.nodeAt(2) as ProbeNode).received, [2]);
    assert.ok(rec.events.some((e) => e.type === 'drop' && e.to === 1 && e.reason === 'partition'));
    s.heal();
    (s.nodeAt(0) as ProbeNode).ping(NodeId(1), 3);
    s.tickNode(0);
    s.runUntil(200);
    assert.deepEqual((s.nodeAt(1) as ProbeNode).received, [3]);
  });

  test('a crashed node drops what arrives and its requests are lost', () => {
    const { s, rec } = sim(7, { nodes: 2 });
    s.crash(1);
    (s.nodeAt(0) as ProbeNode).ping(NodeId(1), 1);
    s.tickNode(0);
    s.submit(1, req);
    s.runUntil(100);
    assert.ok(rec.events.some((e) => e.type === 'drop' && e.to === 1 && e.reason === 'down' && e.from === 0));
    assert.ok(rec.events.some((e) => e.type === 'drop' && e.to === 1 && e.reason === 'down' && e.from === -1));
    assert.deepEqual(s.views()[1], { id: 1, role: 'down' });
  });
});
