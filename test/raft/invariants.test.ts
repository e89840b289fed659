// Raft Figure 3's properties as simulator invariants: each one fires on a
// history that breaks it, and stays quiet on a healthy cluster. Then Raft in
// the simulator: a short run under all faults is clean, and mutants are caught.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { electionSafety, leaderAppendOnly, logMatching, commitSafety, raftInvariants } from '../../src/raft/invariants.js';
import { raftSpec } from '../../src/raft/sim.js';
import { runSeed } from '../../src/sim/run.js';
import { parseFaults } from '../../src/sim/faults.js';
import type { NodeView } from '../../src/sim/protocol.js';
import { NodeId } from '../../src/core/ids.js';
import { Net, ids } from './harness.js';

function view(id: number, role: string, term: number, terms: number[], commit = 0, hashes?: number[]): NodeView {
  return { id: NodeId(id), role, term, commit, lastIndex: terms.length, logStart: 1, logTerms: terms, logHashes: hashes ?? terms.map((t, i) => t * 1000 + i) };
}

describe('Raft Figure 3 invariants', () => {
  test('Election Safety: two leaders of one term, even at different times', () => {
    const inv = electionSafety();
    assert.equal(inv.check([view(1, 'leader', 2, [1])], 0), null);
    assert.match(inv.check([view(2, 'leader', 2, [1])], 1) ?? '', /both leader in term 2/);
  });

  test('Leader Append-Only: a leader that changes an entry of its log', () => {
    const inv = leaderAppendOnly();
    assert.equal(inv.check([view(1, 'leader', 2, [1, 2])], 0), null);
    assert.equal(inv.check([view(1, 'leader', 2, [1, 2, 2])], 1), null);
    assert.match(inv.check([view(1, 'leader', 2, [1, 2, 2], 0, [1000, 9, 2002])], 2) ?? '', /changed its entry at 2/);
  });

  test('Log Matching: same index and term, different history below', () => {
    const inv = logMatching();
    assert.equal(inv.check([view(1, 'follower', 3, [1, 2, 3]), view(2, 'follower', 3, [1, 2])], 0), null);
    const bad = view(2, 'follower', 3, [1, 2, 3], 0, [1000, 7, 3002]);
    assert.match(inv.check([view(1, 'follower', 3, [1, 2, 3]), bad], 1) ?? '', /differ at 2/);
  });

  test('State Machine Safety and Leader Completeness', () => {
    const [sms, lc] = commitSafety() as [ReturnType<typeof electionSafety>, ReturnType<typeof electionSafety>];
    assert.equal(sms.check([view(1, 'follower', 2, [1, 2], 2)], 0), null);
    assert.match(sms.check([view(2, 'follower', 3, [1, 3], 2)], 1) ?? '', /committed different entries at index 2/);
    assert.match(lc.check([view(3, 'leader', 4, [1], 1)], 2) ?? '', /lacks committed entry 2/);
  });

  test('a healthy cluster under partitions and crashes keeps every invariant', () => {
    const invs = raftInvariants();
    const net = new Net(ids(1, 2, 3, 4, 5), {}, 11);
    let event = 0;
    const check = (): void => {
      const views = [...net.nodes.entries()].filter(([id]) => !net.down.has(id)).map(([, n]) => n.view());
      for (const inv of invs) assert.equal(inv.check(views, event++), null, inv.name);
    };
    for (let step = 0; step < 300; step++) {
      const leader = net.leaders()[0];
      if (leader !== undefined && step % 3 === 0) net.node(leader).propose(`v${step}`);
      if (step === 60) net.partition([1, 2], [3, 4, 5]);
      if (step === 120) net.heal();
      if (step === 150 && leader !== undefined) net.crash(leader);
      if (step === 200) for (const id of [...net.down]) net.restart(id);
      net.tickAll();
      check();
    }
    assert.ok(net.leaders().length === 1);
  });
});

describe('Raft in the simulator', () => {
  const base = { spec: raftSpec, nodes: 5, durationMs: 3000, faults: parseFaults('all'), livenessMs: 10_000 };

  test('a run under all faults has no violation', () => {
    const r = runSeed({ ...base, seed: 3, mutants: new Set() });
    assert.equal(r.violation, null, r.violation?.message);
  });

  test("mutant 'double-vote' is caught", () => {
    const r = runSeed({ ...base, seed: 5, mutants: new Set(['double-vote']) });
    assert.ok(r.violation !== null);
  });
});
