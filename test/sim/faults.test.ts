// The fault list and the random schedule: --faults restricts what happens;
// every fault kind does occur when allowed; workloads plug in.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_NAMES, parseFaults, formatFaults } from '../../src/sim/faults.js';
import { registerSpec } from '../../src/sim/reference/spec.js';
import { runSeed } from '../../src/sim/run.js';
import type { Workload, WorkloadFactory } from '../../src/sim/workload.js';
import { resolveWorkload } from '../../src/sim/workloads.js';
import type { KvReply, KvRequest } from '../../src/kv/api.js';
import { ClientId } from '../../src/core/ids.js';
import { probeSpec } from './fixtures.js';

function faultKeys(counts: Readonly<Record<string, number>>): string[] {
  const fault = ['crash', 'restart', 'pause', 'resume', 'partition', 'heal', 'torn-write', 'slow-disk', 'network-change', 'duplicate', 'drop:loss', 'drop:partition'];
  return Object.keys(counts).filter((k) => fault.some((f) => k === f || k.startsWith(`${f}:`))).sort();
}

describe('fault list', () => {
  test('parses all / none / lists and refuses unknown names', () => {
    assert.equal(parseFaults('all').size, FAULT_NAMES.length);
    assert.equal(parseFaults('none').size, 0);
    assert.deepEqual([...parseFaults('crash, loss')].sort(), ['crash', 'loss']);
    assert.equal(formatFaults(parseFaults('loss,crash')), 'loss,crash');
    assert.throws(() => parseFaults('crash,meteor'), /unknown fault 'meteor'/);
  });

  test('--faults none: no fault at all happens', () => {
    const r = runSeed({ spec: registerSpec, seed: 1, nodes: 5, durationMs: 3000, faults: new Set(), mutants: new Set() });
    assert.equal(r.violation, null);
    assert.deepEqual(faultKeys(r.counts), []);
  });

  test('--faults crash: only crashes and restarts', () => {
    const r = runSeed({ spec: registerSpec, seed: 2, nodes: 5, durationMs: 5000, faults: parseFaults('crash'), mutants: new Set() });
    assert.deepEqual(faultKeys(r.counts), ['crash', 'restart']);
  });

  test('with all faults, every kind happens over a few seeds (all five partition shapes too)', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) {
      // The clock-driven faults (the reactive ones share the partition slot; test/sim/mutants.test.ts covers them).
      const faults = new Set(FAULT_NAMES.filter((f) => f !== 'reboot' && f !== 'role-partition' && f !== 'role-crash'));
      const r = runSeed({ spec: registerSpec, seed, nodes: 5, durationMs: 10_000, faults, mutants: new Set() });
      assert.equal(r.violation, null);
      for (const k of faultKeys(r.counts)) seen.add(k);
    }
    for (const k of ['crash', 'restart', 'pause', 'resume', 'heal', 'torn-write', 'slow-disk', 'network-change', 'duplicate', 'drop:loss', 'drop:partition',
      'partition:isolate', 'partition:halves', 'partition:bridge', 'partition:ring', 'partition:one-way']) {
      assert.ok(seen.has(k), `${k} happened (seen: ${[...seen].join(', ')})`);
    }
  });
});

describe('pluggable workloads', () => {
  test('a protocol may supply its own workload factory', () => {
    let started = 0;
    const factory: WorkloadFactory<KvRequest, KvReply> = () => {
      let done = 0;
      const w: Workload<KvRequest, KvReply> = {
        start(ctx) {
          started++;
          for (let i = 0; i < 30; i++) ctx.send(ctx.members[i % ctx.members.length] as never, { client: ClientId('w'), seq: i, op: { f: 'read', key: 'k' } });
        },
        onReply: () => void done++,
        onTimer: () => undefined,
        completed: () => done,
        stop: () => undefined,
        finish: () => [{ result: 'ok', check: 'custom', detail: `${done} replies` }],
        stats: () => ({ replies: done }),
      };
      return w;
    };
    const spec = { ...probeSpec({ name: 'custom', answer: true }), workload: factory };
    const r = runSeed({ spec, seed: 1, nodes: 3, durationMs: 500, faults: new Set(), mutants: new Set(), livenessOps: 0 });
    assert.equal(started, 1);
    assert.equal(r.violation, null);
    assert.equal(r.workload['replies'], 30);
    assert.deepEqual(r.verdicts, [{ result: 'ok', check: 'custom', detail: '30 replies' }]);
  });

  test('a built-in workload name that does not exist yet is refused with a clear message', () => {
    assert.throws(() => resolveWorkload('paxos', 'decree'), /protocol 'paxos' names the workload 'decree', which is not built in/);
    assert.equal(typeof resolveWorkload('register', 'kv'), 'function');
  });
});
