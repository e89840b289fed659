// The member directory and the planning of Cluster-service changes
// (src/server/membership/): what each change asks of Raft, and etcd's refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { deriveId, resolveConfig } from '../../src/server/config.js';
import { planChange, type PlanContext } from '../../src/server/membership/changes.js';
import { decodeDirectory, encodeDirectory, initialDirectory, withoutMember } from '../../src/server/membership/directory.js';
import type { ConfState } from '../../src/raft/types.js';

const cfg = resolveConfig({ name: 'a', initialCluster: 'a=http://127.0.0.1:1001,b=http://127.0.0.1:1002,c=http://127.0.0.1:1003', listenPeerUrls: 'http://127.0.0.1:1001' });
const dir = initialDirectory(cfg);
const idOf = (name: string): NodeId => dir.members.find((m) => m.name === name)?.id as NodeId;
const [a, b, c] = [idOf('a'), idOf('b'), idOf('c')];
const conf: ConfState = { voters: [a, b, c].sort((x, y) => x - y), outgoing: [], learners: [], learnersNext: [] };
const ctx = (match = 100): PlanContext => ({ token: cfg.initialClusterToken, match: () => match, commitIndex: 100 });

describe('member directory', () => {
  test('the initial directory is --initial-cluster, and it round-trips through a configuration context', () => {
    assert.deepEqual(dir.members.map((m) => m.name).sort(), ['a', 'b', 'c']);
    assert.equal(dir.cluster, cfg.clusterId);
    assert.deepEqual(decodeDirectory(encodeDirectory(dir)), dir);
    assert.throws(() => decodeDirectory('{"v":2}'), /format 2/);
    assert.throws(() => decodeDirectory('nope'), /not JSON/);
  });

  test('a removed member is remembered as removed', () => {
    const d = withoutMember(dir, b);
    assert.equal(d.members.some((m) => m.id === b), false);
    assert.deepEqual(d.removed, [b]);
  });
});

