// Raft §6 / §7: the host's context on a configuration (the server's member
// directory) is carried by configuration changes, kept by changes without one,
// and reaches a node that learns the configuration from a snapshot or restarts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex, NodeId } from '../../src/core/ids.js';
import { applyConfChange } from '../../src/raft/index.js';
import { Net, ids } from './harness.js';

describe('Raft §6 configuration context', () => {
  test('a change sets the context; changes without one and leaving a joint configuration keep it', () => {
    const c0 = { voters: ids(1, 2, 3), outgoing: [], learners: [], learnersNext: [] };
    const c1 = applyConfChange(c0, { type: 'change', ops: [{ type: 'add-learner', node: NodeId(4) }], joint: false, context: 'dir-1' });
    assert.ok(typeof c1 !== 'string');
    assert.equal(c1.context, 'dir-1');
    const joint = applyConfChange(c1, { type: 'change', ops: [{ type: 'add-voter', node: NodeId(4) }, { type: 'remove', node: NodeId(1) }], joint: false });
    assert.ok(typeof joint !== 'string');
    assert.equal(joint.context, 'dir-1');
    const left = applyConfChange(joint, { type: 'leave-joint' });
    assert.ok(typeof left !== 'string');
    assert.equal(left.context, 'dir-1');
    assert.equal('context' in c0, false);
  });

  test('§7: a node added after compaction learns the context from the snapshot; a restart keeps it', () => {
    const net = new Net(ids(1, 2, 3), {}, 7, (id) => (id === 4 ? { peers: [] } : {}));
    net.start(4, null);
    net.crash(4);
    net.elect(1);
    assert.deepEqual(net.node(1).proposeConfChange([{ type: 'add-learner', node: NodeId(4) }], false, 'with-4'), { ok: true });
    net.flush(1);
    net.deliver();
    net.tickAll(3);
    for (let i = 0; i < 5; i++) net.propose(1, `c${i}`);
    net.deliver();
    net.tickAll(3);
    const applied = net.node(1).status().commitIndex;
    net.node(1).compact(LogIndex(applied), net.applied(1).slice());
    net.flush(1);
    net.start(4, null);
    net.tickAll(10);
    assert.equal(net.eventsOf('snapshot-installed').some((e) => e.node === 4), true, 'node 4 caught up from the snapshot');
    assert.equal(net.node(4).configuration().context, 'with-4');
    assert.equal(net.node(4).configuration().learners.includes(NodeId(4)), true);
    net.crash(4);
    assert.equal(net.restart(4).configuration().context, 'with-4');
  });

  test('followerMatch: at the leader only, the index a member holds', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    const last = net.node(1).status().lastIndex;
    assert.equal(net.node(1).followerMatch(NodeId(2)), last);
    assert.equal(net.node(1).followerMatch(NodeId(9)), null);
    assert.equal(net.node(2).followerMatch(NodeId(1)), null);
  });
});
