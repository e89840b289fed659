// Raft §8 client interaction: linearizable reads by ReadIndex (thesis §6.4)
// and by lease (thesis §6.4.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Net, ids } from './harness.js';

describe('Raft §8 ReadIndex', () => {
  test('the leader answers a read after a heartbeat round confirms it, at its commit index', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.tickAll(2);
    net.readIndex(1, 7);
    assert.equal(net.reads.get(1), undefined, 'not before the round');
    const hb = net.queue.filter((m) => m.msg.type === 'Heartbeat');
    assert.equal(hb.length, 2, 'one heartbeat round');
    net.deliverOne((m) => m.to === 2 && m.msg.type === 'Heartbeat');
    net.deliverOne((m) => m.to === 1 && m.msg.type === 'HeartbeatResponse');
    assert.deepEqual(net.reads.get(1), [{ ctx: 7, index: net.node(1).status().commitIndex }]);
  });

  test('reads asked together share one heartbeat round', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    for (let ctx = 1; ctx <= 20; ctx++) net.node(1).readIndex(ctx);
    net.flush(1);
    assert.equal(net.queue.filter((m) => m.msg.type === 'Heartbeat').length, 2);
    net.deliver();
    assert.equal(net.reads.get(1)?.length, 20);
  });

  test('a new leader holds reads until it has committed an entry of its term', () => {
    const net = new Net(ids(1, 2, 3));
    // Keep the no-op from reaching anyone: nothing of term 2 commits.
    net.drop = (m): boolean => m.msg.type === 'AppendEntries';
    net.elect(1);
    net.readIndex(1, 1);
    net.tickAll(3);
    assert.equal(net.reads.get(1), undefined);
    net.drop = (): boolean => false;
    net.tickAll(3);
    assert.equal(net.reads.get(1)?.[0]?.ctx, 1);
    assert.ok((net.reads.get(1)?.[0]?.index ?? 0) >= 2);
  });

  test('a leader cut off from the majority cannot confirm a read, and fails it when it steps down', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    net.isolate(1);
    net.readIndex(1, 9);
    net.tickAll(5);
    assert.equal(net.reads.get(1), undefined);
    net.tickAll(20);
    assert.deepEqual(net.reads.get(1), [{ ctx: 9, index: null }]);
  });

  test("mutant 'stale-read' answers without a round, even when deposed", () => {
    const net = new Net(ids(1, 2, 3), { mutants: new Set(['stale-read']) });
    net.elect(1);
    net.tickAll(2);
    net.isolate(1);
    net.readIndex(1, 3);
    assert.equal(net.reads.get(1)?.[0]?.ctx, 3);
  });

  test('a follower forwards the read to the leader and gets the read index back', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.tickAll(2);
    net.readIndex(2, 5);
    net.deliver();
    assert.deepEqual(net.reads.get(2), [{ ctx: 5, index: net.node(1).status().commitIndex }]);
  });

  test('a forwarded read fails when the leader does not answer within an election timeout', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    net.cutLink(1, 2);
    net.readIndex(2, 5);
    net.tickAll(12);
    assert.deepEqual(net.reads.get(2)?.[0], { ctx: 5, index: null });
  });

  test('a node that knows no leader fails the read at once', () => {
    const net = new Net(ids(1, 2, 3));
    net.readIndex(2, 1);
    assert.deepEqual(net.reads.get(2), [{ ctx: 1, index: null }]);
  });
});

describe('Thesis §6.4.1 lease reads', () => {
  test('inside its lease the leader answers at once; after losing the quorum it stops', () => {
    const net = new Net(ids(1, 2, 3), { readOnly: 'lease', electionTimeoutTicks: 10, leaseMarginTicks: 2 });
    net.elect(1);
    net.tickAll(2);
    const sent = net.queue.length;
    net.readIndex(1, 1);
    assert.equal(net.reads.get(1)?.[0]?.ctx, 1, 'answered at once');
    assert.equal(net.queue.length, sent, 'no heartbeat round needed');
    net.isolate(1);
    net.tickAll(9); // lease = 10 - 2 ticks from the last confirmed round
    net.readIndex(1, 2);
    assert.equal(net.reads.get(1)?.length, 1, 'lease expired: the read waits for a round that cannot complete');
  });

  test("lease mode needs checkQuorum", () => {
    assert.throws(() => new Net(ids(1, 2, 3), { readOnly: 'lease', checkQuorum: false }), /checkQuorum/);
  });

  test('no other leader can be elected while the lease holds (followers ignore votes)', () => {
    const net = new Net(ids(1, 2, 3), { readOnly: 'lease' });
    net.elect(1);
    net.tickAll(2);
    net.isolate(1);
    let firstOther = -1;
    for (let t = 0; t < 60 && firstOther < 0; t++) {
      net.tickAll();
      if (net.leaders().some((l) => l !== 1)) firstOther = t;
      if (t < 8) {
        net.readIndex(1, 100 + t);
      }
    }
    assert.ok(firstOther >= 8, `a new leader after ${firstOther} ticks`);
  });
});
