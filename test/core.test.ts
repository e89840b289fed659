import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../src/core/prng.js';
import { majority, quorumValue, tallyVotes } from '../src/core/quorum.js';
import { EffectsBuilder, executeEffects } from '../src/core/effects.js';
import { NodeId } from '../src/core/ids.js';
import { assertNever, AssertionError } from '../src/core/assert.js';

describe('Prng', () => {
  test('one seed gives one sequence', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    for (let i = 0; i < 1000; i++) assert.equal(a.nextU32(), b.nextU32());
  });
  test('different seeds give different sequences', () => {
    const a = new Prng(1);
    const b = new Prng(2);
    const same = Array.from({ length: 100 }, () => a.nextU32() === b.nextU32()).filter(Boolean).length;
    assert.ok(same < 3);
  });
  test('int stays in range and covers it', () => {
    const r = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 9);
      assert.ok(v >= 3 && v <= 9);
      seen.add(v);
    }
    assert.equal(seen.size, 7);
  });
  test('fork is deterministic and independent of later draws', () => {
    const a = new Prng(5).fork('net');
    const b = new Prng(5).fork('net');
    const c = new Prng(5).fork('disk');
    const xs = [a.nextU32(), a.nextU32()];
    assert.deepEqual(xs, [b.nextU32(), b.nextU32()]);
    assert.notDeepEqual(xs, [c.nextU32(), c.nextU32()]);
  });
  test('float is uniform enough', () => {
    const r = new Prng(99);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += r.float();
    assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
  });
});

describe('quorum', () => {
  test('majority', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
  });
  test('quorumValue is the highest value a quorum reaches (Raft §5.3)', () => {
    assert.equal(quorumValue([5, 3, 9, 1, 7], 3), 5);
    assert.equal(quorumValue([2, 2, 1], 2), 2);
  });
  test('tallyVotes', () => {
    assert.equal(tallyVotes(3, 0, 5), 'won');
    assert.equal(tallyVotes(1, 3, 5), 'lost');
    assert.equal(tallyVotes(2, 2, 5), 'pending');
  });
});

describe('effects', () => {
  test('executeEffects sends after persist completes', async () => {
    const fx = new EffectsBuilder<string, string, string>();
    fx.sendImmediately(NodeId(1), 'early');
    fx.write('w1');
    fx.send(NodeId(2), 'vote');
    fx.output('applied');
    const log: string[] = [];
    await executeEffects(fx.take(), {
      send: (e) => log.push(`send ${e.msg}`),
      persist: async (ws) => {
        await new Promise((r) => setTimeout(r, 5));
        log.push(`durable ${ws.join(',')}`);
      },
      output: (o) => log.push(`out ${o}`),
    });
    assert.deepEqual(log, ['send early', 'durable w1', 'send vote', 'out applied']);
    assert.ok(fx.empty);
  });
  test('assertNever throws an AssertionError naming the variant', () => {
    assert.throws(() => assertNever({ type: 'bogus' } as never), (e: unknown) => e instanceof AssertionError && /bogus/.test(e.message));
  });
});
