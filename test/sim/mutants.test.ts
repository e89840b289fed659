// Proof that the simulator's checks can fail: for a few (protocol, mutant,
// seed) triples found by sweeping seeds 1..500 (docs/simulator.md, "Catching
// the mutants"; raft's commit-old-term with its scenario figure-8:
// docs/raft.md), the run reports a violation, and the same seed without the
// mutant is clean. Also: the faults that follow protocol activity (reboot,
// role-partition, role-crash), protocol options, and the KV view cache.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId } from '../../src/core/ids.js';
import { raftSpec } from '../../src/raft/sim.js';
import { FAULT_NAMES, parseFaults } from '../../src/sim/faults.js';
import { checkProtocolOptions } from '../../src/sim/option-check.js';
import { OptionError, parseProtocolOptions } from '../../src/sim/options.js';
import { findProtocol } from '../../src/sim/registry.js';
import { replayCommand, runSeed } from '../../src/sim/run.js';
import { Simulation } from '../../src/sim/simulation.js';
import type { TraceEvent } from '../../src/sim/trace.js';

const ALL = new Set(FAULT_NAMES);

/** (protocol, mutant, first catching seed with --duration 5s and all faults), from the sweeps. */
const CAUGHT: readonly (readonly [string, string, number, string])[] = [
  ['raft', 'double-vote', 1, 'election-safety'],
  ['raft', 'skip-log-check', 10, 'log-matching'],
  ['raft', 'forget-vote', 92, 'election-safety'],
  ['raft', 'stale-read', 6, 'linearizability'],
  ['paxos', 'forget-promise', 1, 'promises-never-decrease'],
  ['multipaxos', 'forget-promise', 1, 'promises-never-decrease'],
  ['2pc', 'forget-prepared', 1, 'atomicity'],
  ['paxos-commit', 'forget-prepared', 1, 'atomicity'],
];

function run(protocol: string, seed: number, mutants: readonly string[]): ReturnType<typeof runSeed> {
  const spec = findProtocol(protocol);
  assert.ok(spec !== undefined, protocol);
  return runSeed({ spec, seed, nodes: 5, durationMs: 5000, faults: ALL, mutants: new Set(mutants) });
}

describe('mutants are caught on fixed seeds; the same seeds are clean without them', () => {
  for (const [protocol, mutant, seed, invariant] of CAUGHT) {
    test(`${protocol} ${mutant}: seed ${seed} is caught by ${invariant}`, () => {
      const bad = run(protocol, seed, [mutant]);
      assert.ok(bad.violation !== null, `${mutant} not caught on seed ${seed}`);
      assert.equal(bad.violation.invariant, invariant, bad.violation.message);
      assert.match(bad.violation.replay, new RegExp(`--seed ${seed} .*--mutant ${mutant}`));
      const good = run(protocol, seed, []);
      assert.equal(good.violation, null, good.violation?.message);
    });
  }
});

describe('multipaxos transfer-keeps-lease: caught by linearizability with lease reads and leadership transfers', () => {
  // Found by sweeping seeds 1..200 with --faults all --option leaseReads=true (docs/simulator.md).
  const runIt = (mutants: readonly string[]): ReturnType<typeof runSeed> => {
    const spec = findProtocol('multipaxos');
    assert.ok(spec !== undefined);
    return runSeed({ spec, seed: 12, nodes: 5, durationMs: 5000, faults: ALL, mutants: new Set(mutants), options: { leaseReads: true } });
  };
  test('seed 12 is caught; the same seed is clean without the mutant', () => {
    const bad = runIt(['transfer-keeps-lease']);
    assert.ok(bad.violation !== null, 'transfer-keeps-lease not caught on seed 12');
    assert.equal(bad.violation.invariant, 'linearizability', bad.violation.message);
    assert.match(bad.violation.replay, /--seed 12 .*--mutant transfer-keeps-lease --option leaseReads=true/);
    const good = runIt([]);
    assert.equal(good.violation, null, good.violation?.message);
  });
});

/** (mutant, scenario, first catching seed in 1..500 with --duration 5s), from the sweeps (docs/raft.md). */
const CAUGHT_BY_SCENARIO: readonly (readonly [string, string, number, string])[] = [
  // Raft §5.4.2 Figure 8: the leader commits its tail of an earlier term; the next leader lacks it.
  ['commit-old-term', 'figure-8', 9, 'leader-completeness'],
];

describe('mutants caught by a targeted scenario; the same seeds are clean without them', () => {
  for (const [mutant, name, seed, invariant] of CAUGHT_BY_SCENARIO) {
    test(`raft ${mutant}: --scenario ${name} seed ${seed} is caught by ${invariant}`, () => {
      const scenario = raftSpec.scenarios?.find((s) => s.name === name);
      assert.ok(scenario !== undefined, name);
      const runIt = (mutants: readonly string[]): ReturnType<typeof runSeed> => runSeed({ spec: raftSpec, seed, nodes: 5, durationMs: 5000, faults: ALL, mutants: new Set(mutants), scenario });
      const bad = runIt([mutant]);
      assert.ok(bad.violation !== null, `${mutant} not caught on seed ${seed}`);
      assert.equal(bad.violation.invariant, invariant, bad.violation.message);
      assert.match(bad.violation.replay, new RegExp(`--seed ${seed} .*--mutant ${mutant} --scenario ${name}`));
      const good = runIt([]);
      assert.equal(good.violation, null, good.violation?.message);
    });
  }
});

