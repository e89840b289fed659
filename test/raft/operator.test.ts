// Raft §6 / thesis §4 membership changes and thesis §3.10 leadership transfer
// driven in the simulator by the operator (src/raft/operator.ts): `--faults
// reconfigure,transfer`, part of `--faults all`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { raftSpec } from '../../src/raft/sim.js';
import { FAULT_NAMES, parseFaults } from '../../src/sim/faults.js';
import { findProtocol } from '../../src/sim/registry.js';
import { createRun, runSeed, type RunResult } from '../../src/sim/run.js';
import { RunSummary } from '../../src/sim/summary.js';
import type { TraceEvent } from '../../src/sim/trace.js';

function run(seed: number, faults: string, durationMs = 4000, trace?: (e: TraceEvent) => void): RunResult {
  return runSeed({ spec: raftSpec, seed, nodes: 5, durationMs, faults: parseFaults(faults), mutants: new Set(), livenessMs: 10_000, ...(trace === undefined ? {} : { trace }) });
}

const count = (r: RunResult, key: string): number => r.counts[`operator:${key}`] ?? 0;

describe('Raft §6 / thesis §4 membership changes by the operator', () => {
  test('single-server and joint changes commit; the run ends with every node a voter; safety holds', () => {
    let committed = 0;
    let joint = 0;
    for (const seed of [1, 2, 3]) {
      const events: TraceEvent[] = [];
      const r = run(seed, 'reconfigure,crash,partition', 4000, (e) => {
        if (e.type === 'protocol' || e.type === 'phase') events.push(e);
      });
      assert.equal(r.violation, null, r.violation?.message);
      committed += count(r, 'membership-committed');
      joint += count(r, 'membership-joint-committed');
      // The last configuration applied anywhere has all five nodes as voters.
      const applied = events.filter((e): e is Extract<TraceEvent, { type: 'protocol' }> => e.type === 'protocol' && e.event.kind === 'membership-applied');
      const last = applied.reduce((a, b) => (Number(b.event.detail?.['index']) > Number(a.event.detail?.['index']) ? b : a));
      assert.deepEqual(last.event.detail?.['voters'], [0, 1, 2, 3, 4], `seed ${seed}`);
      assert.deepEqual(last.event.detail?.['learners'], []);
      // Removals and demotions happened: some configuration lacked a voter.
      assert.ok(applied.some((e) => (e.event.detail?.['voters'] as number[]).length < 5), `seed ${seed}: a voter was removed or demoted`);
      // No change starts in the liveness phase: only restoring ones (add a learner, promote).
      const liveness = events.findIndex((e) => e.type === 'phase' && e.phase === 'liveness');
      for (const e of events.slice(liveness)) {
        if (e.type !== 'protocol' || e.event.kind !== 'conf-change-proposed') continue;
        for (const op of e.event.detail?.['ops'] as { type: string }[]) assert.notEqual(op.type, 'remove', 'no removal while settling');
      }
    }
    assert.ok(committed >= 10, `membership changes committed: ${committed}`);
    assert.ok(joint >= 2, `joint changes committed: ${joint}`);
  });

  test('a node out of the configuration when the liveness phase begins is added back and promoted', () => {
    const { sim, start, stopFaults, operator } = createRun({ spec: raftSpec, seed: 4, nodes: 5, durationMs: 10_000, faults: parseFaults('reconfigure'), mutants: new Set() });
    assert.ok(operator !== null);
    start();
    const leaderVoters = (): number[] | null => {
      const leaders = sim.views().filter((v) => v.role === 'leader').sort((a, b) => Number(b['term']) - Number(a['term']));
      return (leaders[0]?.['voters'] as number[] | undefined) ?? null;
    };
    // Run the safety phase until the leader's configuration lacks a voter, then begin the liveness phase there.
    sim.runUntil(10_000, () => (leaderVoters()?.length ?? 5) < 5);
    assert.ok((leaderVoters()?.length ?? 5) < 5, 'a voter was removed or demoted');
    assert.notEqual(operator.unsettled(), null, 'the operator knows the cluster is not in its full shape');
    stopFaults();
    sim.healAll();
    const from = sim.now();
    sim.runUntil(from + 5000, () => operator.unsettled() === null);
    assert.equal(sim.violation, null, sim.violation?.message);
    assert.equal(operator.unsettled(), null, 'back to five voters');
    assert.deepEqual(leaderVoters(), [0, 1, 2, 3, 4]);
  });
});

describe('thesis §3.10 leadership transfer by the operator', () => {
  test('transfers are requested and completed: the target leads the next term', () => {
    let completed = 0;
    let requested = 0;
    for (const seed of [1, 2, 3]) {
      const leaders: { node: number; term: number }[] = [];
      const r = run(seed, 'transfer', 4000, (e) => {
        if (e.type === 'protocol' && e.event.kind === 'election-won') leaders.push({ node: e.node, term: Number(e.event.detail?.['term']) });
      });
      assert.equal(r.violation, null, r.violation?.message);
      requested += count(r, 'transfer-requested');
      completed += count(r, 'transfer-completed');
      assert.ok((r.counts['event:transfer-timeout-now'] ?? 0) > 0, `seed ${seed}: TimeoutNow sent`);
      // Without other faults, elections are transfers: several leaders.
      assert.ok(new Set(leaders.map((l) => l.node)).size >= 2, `seed ${seed}: leadership moved`);
    }
    assert.ok(requested >= 3 && completed >= 3, `transfers requested ${requested}, completed ${completed}`);
  });
});

describe('the operator in the fault vocabulary', () => {
  test("'all' names reconfigure and transfer; they are parsed like other faults", () => {
    assert.ok(FAULT_NAMES.includes('reconfigure') && FAULT_NAMES.includes('transfer'));
    assert.ok(parseFaults('all').has('reconfigure'));
    assert.deepEqual([...parseFaults('transfer,crash')].sort(), ['crash', 'transfer']);
  });

  test('without them there is no operator activity; the same seed gives the same run', () => {
    const quiet = run(7, 'crash', 2000);
    assert.equal(Object.keys(quiet.counts).filter((k) => k.startsWith('operator:')).length, 0);
    const a = run(7, 'all', 3000);
    const b = run(7, 'all', 3000);
    assert.deepEqual(a.counts, b.counts);
    assert.equal(a.events, b.events);
  });

  test('protocols without an operator ignore them', () => {
    const spec = findProtocol('multipaxos');
    assert.ok(spec !== undefined);
    const r = runSeed({ spec, seed: 3, nodes: 3, durationMs: 1500, faults: parseFaults('reconfigure,transfer'), mutants: new Set() });
    assert.equal(r.violation, null);
    assert.equal(Object.keys(r.counts).filter((k) => k.startsWith('operator:')).length, 0);
  });

  test('the summary shows the operator counts', () => {
    const s = new RunSummary('raft');
    s.add(run(2, 'reconfigure,transfer', 3000));
    const text = s.format(1000);
    assert.match(text, /^operator: .*membership-committed \d+/m);
    assert.match(text, /transfer-requested \d+/);
  });
});
