// MembershipNode.transfer (etcd's MoveLeader at the leader) against a fake
// Raft core: started at the next batch, answered once the target leads, and
// etcd's refusals (not leader, bad transferee, too long).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import type { LogStatus } from '../../src/core/replicated-log.js';
import type { KvNode } from '../../src/kv/adapter.js';
import { MembershipNode, type ConfLog, type MembershipHooks, type TransferOutcome } from '../../src/server/membership/node.js';
import type { RequestResult } from '../../src/raft/types.js';

const ME = NodeId(1);
const OTHER = NodeId(2);

function setup(role: 'leader' | 'follower' = 'leader') {
  const state = { role, leader: role === 'leader' ? ME as NodeId | null : OTHER as NodeId | null, asked: [] as NodeId[], now: 0 };
  const raft = {
    configuration: () => ({ voters: [ME, OTHER, NodeId(3)], outgoing: [], learners: [NodeId(4)], learnersNext: [], autoLeave: false }),
    status: () => ({ id: ME, role: state.role, leader: state.leader, term: 2, commitIndex: 5, lastIndex: 5, voters: [ME, OTHER, NodeId(3)] }) as unknown as LogStatus,
    followerMatch: () => null,
    proposeConfChange: (): RequestResult => ({ ok: true }),
    transferLeadership: (to: NodeId): RequestResult => {
      state.asked.push(to);
      if (state.role !== 'leader') return { ok: false, reason: 'not-leader', leader: state.leader };
      return [ME, OTHER, NodeId(3)].includes(to) ? { ok: true } : { ok: false, reason: 'invalid', message: `node ${to} is not a voter` };
    },
  } as unknown as ConfLog;
  const kv = { id: ME, ready: () => null } as unknown as KvNode<unknown, { type: string }>;
  const hooks = { directoryOf: () => ({ cluster: 1, members: [], removed: [] }), plan: { token: 't' }, onConfApplied: () => {}, now: () => state.now } as unknown as MembershipHooks;
  const node = new MembershipNode(kv, raft, hooks);
  const outcomes: TransferOutcome[] = [];
  const ask = (to: NodeId, timeoutMs = 1000): Promise<void> => node.transfer(to, timeoutMs).then((o) => void outcomes.push(o));
  return { state, node, outcomes, ask };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('MoveLeader at the leader', () => {
  test('starts at the next batch and answers once the target leads', async () => {
    const t = setup();
    void t.ask(OTHER);
    assert.deepEqual(t.state.asked, [], 'nothing is handed to the core outside a batch');
    t.node.ready();
    assert.deepEqual(t.state.asked, [OTHER]);
    t.node.ready();
    await settle();
    assert.deepEqual(t.outcomes, [], 'not answered while the old leader still leads');
    t.state.role = 'follower';
    t.state.leader = OTHER;
    t.node.ready();
    await settle();
    assert.deepEqual(t.outcomes, [{ ok: true }]);
    assert.deepEqual(t.state.asked, [OTHER], 'started once');
  });

  test('a follower answers not leader; a learner or unknown member is a bad transferee', async () => {
    const f = setup('follower');
    void f.ask(NodeId(3));
    f.node.ready();
    await settle();
    assert.deepEqual(f.outcomes, [{ ok: false, code: 'not-leader', message: 'etcdserver: not leader' }]);
    const l = setup();
    void l.ask(NodeId(4));
    void l.ask(NodeId(99));
    l.node.ready();
    await settle();
    assert.deepEqual(l.outcomes.map((o) => !o.ok && o.code), ['bad-transferee', 'bad-transferee']);
    assert.ok(l.outcomes.every((o) => !o.ok && o.message === 'etcdserver: bad leader transferee'));
  });

  test('a target that never takes over: timed out at the deadline, as etcd answers', async () => {
    const t = setup();
    void t.ask(OTHER, 500);
    t.node.ready();
    t.state.now = 400;
    t.node.ready();
    await settle();
    assert.deepEqual(t.outcomes, []);
    t.state.now = 501;
    t.node.ready();
    await settle();
    assert.deepEqual(t.outcomes, [{ ok: false, code: 'timeout', message: 'etcdserver: request timed out, leader transfer took too long' }]);
  });

  test('moving the leader to itself succeeds at once', async () => {
    const t = setup();
    void t.ask(ME);
    t.node.ready();
    await settle();
    assert.deepEqual(t.outcomes, [{ ok: true }]);
  });
});
