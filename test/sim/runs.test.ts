// Whole runs: determinism of the trace, the liveness phase, violation reports,
// and the reference protocol (honest passes under all faults, mutants caught).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_NAMES, parseFaults } from '../../src/sim/faults.js';
import { registerSpec } from '../../src/sim/reference/spec.js';
import { runSeed, type RunConfig } from '../../src/sim/run.js';
import { parseTrace, traceToJsonLines, TraceRecorder, type TraceEvent } from '../../src/sim/trace.js';
import { probeSpec } from './fixtures.js';

const ALL = new Set(FAULT_NAMES);

function traced(config: Omit<RunConfig, 'trace'>): { text: string; events: TraceEvent[]; result: ReturnType<typeof runSeed> } {
  const rec = new TraceRecorder();
  const result = runSeed({ ...config, trace: rec.sink });
  return { text: traceToJsonLines(rec.events), events: rec.events, result };
}

describe('determinism', () => {
  test('the same seed gives the same trace byte for byte; different seeds differ', () => {
    const base = { spec: registerSpec, nodes: 5, durationMs: 2000, faults: ALL, mutants: new Set<string>(), livenessMs: 5000 };
    const texts: string[] = [];
    for (const seed of [1, 2, 77, 1234, 987654321]) {
      const a = traced({ ...base, seed });
      const b = traced({ ...base, seed });
      assert.ok(a.text.length > 10_000, 'a real trace');
      assert.equal(a.text, b.text, `seed ${seed} replays identically`);
      assert.equal(a.result.events, b.result.events);
      texts.push(a.text);
    }
    assert.equal(new Set(texts).size, texts.length, 'every seed gives its own run');
  });

  test('JSON Lines parse back to the same events', () => {
    const { text, events } = traced({ spec: registerSpec, seed: 5, nodes: 3, durationMs: 1000, faults: ALL, mutants: new Set(), livenessMs: 5000 });
    const parsed = parseTrace(text);
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(events)));
    const kinds = new Set(parsed.map((e) => e.type));
    for (const k of ['send', 'deliver', 'tick', 'persist', 'synced', 'protocol', 'request', 'reply', 'invoke', 'complete', 'phase']) assert.ok(kinds.has(k as TraceEvent['type']), `trace has ${k}`);
    assert.throws(() => parseTrace('{"type":"bogus","i":1,"t":0}\n'), /unknown event type/);
    assert.throws(() => parseTrace('not json\n'), /line 1: not JSON/);
  });
});

describe('liveness phase', () => {
  test('a protocol that never makes progress fails with a liveness violation', () => {
    const r = runSeed({ spec: probeSpec({ name: 'dead' }), seed: 3, nodes: 3, durationMs: 1000, faults: ALL, mutants: new Set(), livenessMs: 3000, livenessOps: 5 });
    assert.ok(r.violation !== null);
    assert.equal(r.violation.invariant, 'liveness');
    assert.match(r.violation.message, /0 of 5 client operations completed within 3s/);
    assert.equal(r.simulatedMs, 4000);
  });

  test('the liveness phase heals everything: the reference protocol recovers from a crash loop scenario', () => {
    const spec = registerSpec;
    const scenario = (spec.scenarios ?? []).find((s) => s.name === 'leader-crash-loop');
    assert.ok(scenario !== undefined);
    const r = runSeed({ spec, seed: 11, nodes: 3, durationMs: 5000, faults: ALL, mutants: new Set(), scenario });
    assert.equal(r.violation, null);
    assert.ok((r.counts['crash'] ?? 0) >= 3, `scenario crashed leaders (${r.counts['crash']})`);
  });
});

describe('scenarios', () => {
  test('leader-isolated cuts off exactly the leader at 1 s and heals at 3 s', () => {
    const scenario = (registerSpec.scenarios ?? []).find((s) => s.name === 'leader-isolated');
    assert.ok(scenario !== undefined);
    const { events, result } = traced({ spec: registerSpec, seed: 4, nodes: 5, durationMs: 4000, faults: ALL, mutants: new Set(), scenario });
    assert.equal(result.violation, null);
    const cut = events.find((e) => e.type === 'partition');
    assert.ok(cut !== undefined && cut.type === 'partition' && cut.t === 1000 && cut.shape === 'groups');
    const leaderAt1s = events.filter((e) => e.type === 'protocol' && e.event.kind === 'elected' && e.t < 1000).pop();
    assert.ok(leaderAt1s !== undefined && leaderAt1s.type === 'protocol');
    const isolated = leaderAt1s.node;
    assert.equal(cut.blocked.length, 8);
    assert.ok(cut.blocked.every(([a, b]) => a === isolated || b === isolated));
    assert.ok(events.some((e) => e.type === 'heal' && e.t === 3000));
    assert.ok(!events.some((e) => ['crash', 'pause'].includes(e.type)), 'no random faults beside the script');
  });
});

describe('violation reports', () => {
  test('an invariant violation stops the run with seed, event, invariant and a replay command', () => {
    const spec = probeSpec({ name: 'ticker', invariantAfterTicks: 30 });
    const config: RunConfig = { spec, seed: 42, nodes: 3, durationMs: 2000, faults: parseFaults('crash,pause'), mutants: new Set() };
    const r = runSeed(config);
    assert.ok(r.violation !== null);
    assert.equal(r.violation.invariant, 'tick-limit');
    assert.equal(r.violation.seed, 42);
    assert.ok(r.violation.event > 0);
    assert.ok(r.violation.timeMs < 400);
    assert.equal(r.violation.replay, 'synod sim --protocol ticker --seed 42 --nodes 3 --faults crash,pause --duration 2s');
    const again = runSeed(config);
    assert.deepEqual(again.violation, r.violation, 'the replay stops at the same event');
  });
});

describe('reference protocol (register)', () => {
  test('passes many seeds with all faults', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = runSeed({ spec: registerSpec, seed, nodes: 5, durationMs: 4000, faults: ALL, mutants: new Set() });
      assert.equal(r.violation, null, `seed ${seed}: ${r.violation?.invariant}: ${r.violation?.message}`);
      assert.ok((r.workload['ok'] ?? 0) > 50, `seed ${seed} did work`);
      assert.ok(r.verdicts.some((v) => v.check === 'linearizability' && v.result === 'ok'));
    }
  });

  const expected: Record<string, string> = { 'ack-before-quorum': 'linearizability', 'stale-read': 'linearizability', 'unsafe-vote': 'commit-agreement' };
  for (const [mutant, check] of Object.entries(expected)) {
    test(`mutant ${mutant} is caught (${check})`, () => {
      for (let seed = 1; seed <= 100; seed++) {
        const r = runSeed({ spec: registerSpec, seed, nodes: 5, durationMs: 5000, faults: ALL, mutants: new Set([mutant]) });
        if (r.violation === null) continue;
        assert.equal(r.violation.invariant, check, r.violation.message);
        assert.match(r.violation.replay, new RegExp(`--mutant ${mutant}`));
        return;
      }
      assert.fail(`mutant ${mutant} survived 100 seeds`);
    });
  }
});

describe('exceptions', () => {
  test('a protocol that throws (here: in create) ends the run with an exception violation, not a crash of the simulator', () => {
    const spec = { ...probeSpec({ name: 'thrower' }), create: () => { throw new RangeError('bad option x'); } };
    const r = runSeed({ spec, seed: 1, nodes: 3, durationMs: 1000, faults: ALL, mutants: new Set() });
    assert.ok(r.violation !== null);
    assert.equal(r.violation.invariant, 'exception');
    assert.match(r.violation.message, /^RangeError: bad option x\n\s*at /);
  });
});
