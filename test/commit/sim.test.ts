// The commit protocols in the simulator: the scenarios that show each
// protocol's limit, and the mutants the invariants must catch.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CommitReport } from '../../src/commit/report.js';
import { twoPhaseCommit } from '../../src/commit/two-phase/spec.js';
import { threePhaseCommit } from '../../src/commit/three-phase/spec.js';
import { paxosCommit } from '../../src/commit/paxos-commit/spec.js';
import { runSeed, type RunConfig } from '../../src/sim/run.js';
import { parseFaults } from '../../src/sim/faults.js';
import type { AnySpec } from '../../src/sim/simulation.js';

function run(spec: AnySpec, seed: number, extra: Partial<RunConfig> = {}): { result: ReturnType<typeof runSeed>; report: Record<string, unknown> } {
  const report = new CommitReport(new Set());
  const scenarioName = (extra as { scenarioName?: string }).scenarioName;
  const scenario = scenarioName === undefined ? undefined : spec.scenarios?.find((s) => s.name === scenarioName);
  const result = runSeed({
    spec, seed, nodes: 5, durationMs: 6000, faults: parseFaults('none'), mutants: new Set(), report,
    ...(scenario === undefined ? {} : { scenario }), ...extra,
  });
  const data = report.sections()[0]?.data ?? {};
  return { result, report: data as Record<string, unknown> };
}

describe('scenario coordinator-crash-after-votes', () => {
  test('2PC: the transaction stays in doubt until the coordinator returns (about 3 s), and nobody learns it meanwhile', () => {
    const { result, report } = run(twoPhaseCommit, 1, { scenarioName: 'coordinator-crash-after-votes' } as Partial<RunConfig>);
    assert.equal(result.violation, null);
    assert.equal(result.counts['crash'], 1);
    assert.ok((report['inDoubtMaxMs'] as number) >= 2900, `longest in doubt ${String(report['inDoubtMaxMs'])} ms`);
    assert.equal(report['decidedWhileDown'], 0);
    // All four participants of the struck transaction were in doubt when it went down, and stayed so until it came back.
    assert.ok((report['blockedUntilReturn'] as number) >= 4);
    assert.equal(report['blockedUntilReturn'], report['inDoubtAtOutage']);
  });

  test('Paxos Commit (F = 1): the RMs decide without the TM', () => {
    const { result, report } = run(paxosCommit, 1, { scenarioName: 'coordinator-crash-after-votes' } as Partial<RunConfig>);
    assert.equal(result.violation, null);
    assert.equal(result.counts['crash'], 1);
    assert.ok((report['inDoubtMaxMs'] as number) < 1000, `longest in doubt ${String(report['inDoubtMaxMs'])} ms`);
    assert.ok((report['decidedWhileDown'] as number) >= 1);
    assert.ok((report['inDoubtAtOutage'] as number) >= 4);
    assert.equal(report['blockedUntilReturn'], 0);
    assert.ok((result.counts['event:take-over'] ?? 0) >= 1);
  });

  test('3PC: the termination protocol decides without the coordinator', () => {
    const { result, report } = run(threePhaseCommit, 1, { scenarioName: 'coordinator-crash-after-votes' } as Partial<RunConfig>);
    assert.equal(result.violation, null);
    assert.ok((report['decidedWhileDown'] as number) >= 1);
    assert.equal(report['blockedUntilReturn'], 0);
    assert.ok((result.counts['event:termination-leader'] ?? 0) >= 1);
  });
});

describe('scenario partition-during-precommit', () => {
  test("3PC breaks atomicity under a partition (its known flaw): the simulator finds it", () => {
    const { result } = run(threePhaseCommit, 1, { scenarioName: 'partition-during-precommit' } as Partial<RunConfig>);
    assert.equal(result.violation?.invariant, 'atomicity');
  });

  for (const spec of [twoPhaseCommit, paxosCommit]) {
    test(`${spec.name} keeps atomicity under the same partition`, () => {
      const { result } = run(spec, 1, { scenarioName: 'partition-during-precommit' } as Partial<RunConfig>);
      assert.equal(result.violation, null);
    });
  }
});

describe('other scenarios hold', () => {
  const cases: [AnySpec, string][] = [
    [twoPhaseCommit, 'coordinator-crash-after-decision'], [twoPhaseCommit, 'participant-crash-prepared'],
    [paxosCommit, 'coordinator-crash-after-decision'], [paxosCommit, 'participant-crash-prepared'], [paxosCommit, 'acceptor-crash'],
    [threePhaseCommit, 'coordinator-crash-after-decision'], [threePhaseCommit, 'participant-crash-prepared'],
  ];
  for (const [spec, name] of cases) {
    test(`${spec.name} ${name}`, () => {
      const { result } = run(spec, 2, { scenarioName: name } as Partial<RunConfig>);
      assert.equal(result.violation, null, result.violation?.message);
      assert.ok((result.workload['committed'] ?? 0) > 0);
    });
  }
});

describe('mutants are caught under random faults', () => {
  const cases: [AnySpec, string][] = [
    [twoPhaseCommit, 'commit-without-all-votes'], [twoPhaseCommit, 'forget-prepared'],
    [paxosCommit, 'paxos-commit-ignore-promise'], [paxosCommit, 'forget-prepared'],
  ];
  for (const [spec, mutant] of cases) {
    test(`${spec.name} --mutant ${mutant}`, () => {
      let caught: string | null = null;
      for (let seed = 1; seed <= 10 && caught === null; seed++) {
        const r = runSeed({ spec, seed, nodes: 5, durationMs: 10_000, faults: parseFaults('all'), mutants: new Set([mutant]) });
        caught = r.violation?.invariant ?? null;
      }
      assert.ok(caught !== null && caught !== 'exception' && caught !== 'liveness', `caught by ${String(caught)}`);
    });
  }
});