function traceOf(seed: number, faults: string, durationMs: number): TraceEvent[] {
  const events: TraceEvent[] = [];
  runSeed({ spec: raftSpec, seed, nodes: 5, durationMs, faults: parseFaults(faults), mutants: new Set(), livenessMs: 5000, trace: (e) => void events.push(e) });
  return events;
}

describe('faults that follow protocol activity', () => {
  test('reboot: a crash at the instant a write of that node became durable (an event of its own), a restart within 2 ms', () => {
    let reboots = 0;
    for (const seed of [1, 2, 3]) {
      const events = traceOf(seed, 'reboot', 3000);
      const crashes = events.filter((e): e is Extract<TraceEvent, { type: 'crash' }> => e.type === 'crash');
      for (const c of crashes) {
        const synced = events.find((e) => e.type === 'synced' && e.node === c.node && e.t === c.t && e.i < c.i);
        assert.ok(synced !== undefined, `crash of node ${c.node} at ${c.t} follows a durable write at the same instant`);
        const restart = events.find((e) => e.type === 'restart' && e.node === c.node && e.t >= c.t);
        assert.ok(restart !== undefined && restart.t - c.t <= 2, 'restarted within 2 ms');
      }
      reboots += crashes.length;
    }
    assert.ok(reboots >= 3, `reboots happened (${reboots})`);
  });

  test('role-partition and role-crash act within 40 ms of a role change of the node they hit', () => {
    let total = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const events = traceOf(seed, 'role-partition,role-crash', 3000);
      const roleChanges = events.filter((e) => e.type === 'protocol' && e.event.kind === 'role-change');
      const hits = events.filter((e) => e.type === 'partition' || e.type === 'crash');
      for (const h of hits) {
        const near = roleChanges.some((r) => r.t <= h.t && h.t - r.t <= 40.001);
        assert.ok(near, `${h.type} at ${h.t} follows a role change`);
      }
      assert.equal(events.filter((e) => e.type === 'pause').length, 0, 'no clock-driven faults');
      total += hits.length;
    }
    assert.ok(total >= 3, `faults happened (${total})`);
  });

  test('the reactive faults are named, parsed and formatted like the others', () => {
    for (const f of ['reboot', 'role-partition', 'role-crash']) assert.ok(parseFaults(f).has(f as never));
    assert.equal(parseFaults('all').size, FAULT_NAMES.length);
  });
});

describe('protocol options (--option)', () => {
  test('values are typed; raft refuses unknown names and bad values', () => {
    assert.deepEqual(parseProtocolOptions(['checkQuorum=false', 'electionTimeoutTicks=20', 'readOnly=lease'], raftSpec.options, 'raft'), { checkQuorum: false, electionTimeoutTicks: 20, readOnly: 'lease' });
    assert.throws(() => parseProtocolOptions(['nope=1'], raftSpec.options, 'raft'), (e: unknown) => e instanceof OptionError && /has no option 'nope'/.test(e.message));
    assert.throws(() => parseProtocolOptions(['checkQuorum'], raftSpec.options, 'raft'), /key=value/);
    assert.throws(() => parseProtocolOptions(['preVote=1', 'preVote=0'], raftSpec.options, 'raft'), /twice/);
    assert.throws(() => checkProtocolOptions(raftSpec, 5, new Set(), { checkQuorum: 'maybe' }), (e: unknown) => e instanceof OptionError && /checkQuorum/.test(e.message));
    assert.throws(() => checkProtocolOptions(raftSpec, 5, new Set(), { electionTimeoutTicks: 1 }), /electionTimeoutTicks/);
    checkProtocolOptions(raftSpec, 5, new Set(), { checkQuorum: false, readOnly: 'safe' });
  });

  test('options reach the nodes and the replay command', () => {
    const options = { checkQuorum: false, preVote: false };
    const r = runSeed({ spec: raftSpec, seed: 3, nodes: 3, durationMs: 1000, faults: new Set(), mutants: new Set(['double-vote']), options, livenessMs: 3000 });
    assert.match(replayCommand({ spec: raftSpec, seed: 3, nodes: 3, durationMs: 1000, faults: new Set(), mutants: new Set(), options }), /--option checkQuorum=false --option preVote=false/);
    assert.ok(r.events > 0);
  });
});

describe('KV view cache', () => {
  test('the same object while nothing shown changed; a new one when something did', () => {
    const sim = new Simulation({ spec: raftSpec, seed: 9, nodes: 3 });
    sim.runUntil(2000);
    const follower = sim.views().find((v) => v.role === 'follower');
    assert.ok(follower !== undefined, 'a follower after 2 s');
    const node = sim.nodeAt(follower.id);
    assert.ok(node !== null);
    const a = node.view();
    assert.equal(node.view(), a, 'no input: the cached view');
    sim.tickNode(follower.id);
    assert.equal(node.view(), a, 'a tick that changes nothing shown keeps the object');
    const leader = sim.views().find((v) => v.role === 'leader');
    assert.ok(leader !== undefined, 'a leader after 2 s');
    const ln = sim.nodeAt(leader.id) as NonNullable<ReturnType<typeof sim.nodeAt>>;
    const before = ln.view();
    sim.submit(leader.id, { client: ClientId('c-test'), seq: 1, op: { f: 'write', key: 'k', value: 1 } });
    sim.runUntil(2100);
    const after = ln.view();
    assert.notEqual(after, before, 'a write changed the leader log: a new view');
    assert.ok(Number(after['lastIndex']) > Number(before['lastIndex']));
  });
});
