// Property test (fast-check): under any schedule of ticks, deliveries in any
// order, losses, duplicates, crashes and restarts, Raft's invariants hold and
// no two nodes apply different commands at an index (the harness checks that
// on every batch). With mutants, the same search finds violations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { raftInvariants } from '../../src/raft/invariants.js';
import { Net, ids } from './harness.js';

type Action =
  | { readonly a: 'tick'; readonly node: number; readonly times: number }
  | { readonly a: 'deliver'; readonly pick: number }
  | { readonly a: 'drop'; readonly pick: number }
  | { readonly a: 'dup'; readonly pick: number }
  | { readonly a: 'propose'; readonly node: number }
  | { readonly a: 'crash'; readonly node: number }
  | { readonly a: 'restart'; readonly node: number }
  | { readonly a: 'compact'; readonly node: number };

const node = fc.integer({ min: 1, max: 3 });
const pick = fc.nat({ max: 1000 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ a: fc.constant('tick' as const), node, times: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 12, arbitrary: fc.record({ a: fc.constant('deliver' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('drop' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('dup' as const), pick }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('propose' as const), node }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('crash' as const), node }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('restart' as const), node }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('compact' as const), node }) },
);

/** Runs a schedule; returns the first violation (invariant or harness State Machine Safety), or null. */
function play(actions: readonly Action[], mutants: string[], preVote: boolean): string | null {
  const net = new Net(ids(1, 2, 3), { electionTimeoutTicks: 5, preVote, mutants: new Set(mutants), snapshotChunkBytes: 32 });
  const invariants = raftInvariants();
  let n = 0;
  try {
    for (const act of actions) {
      const q = net.queue;
      switch (act.a) {
        case 'tick':
          net.tick(act.node, act.times);
          break;
        case 'deliver':
          if (q.length > 0) {
            const target = q[act.pick % q.length];
            net.deliverOne((m) => m === target);
          }
          break;
        case 'drop':
          if (q.length > 0) q.splice(act.pick % q.length, 1);
          break;
        case 'dup':
          if (q.length > 0) q.push(q[act.pick % q.length] as (typeof q)[number]);
          break;
        case 'propose':
          if (!net.down.has(act.node) && net.node(act.node).propose(`c${n}`).ok) net.flush(act.node);
          break;
        case 'crash':
          if (net.down.size === 0) net.crash(act.node);
          break;
        case 'restart':
          if (net.down.has(act.node)) net.restart(act.node);
          break;
        case 'compact': {
          if (net.down.has(act.node)) break;
          const sm = net.applied(act.node);
          if (sm.length > 3) {
            net.node(act.node).compact((sm.length - 2) as never, sm.slice(0, sm.length - 1));
            net.flush(act.node);
          }
          break;
        }
      }
      n++;
      const views = [...net.nodes.entries()].filter(([id]) => !net.down.has(id)).map(([, x]) => x.view());
      for (const inv of invariants) {
        const problem = inv.check(views, n);
        if (problem !== null) return `${inv.name}: ${problem}`;
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

const schedule = fc.array(action, { minLength: 50, maxLength: 400 });

describe('Raft under random schedules (fast-check)', () => {
  test('invariants hold, with and without PreVote', () => {
    fc.assert(
      fc.property(schedule, fc.boolean(), (actions, preVote) => play(actions, [], preVote) === null),
      { numRuns: 150, seed: 42 },
    );
  });

  for (const mutant of (process.env['RAFT_PROP_MUTANTS'] ?? 'double-vote,skip-log-check').split(',')) {
    test(`mutant '${mutant}' is found`, () => {
      const found = fc.check(
        fc.property(schedule, (actions) => play(actions, [mutant], false) === null),
        { numRuns: 400, seed: 7 },
      );
      assert.ok(found.failed, `no violation found for ${mutant}`);
    });
  }
});
