// Three-phase commit (Skeen 1981): the normal case, the termination protocol
// deciding without the coordinator, and the known flaw under partition.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildThreePcNode } from '../../src/commit/three-phase/node.js';
import type { ThreePcMessage, ThreePcWrite } from '../../src/commit/three-phase/messages.js';
import type { Cluster } from '../../src/commit/cluster.js';
import { cluster, countByType, outcomeList } from './helpers.js';

const factory = { create: buildThreePcNode, recover: buildThreePcNode };
type C = Cluster<ThreePcMessage, ThreePcWrite>;

function make(size = 4, extra: Record<string, unknown> = {}, mutants: string[] = []): C {
  return cluster(factory, { size, options: { terminationTicks: 10, voteTimeoutTicks: 10, inquiryTicks: 5, ...extra }, mutants });
}

describe('3PC normal case', () => {
  test('can-commit, vote, pre-commit, ack, do-commit: five message delays', () => {
    const c = make();
    const req = c.begin('t1');
    c.run(6);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.replies.get(req), { type: 'outcome', tx: 't1', outcome: 'commit' });
    assert.deepEqual(countByType(c), { 'can-commit': 3, vote: 3, 'pre-commit': 3, ack: 3, 'do-commit': 3 });
    assert.deepEqual(c.decided.filter((d) => d.role === 'participant').map((d) => d.depth), [5, 5, 5]);
    assert.deepEqual(c.violations, []);
  });

  test('a no vote aborts', () => {
    const c = make(4, { noVoters: [1] });
    c.begin('t1');
    c.run(4);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
  });
});

describe('3PC termination protocol (Skeen 1981)', () => {
  test('coordinator fails after the votes: the uncertain survivors abort without it (2PC would block)', () => {
    const c = make();
    c.begin('t1');
    c.run(1); // votes in flight
    c.crash(0);
    c.run(40);
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
    assert.ok(c.events.some((e) => e.event.kind === 'termination-leader' && e.node === 1));
    assert.deepEqual(c.violations, []);
  });

  test('coordinator fails after pre-commit reached one participant: the new leader pre-commits the rest and commits', () => {
    const c = make();
    c.begin('t1');
    c.run(2); // pre-commits in flight
    c.drop((m) => m.msg.type === 'pre-commit' && m.to !== 3);
    c.crash(0);
    c.run(40);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.violations, []);
  });

  test('the first termination leader fails too: the next round decides', () => {
    const c = make();
    c.begin('t1');
    c.run(3); // every participant pre-committed, acks in flight
    c.crash(0);
    c.crash(1);
    c.run(60);
    assert.deepEqual(outcomeList(c, 't1'), ['2:commit', '3:commit']);
    assert.ok(c.events.some((e) => e.event.kind === 'termination-leader' && e.node === 2));
    c.restart(1);
    c.run(10);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
    assert.deepEqual(c.violations, []);
  });

  test('a participant that fails uncertain is deemed failed (the coordinator commits on ack timeout); it recovers, asks everyone and learns', () => {
    const c = make();
    c.begin('t1');
    c.run(1); // participant 3's yes vote is on the wire
    c.crash(3);
    c.run(20);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit']);
    c.restart(3);
    assert.match(c.view(3)?.participant?.[0]?.state ?? '', /recovering/);
    c.run(10);
    assert.deepEqual(outcomeList(c, 't1'), ['1:commit', '2:commit', '3:commit']);
  });
});

describe('3PC client retries', () => {
  test('a retry the restarted coordinator does not know: it asks, and participants that never voted abort', () => {
    const c = make();
    c.begin('t1');
    c.drop((m) => m.msg.type === 'can-commit');
    c.crash(0);
    c.restart(0);
    const retry = c.begin('t1', 0, true);
    c.run(5);
    assert.deepEqual(c.replies.get(retry), { type: 'outcome', tx: 't1', outcome: 'abort' });
    assert.deepEqual(outcomeList(c, 't1'), ['1:abort', '2:abort', '3:abort']);
  });
});

describe('3PC under a network partition (its known flaw)', () => {
  test('pre-commit reaches one side only: that side commits, the other terminates with abort', () => {
    const c = make();
    c.begin('t1');
    c.run(2); // votes arrived; pre-commits in flight
    c.partition([0, 1], [2, 3]);
    c.run(80);
    const o = outcomeList(c, 't1');
    assert.ok(o.includes('1:commit') && o.includes('2:abort'), o.join(' '));
    assert.match(c.violations[0] ?? '', /atomicity/);
  });
});

describe('3PC mutants are caught', () => {
  test('commit-without-all-votes', () => {
    const c = make(4, { noVoters: [3] }, ['commit-without-all-votes']);
    c.begin('t1');
    c.run(20);
    assert.match(c.violations[0] ?? '', /validity|atomicity/);
  });
});


