// Two-phase commit with presumed abort: the rules, recovery on both sides, the
// cooperative termination protocol, and the blocking case.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildTwoPcNode } from '../../src/commit/two-phase/node.js';
import type { TwoPcMessage, TwoPcWrite } from '../../src/commit/two-phase/messages.js';
import type { Cluster } from '../../src/commit/cluster.js';
import { NodeId, TxId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { cluster, countByType, outcomeList } from './helpers.js';

const factory = { create: buildTwoPcNode, recover: buildTwoPcNode };
type C = Cluster<TwoPcMessage, TwoPcWrite>;

function make(size = 4, extra: Record<string, unknown> = {}, mutants: string[] = []): C {
  return cluster(factory, { size, options: { inquiryTicks: 5, voteTimeoutTicks: 10, ...extra }, mutants });
}

describe('2PC normal case (Gray 1978; presumed abort)', () => {
  test('all vote yes: every participant commits after vote-request, vote, decision', () => {
    const c = make();
    const req = c.begin('t1');
    c.run(5);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.replies.get(req), { type: 'outcome', tx: 't1', outcome: 'commit' });
    assert.deepEqual(countByType(c), { 'vote-request': 3, vote: 3, decision: 3 });
    // Three message delays from the coordinator: vote-request, vote, decision.
    assert.deepEqual(c.decided.filter((d) => d.role === 'participant').map((d) => d.depth), [3, 3, 3]);
    // Forced: three prepared records and the commit record. Lazy: three participant commit records.
    assert.equal(c.forcedWrites, 4);
    assert.equal(c.writes, 7);
    assert.deepEqual(c.violations, []);
  });

  test('one no vote: abort, told only to those that voted yes, and no coordinator record (presumed abort)', () => {
    const c = make(4, { noVoters: [2] });
    c.begin('t1');
    c.run(5);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.equal(countByType(c)['decision'], 2);
    assert.deepEqual(c.disk(0), []);
    assert.deepEqual(c.violations, []);
  });

  test('a participant forces its prepared record before its yes vote leaves', () => {
    const members = [0, 1, 2].map(NodeId);
    const n = buildTwoPcNode({ id: NodeId(1), members, rng: new Prng(1), mutants: new Set(), options: { noProbability: 0 } });
    n.step(NodeId(0), { type: 'vote-request', tx: TxId('t'), participants: [NodeId(1), NodeId(2)] });
    const fx = n.ready();
    assert.ok(fx !== null);
    assert.deepEqual(fx.persist, [{ type: 'prepared', tx: 't', participants: [1, 2] }]);
    assert.deepEqual(fx.sendNow, []);
    assert.deepEqual(fx.sendAfterPersist, [{ to: 0, msg: { type: 'vote', tx: 't', vote: 'yes' } }]);
  });

  test('the coordinator forces its commit record before the commit decision leaves', () => {
    const members = [0, 1].map(NodeId);
    const n = buildTwoPcNode({ id: NodeId(0), members, rng: new Prng(1), mutants: new Set(), options: {} });
    n.request(1, { type: 'begin', tx: TxId('t') });
    n.ready();
    n.advance();
    n.step(NodeId(1), { type: 'vote', tx: TxId('t'), vote: 'yes' });
    const fx = n.ready();
    assert.ok(fx !== null);
    assert.deepEqual(fx.persist, [{ type: 'commit-record', tx: 't', participants: [1] }]);
    assert.deepEqual(fx.sendAfterPersist, [{ to: 1, msg: { type: 'decision', tx: 't', outcome: 'commit' } }]);
  });

  test('a participant that does not vote in voteTimeoutTicks makes the coordinator abort', () => {
    const c = make();
    c.crash(3);
    c.begin('t1');
    c.run(15);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort']);
    c.restart(3);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:none']);
  });
});

