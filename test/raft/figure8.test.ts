// Raft §5.4.2 (Figure 8) in the simulator: the scenario 'figure-8' drives the
// history of the figure, correct Raft commits a new leader's log only with its
// no-op, and the mutant 'commit-old-term' commits the earlier term's tail
// before it (test/sim/mutants.test.ts replays the seed where that is caught).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { raftSpec } from '../../src/raft/sim.js';
import { runSeed, type RunResult } from '../../src/sim/run.js';
import type { TraceEvent } from '../../src/sim/trace.js';

const scenario = raftSpec.scenarios?.find((s) => s.name === 'figure-8');

function run(seed: number, mutants: readonly string[]): { result: RunResult; events: TraceEvent[] } {
  assert.ok(scenario !== undefined);
  const events: TraceEvent[] = [];
  const result = runSeed({ spec: raftSpec, seed, nodes: 5, durationMs: 5000, faults: new Set(), mutants: new Set(mutants), scenario, trace: (e) => void events.push(e) });
  return { result, events };
}

type Protocol = Extract<TraceEvent, { type: 'protocol' }>;
const protocol = (events: readonly TraceEvent[], kind: string): Protocol[] => events.filter((e): e is Protocol => e.type === 'protocol' && e.event.kind === kind);

/** For each election: the winner, its term, its no-op's index and the first index it committed in that term. */
function firstCommits(events: readonly TraceEvent[]): { node: number; term: number; noop: number; first: number | null }[] {
  return protocol(events, 'election-won').map((w) => {
    const term = Number(w.event.detail?.['term']);
    const noop = Number(w.event.detail?.['lastIndex']) + 1;
    const c = protocol(events, 'commit').find((e) => e.node === w.node && e.i >= w.i && Number(e.event.detail?.['term']) === term);
    return { node: w.node, term, noop, first: c === undefined ? null : Number(c.event.detail?.['index']) };
  });
}

describe('Raft §5.4.2 under the scenario figure-8', () => {
  test('the schedule drives Figure 8: a successor cut off before its no-op leaves, the old leader elected again above it', () => {
    const { result, events } = run(9, []);
    assert.equal(result.violation, null, result.violation?.message);
    const won = protocol(events, 'election-won');
    // (b): some elected leaders never got an AppendEntries of their term through (all dropped by the partition).
    const sends = events.filter((e): e is Extract<TraceEvent, { type: 'send' }> => e.type === 'send' && (e.msg as { type: string }).type === 'AppendEntries');
    const delivered = new Set(events.filter((e) => e.type === 'deliver').map((e) => (e as { id: number }).id));
    const silenced = won.filter((w) => {
      const term = Number(w.event.detail?.['term']);
      const mine = sends.filter((s) => s.from === w.node && (s.msg as { term: number }).term === term);
      return mine.length > 0 && mine.every((s) => !delivered.has(s.id));
    });
    assert.ok(silenced.length >= 2, `successors cut off before their no-op left: ${silenced.length}`);
    // (c): the next leader after such a successor is another node, of a later term, whose log reaches past the
    // successor's no-op: it holds a conflicting tail of an earlier term there (Figure 8 (c)).
    const regained = silenced.filter((x) => {
      const next = won.find((w) => w.i > x.i);
      return next !== undefined && next.node !== x.node && Number(next.event.detail?.['lastIndex']) > Number(x.event.detail?.['lastIndex']);
    });
    assert.ok(regained.length >= 1, `old leaders elected again over a silenced successor: ${regained.length}`);
  });

  test('correct Raft: every new leader commits first at or beyond its no-op', () => {
    const { result, events } = run(9, []);
    assert.equal(result.violation, null);
    const commits = firstCommits(events).filter((c) => c.first !== null);
    assert.ok(commits.length >= 3, `leaders that committed: ${commits.length}`);
    for (const c of commits) assert.ok((c.first as number) >= c.noop, `leader ${c.node} of term ${c.term} committed ${String(c.first)} before its no-op at ${c.noop}`);
  });

  test("mutant 'commit-old-term': a leader commits its earlier-term tail before its no-op, and a later leader lacks it", () => {
    const { result, events } = run(9, ['commit-old-term']);
    const early = firstCommits(events).filter((c) => c.first !== null && c.first < c.noop);
    assert.ok(early.length >= 1, 'a commit of an earlier term entry by counting replicas');
    assert.ok(result.violation !== null);
    assert.equal(result.violation.invariant, 'leader-completeness', result.violation.message);
  });
});