describe('planning membership changes (Raft thesis §4.1: one server at a time)', () => {
  test('add: the id is the one --initial-advertise-peer-urls derives on the new member', () => {
    const p = planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1004/'], learner: true }, conf, dir, ctx());
    assert.ok(p.ok);
    const joiner = resolveConfig({ name: 'd', initialCluster: 'a=http://127.0.0.1:1001,d=http://127.0.0.1:1004', listenPeerUrls: 'http://127.0.0.1:1004', initialClusterState: 'existing' });
    assert.equal(p.member?.id, joiner.memberId);
    assert.equal(p.member?.id, deriveId(cfg.initialClusterToken, 'http://127.0.0.1:1004'));
    assert.deepEqual(p.ops, [{ type: 'add-learner', node: joiner.memberId }]);
    assert.equal(p.directory.members.length, 4);
  });

  test("refusals carry etcd's messages", () => {
    const refused = (r: ReturnType<typeof planChange>): string => (r.ok ? 'accepted' : `${r.code}: ${r.message}`);
    assert.match(refused(planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1002'], learner: false }, conf, dir, ctx())), /^exists: etcdserver: member ID already exist/);
    assert.match(refused(planChange({ type: 'add', peerUrls: ['http://localhost:9', 'http://127.0.0.1:1002'], learner: false }, conf, dir, ctx())), /^exists: etcdserver: Peer URLs already exists/);
    assert.match(refused(planChange({ type: 'add', peerUrls: ['unix:///x'], learner: false }, conf, dir, ctx())), /^bad-urls: etcdserver: given member URLs are invalid/);
    assert.match(refused(planChange({ type: 'add', peerUrls: [], learner: false }, conf, dir, ctx())), /^bad-urls/);
    assert.match(refused(planChange({ type: 'remove', id: NodeId(12345) }, conf, dir, ctx())), /^not-found: etcdserver: member not found/);
    assert.match(refused(planChange({ type: 'promote', id: a }, conf, dir, ctx())), /^not-learner: etcdserver: can only promote a learner member$/);
    assert.match(refused(planChange({ type: 'update', id: a, peerUrls: ['http://127.0.0.1:1003'] }, conf, dir, ctx())), /^exists/);
  });

  test('promote needs the learner within 10% of the commit index (etcd isLearnerReady)', () => {
    const d = planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1004'], learner: true }, conf, dir, ctx());
    assert.ok(d.ok && d.member !== null);
    const withLearner: ConfState = { ...conf, learners: [d.member.id] };
    const early = planChange({ type: 'promote', id: d.member.id }, withLearner, d.directory, ctx(50));
    assert.equal(early.ok ? 'accepted' : early.code, 'learner-not-ready');
    const ready = planChange({ type: 'promote', id: d.member.id }, withLearner, d.directory, ctx(95));
    assert.ok(ready.ok);
    assert.deepEqual(ready.ops, [{ type: 'add-voter', node: d.member.id }]);
  });

  test("strict reconfiguration check: no change may leave the voters without a quorum the leader reaches (etcd's --strict-reconfig-check)", () => {
    const refused = (r: ReturnType<typeof planChange>): string => (r.ok ? 'accepted' : `${r.code}: ${r.message}`);
    const reaching = (...up: NodeId[]): PlanContext => ({ ...ctx(), reachable: (id) => id === a || up.includes(id) });
    const addVoter = { type: 'add', peerUrls: ['http://127.0.0.1:1004'], learner: false } as const;
    // All three up: a fourth voter needs 3 of 4, and 3 are reached.
    assert.equal(refused(planChange(addVoter, conf, dir, reaching(b, c))), 'accepted');
    // c down: 4 voters would need 3, only a and b are reached.
    assert.equal(refused(planChange(addVoter, conf, dir, reaching(b))), 'not-enough-started: etcdserver: re-configuration failed due to not enough started members');
    // A learner does not vote: adding one is always allowed.
    assert.equal(refused(planChange({ ...addVoter, learner: true }, conf, dir, reaching())), 'accepted');
    // Removing b with c down would leave a and c, needing both: refused; with c up it is fine.
    assert.equal(refused(planChange({ type: 'remove', id: b }, conf, dir, reaching())), 'unhealthy: etcdserver: unhealthy cluster');
    assert.equal(refused(planChange({ type: 'remove', id: c }, conf, dir, reaching(b))), 'accepted', 'removing the member that is down leaves a and b');
    // Promoting a learner that has not connected, with c down: 4 voters, 2 reached.
    const d = planChange({ ...addVoter, learner: true }, conf, dir, reaching(b, c));
    assert.ok(d.ok && d.member !== null);
    const withLearner: ConfState = { ...conf, learners: [d.member.id] };
    assert.equal(refused(planChange({ type: 'promote', id: d.member.id }, withLearner, d.directory, reaching(b))), 'not-enough-started: etcdserver: re-configuration failed due to not enough started members');
    assert.equal(refused(planChange({ type: 'promote', id: d.member.id }, withLearner, d.directory, reaching(b, d.member.id))), 'accepted');
    // Without the check (--strict-reconfig-check=false) the same changes go through.
    assert.equal(refused(planChange(addVoter, conf, dir, ctx())), 'accepted');
    assert.equal(refused(planChange({ type: 'remove', id: b }, conf, dir, ctx())), 'accepted');
  });

  test("one learner at a time (etcd's default --max-learners)", () => {
    const first = planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1004'], learner: true }, conf, dir, ctx());
    assert.ok(first.ok && first.member !== null);
    const withLearner: ConfState = { ...conf, learners: [first.member.id] };
    const second = planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1005'], learner: true }, withLearner, first.directory, ctx());
    assert.equal(second.ok ? 'accepted' : `${second.code}: ${second.message}`, 'too-many-learners: etcdserver: too many learner members in cluster');
    assert.ok(planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1005'], learner: false }, withLearner, first.directory, ctx()).ok, 'a voter may still be added');
  });

  test('--max-learners 2 lets a second learner in and refuses a third', () => {
    const two = { ...ctx(), maxLearners: 2 };
    let c = conf;
    let d = dir;
    for (const port of [1004, 1005]) {
      const p = planChange({ type: 'add', peerUrls: [`http://127.0.0.1:${port}`], learner: true }, c, d, two);
      assert.ok(p.ok && p.member !== null, `learner ${port - 1003}`);
      c = { ...c, learners: [...c.learners, p.member.id] };
      d = p.directory;
    }
    const third = planChange({ type: 'add', peerUrls: ['http://127.0.0.1:1006'], learner: true }, c, d, two);
    assert.equal(third.ok ? 'accepted' : third.code, 'too-many-learners');
  });

  test('update and publish re-assert the role and change only the directory', () => {
    const u = planChange({ type: 'update', id: b, peerUrls: ['http://127.0.0.1:2002'] }, conf, dir, ctx());
    assert.ok(u.ok);
    assert.deepEqual(u.ops, [{ type: 'add-voter', node: b }]);
    assert.deepEqual(u.directory.members.find((m) => m.id === b), { id: b, name: 'b', peerUrls: ['http://127.0.0.1:2002'] });
    const p = planChange({ type: 'publish', id: c, name: 'charlie' }, conf, dir, ctx());
    assert.ok(p.ok);
    assert.equal(p.directory.members.find((m) => m.id === c)?.name, 'charlie');
    const r = planChange({ type: 'remove', id: c }, conf, dir, ctx());
    assert.ok(r.ok);
    assert.deepEqual(r.directory.removed, [c]);
  });
});
