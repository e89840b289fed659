// etcd's auto-compaction flags and the compactor's decisions
// (src/server/auto-compact.ts), driven with a fake clock and store.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { AutoCompactionConfigError, AutoCompactor, checkIntervalMs, parseAutoCompaction, parseDurationMs, type AutoCompaction } from '../../src/server/auto-compact.js';
import { ConfigError, resolveConfig } from '../../src/server/config.js';

describe('auto-compaction flags', () => {
  test('durations in Go syntax', () => {
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('90s'), 90_000);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('250ms'), 250);
    for (const bad of ['', '5', 'h', '1d', '-1h', '1 h']) assert.equal(parseDurationMs(bad), null, bad);
  });

  test("etcd's meanings: off by default, bare numbers are hours in periodic mode, revisions in revision mode", () => {
    assert.equal(parseAutoCompaction(undefined, undefined), null);
    assert.equal(parseAutoCompaction('periodic', '0'), null);
    assert.equal(parseAutoCompaction('revision', '0'), null);
    assert.deepEqual(parseAutoCompaction(undefined, '1'), { mode: 'periodic', retentionMs: 3_600_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '30m'), { mode: 'periodic', retentionMs: 1_800_000 });
    assert.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', retention: 1000, checkMs: 300_000 });
    assert.deepEqual(parseAutoCompaction('revision', '10', '1s'), { mode: 'revision', retention: 10, checkMs: 1000 });
    for (const [mode, retention, re] of [['hourly', '1', /mode must be/], ['revision', '1h', /whole number of revisions/], ['periodic', 'soon', /hours \(e\.g\. 1\) or a duration/]] as const) {
      assert.throws(() => parseAutoCompaction(mode, retention), (e: unknown) => e instanceof AutoCompactionConfigError && re.test(e.message));
    }
  });

  test('periodic mode wakes every tenth of the retention, at most every 6 minutes', () => {
    assert.equal(checkIntervalMs({ mode: 'periodic', retentionMs: 600_000 }), 60_000);
    assert.equal(checkIntervalMs({ mode: 'periodic', retentionMs: 48 * 3_600_000 }), 360_000);
  });

  test('synod node reports a bad value by flag name', () => {
    assert.throws(() => resolveConfig({ autoCompactionMode: 'revision', autoCompactionRetention: 'x' }), (e: unknown) => e instanceof ConfigError && /--auto-compaction-retention/.test(e.message));
    assert.deepEqual(resolveConfig({ autoCompactionMode: 'revision', autoCompactionRetention: '5', autoCompactionInterval: '100ms' }).autoCompaction, { mode: 'revision', retention: 5, checkMs: 100 });
    assert.equal(resolveConfig({}).autoCompaction, null);
  });
});

/** A store whose revision the test moves, and a log of compactions proposed. */
function fake(policy: AutoCompaction): { store: { revision: number; compactRevision: number; leader: boolean }; proposed: number[]; compactor: AutoCompactor } {
  const store = { revision: 1, compactRevision: 0, leader: true };
  const proposed: number[] = [];
  const compactor = new AutoCompactor(policy, {
    revision: () => store.revision, compactRevision: () => store.compactRevision, isLeader: () => store.leader,
    compact: async (rev) => {
      proposed.push(rev);
      if (rev <= store.compactRevision) return 'already';
      store.compactRevision = rev;
      return 'done';
    },
    logger: pino({ level: 'silent' }),
  }, 0);
  return { store, proposed, compactor };
}

describe('the compactor', () => {
  test('revision mode keeps the last N revisions, proposes only as leader, never twice for one revision', async () => {
    const { store, proposed, compactor } = fake({ mode: 'revision', retention: 10, checkMs: 1000 });
    store.revision = 8;
    assert.equal(await compactor.check(1000), null, 'fewer than N revisions: nothing');
    store.revision = 25;
    store.leader = false;
    assert.equal(await compactor.check(2000), null, 'a follower does not propose');
    store.leader = true;
    assert.equal(await compactor.check(3000), 15);
    assert.equal(await compactor.check(4000), null, 'no new revisions: nothing');
    store.revision = 40;
    assert.equal(await compactor.check(5000), 30);
    assert.deepEqual(proposed, [15, 30]);
  });

  test('periodic mode compacts to the revision of one retention ago, first after a whole retention', async () => {
    const { store, proposed, compactor } = fake({ mode: 'periodic', retentionMs: 10_000 });
    // One wake-up per second (a tenth of the retention); the revision grows by 10 a second.
    const at: number[] = [];
    for (let t = 1000; t <= 25_000; t += 1000) {
      store.revision = t / 100;
      const rev = await compactor.check(t);
      if (rev !== null) at.push(t, rev);
    }
    // First at 10 s, through the revision seen 10 s before (the first sample), then every 10 s.
    assert.deepEqual(at, [10_000, 10, 20_000, 100]);
    assert.deepEqual(proposed, [10, 100]);
  });

  test('a compaction already made (by another leader) counts as done', async () => {
    const { store, compactor } = fake({ mode: 'revision', retention: 5, checkMs: 1000 });
    store.revision = 20;
    store.compactRevision = 18;
    assert.equal(await compactor.check(1000), null);
    store.revision = 30;
    assert.equal(await compactor.check(2000), 25);
  });
});