describe('2PC recovery', () => {
  test('a participant that crashes prepared recovers in doubt and asks the coordinator', () => {
    const c = make();
    c.begin('t1');
    c.run(2); // votes are on their way to the coordinator
    c.crash(2);
    c.run(3);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '3:commit']);
    c.restart(2);
    assert.equal(c.view(2)?.participant?.[0]?.state, 'prepared');
    assert.equal(c.view(2)?.participant?.[0]?.inDoubt, true);
    c.run(4);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.ok(c.sent.some((s) => s.from === 2 && s.type === 'decision-request'));
    assert.deepEqual(c.violations, []);
  });

  test('a coordinator that crashes after its commit record answers commit when it returns', () => {
    const c = make();
    c.begin('t1');
    c.run(2);
    // The commit record is durable; the decisions are lost with the crash.
    c.drop((m) => m.msg.type === 'decision');
    c.crash(0);
    assert.deepEqual(c.disk(0), [{ type: 'commit-record', tx: 't1', participants: [1, 2, 3] }]);
    c.run(30);
    assert.deepEqual(outcomeList(c, 't1'), ['1:none', '2:none', '3:none']);
    c.restart(0);
    c.run(12);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.violations, []);
  });

  test('a coordinator that crashes before deciding presumes abort when it returns', () => {
    const c = make();
    c.begin('t1');
    c.run(1); // vote-requests delivered, votes in flight
    c.crash(0);
    c.run(20);
    c.restart(0);
    c.run(12);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.deepEqual(c.violations, []);
  });
});

describe('2PC client retries', () => {
  test('a retry the restarted coordinator does not know is answered abort, not started afresh', () => {
    const c = make();
    c.begin('t1');
    c.run(1);
    c.crash(0);
    c.restart(0);
    const retry = c.begin('t1', 0, true);
    assert.deepEqual(c.replies.get(retry), { type: 'outcome', tx: 't1', outcome: 'abort' });
    c.run(20);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.equal(c.sent.filter((s) => s.type === 'vote-request').length, 3);
  });
});

describe('2PC cooperative termination protocol', () => {
  test('a peer that knows the outcome tells the others while the coordinator is down', () => {
    const c = make();
    c.begin('t1');
    c.run(2);
    // Only participant 1 hears the decision before the coordinator fails.
    c.drop((m) => m.msg.type === 'decision' && m.to !== 1);
    c.crash(0);
    c.run(20);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.ok(c.sent.some((s) => s.from === 1 && s.type === 'decision' && s.to !== 0));
    assert.deepEqual(c.violations, []);
  });

  test('a peer that has not voted aborts unilaterally, durably, and the others abort with it', () => {
    const c = make();
    c.begin('t1');
    c.drop((m) => m.msg.type === 'vote-request' && m.to === 3);
    c.run(1);
    c.crash(0);
    c.run(20);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.deepEqual(c.disk(3), [{ type: 'outcome', tx: 't1', outcome: 'abort' }]);
    assert.deepEqual(c.violations, []);
  });

  test('every participant voted yes and none knows: all stay blocked until the coordinator returns', () => {
    const c = make();
    c.begin('t1');
    c.run(1); // every vote is yes and in flight
    c.crash(0);
    c.run(500);
    assert.deepEqual(outcomeList(c, 't1'), ['1:none', '2:none', '3:none']);
    assert.ok(c.view(1)?.participant?.every((t) => t.inDoubt));
    // They kept asking, each other too.
    assert.ok(c.sent.filter((s) => s.type === 'decision-request' && s.to !== 0).length > 10);
    c.restart(0);
    c.run(12);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
  });
});

describe('2PC mutants are caught', () => {
  test('commit-without-all-votes breaks validity', () => {
    const c = make(4, { noVoters: [3] }, ['commit-without-all-votes']);
    c.begin('t1');
    c.run(5);
    assert.match(c.violations[0] ?? '', /validity|atomicity/);
  });

  test('forget-prepared breaks atomicity', () => {
    const c = make(4, {}, ['forget-prepared']);
    c.begin('t1');
    c.run(2);
    c.crash(2);
    c.run(3);
    c.restart(2);
    assert.match(c.violations[0] ?? '', /atomicity/);
  });
});
