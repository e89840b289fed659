// Thesis §3.10 leadership transfer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { Net, ids } from './harness.js';

describe('Thesis §3.10 leadership transfer', () => {
  test('an up-to-date target gets TimeoutNow and wins at once', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.tickAll(2);
    const term = net.node(1).status().term;
    assert.deepEqual(net.node(1).transferLeadership(NodeId(3)), { ok: true });
    net.flush(1);
    net.deliver();
    assert.deepEqual(net.leaders(), [3]);
    assert.equal(net.node(3).status().term, term + 1);
    assert.ok(net.eventsOf('transfer-timeout-now').length === 1);
  });

  test('a lagging target is caught up first; proposals are refused meanwhile', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.cutLink(1, 3);
    for (let i = 0; i < 5; i++) net.propose(1, `x${i}`);
    net.tickAll(2);
    assert.deepEqual(net.node(1).transferLeadership(NodeId(3)), { ok: true });
    net.flush(1);
    assert.deepEqual(net.node(1).propose('refused'), { ok: false, reason: 'transferring' });
    assert.equal(net.eventsOf('transfer-timeout-now').length, 0);
    net.heal();
    net.tickAll(3);
    assert.deepEqual(net.leaders(), [3]);
    assert.deepEqual(net.commands(3), ['x0', 'x1', 'x2', 'x3', 'x4']);
  });

  test('a transfer that does not finish within an election timeout is aborted', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    net.isolate(3);
    net.propose(1, 'x'); // the target cannot be caught up
    net.node(1).transferLeadership(NodeId(3));
    net.tickAll(11);
    assert.ok(net.eventsOf('transfer-aborted').some((e) => e.detail.reason === 'timeout'));
    assert.deepEqual(net.node(1).propose('y'), { ok: true });
  });

  test('transfer to a non-voter is refused; a follower cannot transfer', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    assert.equal(net.node(1).transferLeadership(NodeId(9)).ok, false);
    assert.deepEqual(net.node(2).transferLeadership(NodeId(3)), { ok: false, reason: 'not-leader', leader: 1 });
  });

  test('the transfer election passes the voters lease (RequestVote carries the transfer flag)', () => {
    const net = new Net(ids(1, 2, 3, 4, 5));
    net.elect(1);
    net.tickAll(2);
    net.node(1).transferLeadership(NodeId(4));
    net.flush(1);
    net.deliver();
    assert.deepEqual(net.leaders(), [4]);
  });
});
