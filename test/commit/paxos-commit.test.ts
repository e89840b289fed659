// Paxos Commit (Gray & Lamport 2006): the normal case (§4.1), a TM that
// fails (§4.1, "the leader"), a silent RM, a failed acceptor, the reduction
// to 2PC with F = 0 (§5), and the mutant the instance invariant must catch.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildPaxosCommitNode } from '../../src/commit/paxos-commit/node.js';
import { paxosCommitInvariants } from '../../src/commit/paxos-commit/spec.js';
import type { PaxosCommitMessage, PaxosCommitWrite } from '../../src/commit/paxos-commit/messages.js';
import { buildTwoPcNode } from '../../src/commit/two-phase/node.js';
import { Cluster } from '../../src/commit/cluster.js';
import { countByType, outcomeList } from './helpers.js';

const factory = { create: buildPaxosCommitNode, recover: buildPaxosCommitNode };
type C = Cluster<PaxosCommitMessage, PaxosCommitWrite>;

function make(size = 4, extra: Record<string, unknown> = {}, mutants: string[] = [], seed = 1): C {
  return new Cluster(factory, {
    size, seed, mutants, invariants: paxosCommitInvariants(),
    options: { noProbability: 0, faultTolerance: 1, inquiryTicks: 5, leaderTimeoutTicks: 10, ...extra },
  });
}

describe('Paxos Commit normal case (§4.1)', () => {
  test('RMs propose prepared at ballot 0 to F+1 acceptors; the TM learns and decides', () => {
    const c = make();
    const req = c.begin('t1');
    c.run(8);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.replies.get(req), { type: 'outcome', tx: 't1', outcome: 'commit' });
    // Acceptors on nodes 0, 1, 2; accepts go to 0 and 1 (1's own is local); one remote accepted (1 -> TM).
    assert.deepEqual(countByType(c), { 'vote-request': 3, accept: 5, accepted: 1, decision: 3 });
    assert.deepEqual(c.decided.filter((d) => d.role === 'participant').map((d) => d.depth), [4, 4, 4]);
    // Forced: 3 RM votes + 2 acceptor records (one per acceptor, bundled); lazy: 3 RM outcomes.
    assert.equal(c.forcedWrites, 5);
    assert.deepEqual(c.violations, []);
  });

  test('an RM that votes aborted makes the transaction abort', () => {
    const c = make(4, { noVoters: [2] });
    c.begin('t1');
    c.run(8);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.deepEqual(c.violations, []);
  });

  test('Faster Paxos Commit: the acceptors tell the RMs directly, one message delay sooner', () => {
    const c = make(4, { faster: true });
    c.begin('t1');
    c.run(8);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.equal(countByType(c)['decision'], undefined);
    assert.deepEqual(c.decided.filter((d) => d.role === 'participant').map((d) => d.depth), [3, 3, 3]);
    assert.deepEqual(c.violations, []);
  });
});

describe('Paxos Commit with failures (§4.1, §4.2)', () => {
  test('F = 1: the TM crashes after the votes, and the RMs decide without it', () => {
    const c = make(5);
    c.begin('t1');
    c.run(2); // accepts delivered; accepted on its way to the dead TM
    c.crash(0);
    assert.ok(c.runUntil(() => outcomeList(c, 't1').every((o) => o.endsWith(':commit')), 200));
    assert.ok(c.events.some((e) => e.event.kind === 'take-over' && e.node !== 0));
    assert.deepEqual(c.violations, []);
  });

  test('F = 1: the TM crashes before the votes reach any acceptor: a new leader aborts', () => {
    const c = make(5);
    c.begin('t1');
    c.run(1);
    c.drop((m) => m.msg.type === 'accept');
    c.crash(0);
    assert.ok(c.runUntil(() => outcomeList(c, 't1').every((o) => o.endsWith(':abort')), 200));
    assert.deepEqual(c.violations, []);
  });

  test('an RM that stays silent: the leader proposes aborted for it at a higher ballot', () => {
    const c = make();
    c.begin('t1');
    c.drop((m) => m.msg.type === 'vote-request' && m.to === 3);
    c.run(30);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:none']);
    assert.ok(c.sent.some((s) => s.type === 'prepare' && s.from === 0));
    assert.deepEqual(c.violations, []);
  });

  test('an acceptor misses the ballot-0 accepts: the TM completes at a higher ballot with the others', () => {
    const c = make();
    c.begin('t1');
    c.run(1);
    assert.equal(c.drop((m) => m.msg.type === 'accept' && m.to === 1), 2);
    c.run(40);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.ok(c.sent.some((s) => s.type === 'prepare' && s.from === 0));
    assert.deepEqual(c.violations, []);
  });

  test('the TM restarts without state and, asked by an RM, finishes the transaction (no presumption needed)', () => {
    const c = make(5, { inquiryTicks: 50 });
    c.begin('t1');
    c.run(2);
    c.crash(0);
    c.restart(0);
    c.run(60);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit', '4:commit']);
  });
});

