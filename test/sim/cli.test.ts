// `synod sim` end to end: exit codes (0 ok, 1 violation, 2 usage), messages
// without stack traces, --json, --trace, --list.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrace } from '../../src/sim/trace.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function synod(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'sim', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('synod sim', () => {
  test('a clean range of seeds exits 0 with a summary', () => {
    const r = synod('--protocol', 'register', '--seeds', '1..3', '--duration', '2s', '--nodes', '3', '--report', 'messages');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /register: 3 runs \(seeds 1..3\), \d+ events/);
    assert.match(r.stdout, /simulated s per wall s/);
    assert.match(r.stdout, /^faults: /m);
    assert.match(r.stdout, /protocol events: .*elected \d+/);
    assert.match(r.stdout, /messages sent by type:/);
    assert.match(r.stdout, /no violations/);
  });

  test('a violation exits 1 and prints the seed, event and replay command', () => {
    const r = synod('--protocol', 'register', '--seed', '3', '--duration', '5s', '--mutant', 'unsafe-vote');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /seed 3, event \d+ \([\d.]+ s\): commit-agreement: /);
    assert.match(r.stdout, /replay: synod sim --protocol register --seed 3 --nodes 5 --faults all --mutant unsafe-vote --duration 5s/);
  });

  test('--json prints one object with the same content', () => {
    const r = synod('--protocol', 'register', '--seed', '3', '--duration', '5s', '--mutant', 'unsafe-vote', '--json');
    assert.equal(r.status, 1);
    const j = JSON.parse(r.stdout) as { runs: number; violations: { seed: number; invariant: string; replay: string; event: number }[]; counts: Record<string, number> };
    assert.equal(j.runs, 1);
    assert.equal(j.violations.length, 1);
    assert.equal(j.violations[0]?.seed, 3);
    assert.equal(j.violations[0]?.invariant, 'commit-agreement');
    assert.ok((j.counts['send'] ?? 0) > 0);
  });

  test('--trace writes JSON Lines of one run, identical on replay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-sim-'));
    try {
      const a = join(dir, 'a.jsonl');
      const b = join(dir, 'b.jsonl');
      assert.equal(synod('--protocol', 'register', '--seed', '9', '--duration', '1s', '--trace', a).status, 0);
      assert.equal(synod('--protocol', 'register', '--seed', '9', '--duration', '1s', '--trace', b).status, 0);
      const text = readFileSync(a, 'utf8');
      assert.equal(text, readFileSync(b, 'utf8'));
      const events = parseTrace(text);
      assert.ok(events[0]?.type === 'phase' && events[0].phase === 'safety' && events[0].t === 0);
      assert.ok(events.some((e) => e.type === 'phase' && e.phase === 'liveness'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--list shows protocols, mutants, scenarios and faults', () => {
    const r = synod('--list');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^register: /m);
    assert.match(r.stdout, /mutant stale-read: /);
    assert.match(r.stdout, /scenario leader-isolated: /);
    assert.match(r.stdout, /torn-write: /);
  });

  const usage: [string[], RegExp][] = [
    [['--protocol', 'nope', '--seed', '1'], /unknown protocol 'nope' \(known: .*register/],
    [['--seed', '1'], /--protocol is required/],
    [['--protocol', 'register', '--seed', '1', '--mutant', 'bogus'], /no mutant 'bogus' \(known: ack-before-quorum/],
    [['--protocol', 'register', '--seed', '1', '--faults', 'loss,fire'], /unknown fault 'fire'/],
    [['--protocol', 'register', '--seeds', '1..x'], /--seeds must look like A\.\.B/],
    [['--protocol', 'register', '--seeds', '9..2'], /the end is before the start/],
    [['--protocol', 'register', '--seed', '-4'], /--seed must be a non-negative integer/],
    [['--protocol', 'register', '--seed', '1', '--duration', '10 parsecs'], /--duration must be a number with a unit/],
    [['--protocol', 'register', '--seed', '1', '--nodes', '99'], /--nodes must be between 1 and 15/],
    [['--protocol', 'register', '--seed', '1', '--seeds', '1..2'], /not both/],
    [['--protocol', 'register', '--seeds', '1..2', '--trace', 'x.jsonl'], /one run: give a single --seed/],
    [['--protocol', 'register', '--seed', '1', '--scenario', 'meteor'], /no scenario 'meteor' \(known: leader-isolated/],
  ];
  for (const [args, message] of usage) {
    test(`usage error exits 2: ${args.join(' ')}`, () => {
      const r = synod(...args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    });
  }
});
