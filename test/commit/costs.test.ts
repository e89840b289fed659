// Normal-case costs (Gray & Lamport, "Consensus on Transaction Commit", §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitCostTable, expectedMessages, measureCommitCost, type CostedProtocol } from '../../src/commit/costs.js';

test("Gray & Lamport's example, 5 RMs, F = 1, co-located: 2PC 12 messages, Paxos Commit 17, Faster Paxos Commit 20", () => {
  assert.equal(measureCommitCost('2pc', 5, 0).messages, 12);
  assert.equal(measureCommitCost('paxos-commit', 5, 1).messages, 17);
  assert.equal(measureCommitCost('faster-paxos-commit', 5, 1).messages, 20);
});

test('delays and forced writes: 2PC 3 and N+1, Paxos Commit 4 and N+F+1, Faster 3 and N+F+1', () => {
  for (const n of [3, 5, 10]) {
    assert.deepEqual([measureCommitCost('2pc', n, 0).delays, measureCommitCost('2pc', n, 0).forcedWrites], [3, n + 1]);
    for (const f of [1, 2]) {
      const pc = measureCommitCost('paxos-commit', n, f);
      const fast = measureCommitCost('faster-paxos-commit', n, f);
      assert.deepEqual([pc.delays, pc.forcedWrites], [4, n + f + 1]);
      assert.deepEqual([fast.delays, fast.forcedWrites], [3, n + f + 1]);
    }
  }
});

test('every measured row commits and matches its closed form', () => {
  for (const r of commitCostTable()) {
    assert.equal(r.outcome, 'commit');
    assert.equal(r.messages, expectedMessages(r.protocol as CostedProtocol, r.n, r.f ?? 0), `${r.protocol} N=${r.n} F=${String(r.f)}`);
  }
});

test('Paxos Commit with F = 0 costs what 2PC costs', () => {
  for (const n of [3, 5, 10]) {
    const pc = measureCommitCost('paxos-commit', n, 0);
    const tp = measureCommitCost('2pc', n, 0);
    assert.deepEqual([pc.messages, pc.delays, pc.forcedWrites], [tp.messages, tp.delays, tp.forcedWrites]);
  }
});