describe('Paxos Commit client retries', () => {
  test('a retry the restarted TM does not know makes it take over and answer what was chosen', () => {
    const c = make(5, { inquiryTicks: 500 });
    c.begin('t1');
    c.run(2); // the RMs' accepts reached the acceptors
    c.crash(0);
    c.restart(0);
    const retry = c.begin('t1', 0, true);
    c.run(30);
    assert.deepEqual(c.replies.get(retry), { type: 'outcome', tx: 't1', outcome: 'commit' });
    assert.deepEqual(c.violations, []);
  });
});

describe('Paxos Commit with F = 0 is 2PC (§5)', () => {
  const pcCluster = (seed: number, extra: Record<string, unknown>) =>
    new Cluster(factory, { size: 4, seed, options: { faultTolerance: 0, ...extra }, invariants: paxosCommitInvariants() });
  const twoPc = (seed: number, extra: Record<string, unknown>) =>
    new Cluster({ create: buildTwoPcNode, recover: buildTwoPcNode }, { size: 4, seed, options: extra });
  // 2PC's words for the same messages: accept (phase 2a to the one acceptor, the TM) is the vote.
  const as2pc: Record<string, string> = { 'vote-request': 'vote-request', accept: 'vote', decision: 'decision' };

  for (const [name, extra] of [['all vote yes', { noProbability: 0 }], ['one votes no', { noProbability: 0, noVoters: [2] }]] as const) {
    test(`${name}: same messages, same delays, same outcome`, () => {
      const pc = pcCluster(7, extra);
      const tp = twoPc(7, extra);
      pc.begin('t1');
      tp.begin('t1');
      pc.run(10);
      tp.run(10);
      const pattern = (c: { sent: readonly { from: number; to: number; type: string; depth: number }[] }, map: (t: string) => string) =>
        c.sent.map((s) => `${s.from}->${s.to} ${map(s.type)} @${s.depth}`).sort();
      assert.deepEqual(pattern(pc, (t) => as2pc[t] ?? t), pattern(tp, (t) => t));
      assert.deepEqual(outcomeList(pc, 't1'), outcomeList(tp, 't1'));
      assert.deepEqual(pc.violations, []);
    });
  }
});

describe('Paxos Commit mutants are caught', () => {
  test('paxos-commit-ignore-promise: a new leader overrides a chosen prepared', () => {
    const c = make(5, {}, ['paxos-commit-ignore-promise']);
    c.begin('t1');
    c.run(3); // the TM has decided commit; decisions on the wire
    c.drop((m) => m.msg.type === 'decision');
    c.crash(0);
    c.run(100);
    assert.match(c.violations[0] ?? '', /chosen-once|atomicity/);
  });

  test('forget-prepared', () => {
    const c = make(5, {}, ['forget-prepared']);
    c.begin('t1');
    c.run(2);
    c.crash(3);
    c.run(5);
    c.restart(3);
    c.run(5);
    assert.match(c.violations[0] ?? '', /atomicity/);
  });
});
