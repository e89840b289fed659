// Raft §6 / thesis §4: cluster membership changes, single-server and joint
// consensus, learners, and the removed leader.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { applyConfChange } from '../../src/raft/index.js';
import { Net, ids } from './harness.js';

describe('Raft §6 membership changes', () => {
  test('adding a voter (one server at a time) takes effect when committed; the new node catches up and votes', () => {
    const net = new Net(ids(1, 2, 3), {}, 1, (id) => (id === 4 ? { peers: [] } : {}));
    net.start(4, null);
    assert.equal(net.node(4).status().role, 'learner', 'an empty node waits to be added');
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'add-voter', node: NodeId(4) }]), { ok: true });
    net.flush(1);
    net.tickAll(5);
    assert.deepEqual(net.node(1).status().voters, [1, 2, 3, 4]);
    assert.deepEqual(net.node(4).status().voters, [1, 2, 3, 4]);
    assert.equal(net.node(4).status().role, 'follower');
    assert.deepEqual(net.commands(4), ['a']);
    // Now 3 of 4 are needed: with 1 and 2 only, nothing commits.
    net.crash(3);
    net.crash(4);
    net.node(1).propose('b');
    net.flush(1);
    net.tickAll(3);
    assert.deepEqual(net.commands(1), ['a']);
    net.restart(4);
    net.tickAll(5);
    assert.deepEqual(net.commands(1), ['a', 'b']);
  });

  test('removing a follower shrinks the quorum', () => {
    const net = new Net(ids(1, 2, 3, 4, 5));
    net.elect(1);
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'remove', node: NodeId(5) }]), { ok: true });
    net.flush(1);
    net.tickAll(3);
    assert.deepEqual(net.node(2).status().voters, [1, 2, 3, 4]);
    net.crash(4);
    net.crash(5);
    net.propose(1, 'x');
    net.tickAll(3);
    assert.deepEqual(net.commands(2), ['x'], '3 of 4');
  });

  test('only one configuration change at a time', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'add-learner', node: NodeId(7) }]), { ok: true });
    const second = net.node(1).proposeConfChange([{ type: 'add-learner', node: NodeId(8) }]);
    assert.deepEqual(second, { ok: false, reason: 'conf-change-pending' });
    net.flush(1);
  });

  test('invalid changes are refused with a reason', () => {
    const net = new Net(ids(1));
    net.elect(1);
    const r = net.node(1).proposeConfChange([{ type: 'remove', node: NodeId(1) }]);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.reason === 'invalid' && /at least one voter/.test(r.message ?? ''));
  });

  test('joint consensus: replacing two voters goes through C_old,new and leaves it automatically', () => {
    const spares = new Net(ids(1, 2, 3), {}, 3, (id) => (id >= 4 ? { peers: [] } : {}));
    for (const id of [4, 5]) spares.start(id, null);
    spares.elect(1);
    const r = spares.node(1).proposeConfChange([
      { type: 'add-voter', node: NodeId(4) },
      { type: 'add-voter', node: NodeId(5) },
      { type: 'remove', node: NodeId(2) },
      { type: 'remove', node: NodeId(3) },
    ]);
    assert.deepEqual(r, { ok: true });
    spares.flush(1);
    spares.tickAll(10);
    const applied = spares.eventsOf('membership-applied').filter((e) => e.node === 1).map((e) => [e.detail.voters, e.detail.outgoing]);
    assert.deepEqual(applied.slice(-2), [
      [[1, 4, 5], [1, 2, 3]],
      [[1, 4, 5], []],
    ]);
    assert.deepEqual(spares.node(4).status().voters, [1, 4, 5]);
    spares.propose(1, 'new-config');
    spares.tickAll(3);
    assert.deepEqual(spares.commands(5), ['new-config']);
  });

  test('in C_old,new a decision needs majorities of both configurations', () => {
    const joint = applyConfChange({ voters: ids(1, 2, 3), outgoing: [], learners: [], learnersNext: [] }, {
      type: 'change',
      ops: [
        { type: 'add-voter', node: NodeId(4) },
        { type: 'add-voter', node: NodeId(5) },
        { type: 'remove', node: NodeId(2) },
        { type: 'remove', node: NodeId(3) },
      ],
      joint: false,
    });
    assert.ok(typeof joint !== 'string');
    assert.deepEqual(joint.outgoing, [1, 2, 3]);
    const net = new Net(ids(1, 2, 3), {}, 5, (id) => (id >= 4 ? { peers: [] } : {}));
    for (const id of [4, 5]) net.start(id, null);
    net.elect(1);
    net.tickAll(2);
    // Cut C_old's other members off: the joint entry cannot commit without a majority of C_old.
    net.crash(2);
    net.crash(3);
    const ops = [
      { type: 'add-voter' as const, node: NodeId(4) },
      { type: 'add-voter' as const, node: NodeId(5) },
      { type: 'remove' as const, node: NodeId(2) },
      { type: 'remove' as const, node: NodeId(3) },
    ];
    assert.deepEqual(net.node(1).proposeConfChange(ops), { ok: true });
    net.flush(1);
    net.tickAll(5);
    assert.deepEqual(net.node(1).status().voters, [1, 2, 3], 'still C_old');
    net.restart(2);
    net.tickAll(8);
    assert.deepEqual(net.node(1).status().voters, [1, 4, 5]);
  });

  test('learners receive the log but do not vote or count; promotion makes them voters', () => {
    const net = new Net(ids(1, 2, 3), {}, 1, (id) => (id === 4 ? { peers: [] } : {}));
    net.start(4, null);
    net.elect(1);
    net.node(1).proposeConfChange([{ type: 'add-learner', node: NodeId(4) }]);
    net.flush(1);
    net.tickAll(3);
    net.propose(1, 'a');
    net.tickAll(3);
    assert.deepEqual(net.commands(4), ['a']);
    assert.equal(net.node(4).status().role, 'learner');
    assert.deepEqual(net.node(1).status().voters, [1, 2, 3]);
    // A learner never campaigns.
    net.isolate(4);
    net.tick(4, 100);
    assert.equal(net.node(4).status().role, 'learner');
    net.heal();
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'add-voter', node: NodeId(4) }]), { ok: true });
    net.flush(1);
    net.tickAll(3);
    assert.deepEqual(net.node(4).status().voters, [1, 2, 3, 4]);
    assert.equal(net.node(4).status().role, 'follower');
  });

  test('a leader removed from the configuration steps down once the change commits', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'remove', node: NodeId(1) }]), { ok: true });
    net.flush(1);
    net.deliver();
    assert.notEqual(net.node(1).status().role, 'leader');
    assert.ok(net.eventsOf('step-down').some((e) => e.node === 1));
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll();
    const leader = net.leaders()[0];
    assert.ok(leader === 2 || leader === 3);
    assert.deepEqual(net.node(leader).status().voters, [2, 3]);
    net.propose(leader, 'after');
    net.tickAll(2);
    assert.deepEqual(net.commands(2), ['after']);
  });
});
