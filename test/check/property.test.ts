// The fast checker against the brute-force reference on thousands of small
// random histories: linearizable ones from a real execution, mutated ones
// (mostly not), and arbitrary ones. Every "illegal" verdict's sub-history must
// itself be a non-linearizable sub-sequence of the input.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Prng } from '../../src/core/prng.js';
import { checkLinearizability } from '../../src/check/linearizability.js';
import { generateRegisterHistory } from '../../src/check/generate.js';
import type { History, HistoryEvent, Value } from '../../src/check/history.js';
import { referenceLinearizable } from './reference.js';

const RUNS = Number(process.env['SYNOD_CHECK_RUNS'] ?? 1000);

const smallHistory = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  operations: fc.integer({ min: 1, max: 12 }),
  processes: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 2 }),
  values: fc.integer({ min: 1, max: 4 }),
  infoRate: fc.constantFrom(0, 0.15, 0.4, 0.7),
}).map((o) => generateRegisterHistory(new Prng(o.seed), o));

/** Mutations that keep a history well-formed but may break linearizability. */
const mutation = fc.record({
  kind: fc.constantFrom('read-value', 'swap', 'cas-outcome', 'write-value'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 3 }),
});

function mutate(h: readonly HistoryEvent[], m: { kind: string; at: number; value: number }): HistoryEvent[] {
  const out = h.slice();
  const v: Value = m.value === 0 ? null : m.value;
  const find = (pred: (e: HistoryEvent) => boolean): number => {
    const idx = out.map((e, i) => (pred(e) ? i : -1)).filter((i) => i >= 0);
    return idx.length === 0 ? -1 : (idx[m.at % idx.length] as number);
  };
  if (m.kind === 'read-value') {
    const i = find((e) => e.f === 'read' && e.type === 'ok');
    if (i >= 0) out[i] = { ...(out[i] as HistoryEvent), value: v };
  } else if (m.kind === 'swap' && out.length > 1) {
    // Swap adjacent events of different processes: only the real-time order changes.
    const i = m.at % (out.length - 1);
    const [a, b] = [out[i] as HistoryEvent, out[i + 1] as HistoryEvent];
    if (a.process !== b.process) [out[i], out[i + 1]] = [b, a];
  } else if (m.kind === 'cas-outcome') {
    const i = find((e) => e.f === 'cas' && (e.type === 'ok' || e.type === 'fail'));
    if (i >= 0) {
      const e = out[i] as HistoryEvent;
      const inv = [...out.slice(0, i)].reverse().find((x) => x.process === e.process && x.type === 'invoke') as HistoryEvent;
      out[i] = { ...e, type: e.type === 'ok' ? 'fail' : 'ok', value: inv.value };
    }
  } else if (m.kind === 'write-value') {
    // Change what a write claims to have written (invoke and completion alike).
    const i = find((e) => e.f === 'write' && e.type === 'invoke');
    if (i >= 0) {
      out[i] = { ...(out[i] as HistoryEvent), value: v };
      const j = out.findIndex((e, k) => k > i && e.process === (out[i] as HistoryEvent).process);
      if (j >= 0) out[j] = { ...(out[j] as HistoryEvent), value: v };
    }
  }
  return out;
}

const arbitraryEvent = fc.record({
  process: fc.integer({ min: 0, max: 2 }),
  f: fc.constantFrom('read' as const, 'write' as const, 'cas' as const),
  key: fc.constantFrom('x', 'y'),
  a: fc.integer({ min: 0, max: 2 }),
  b: fc.integer({ min: 0, max: 2 }),
  end: fc.constantFrom('ok' as const, 'ok' as const, 'ok' as const, 'fail' as const, 'info' as const),
});

/** Arbitrary well-formed histories: random invokes, completions anywhere after. */
const arbitraryHistory = fc.tuple(fc.array(arbitraryEvent, { minLength: 1, maxLength: 7 }), fc.array(fc.nat(), { maxLength: 20 })).map(([specs, order]) => {
  const out: HistoryEvent[] = [];
  const open = new Map<number, HistoryEvent>();
  const queue = specs.slice();
  let k = 0;
  while (queue.length > 0 || open.size > 0) {
    const choice = order[k++ % Math.max(1, order.length)] ?? 0;
    const procs = [...open.keys()];
    if (queue.length > 0 && (choice % 2 === 0 || procs.length === 0) && !open.has((queue[0] as { process: number }).process)) {
      const s = queue.shift() as (typeof specs)[number];
      const value = s.f === 'read' ? null : s.f === 'write' ? s.a : [s.a, s.b] as const;
      const e: HistoryEvent = { process: s.process, type: 'invoke', f: s.f, key: s.key, value };
      open.set(s.process, { ...e, type: s.end, value: s.f === 'read' && s.end === 'ok' ? s.b : s.f === 'read' ? null : value });
      out.push(e);
    } else if (procs.length > 0) {
      const p = procs[choice % procs.length] as number;
      out.push(open.get(p) as HistoryEvent);
      open.delete(p);
    } else queue.shift();
  }
  return out;
});

/** The fast verdict agrees with the reference, and an illegal witness is sound. */
function agree(h: History): void {
  const verdict = checkLinearizability(h);
  const expected = referenceLinearizable(h);
  assert.notEqual(verdict.result, 'unknown');
  assert.equal(verdict.result === 'ok', expected, `fast says ${verdict.result}, reference says ${expected}: ${JSON.stringify(h)}`);
  if (verdict.result !== 'illegal') return;
  assert.ok(verdict.explanation.length > 0);
  // The witness is a sub-sequence of the input, on one key, and is itself not linearizable.
  verdict.subHistoryIndices.forEach((idx, i) => {
    assert.equal(verdict.subHistory[i], h[idx]);
    if (i > 0) assert.ok(idx > (verdict.subHistoryIndices[i - 1] as number));
  });
  assert.ok(verdict.subHistory.every((e) => e.key === verdict.key));
  assert.equal(referenceLinearizable(verdict.subHistory), false, `witness is linearizable: ${JSON.stringify(verdict.subHistory)}`);
}

describe('fast checker agrees with the brute-force reference', () => {
  test('histories of a real execution are linearizable (both checkers)', () => {
    fc.assert(fc.property(smallHistory, (h) => {
      assert.equal(referenceLinearizable(h), true);
      assert.deepEqual(checkLinearizability(h), { result: 'ok' });
    }), { numRuns: RUNS });
  });

  test('mutated histories', () => {
    fc.assert(fc.property(smallHistory, fc.array(mutation, { minLength: 1, maxLength: 3 }), (h, ms) => {
      agree(ms.reduce(mutate, h));
    }), { numRuns: RUNS * 2 });
  });

  test('arbitrary histories', () => {
    fc.assert(fc.property(arbitraryHistory, (h) => agree(h)), { numRuns: RUNS });
  });
});

describe('larger histories', () => {
  test('a generated 2,000-operation history with info operations is linearizable', () => {
    const h = generateRegisterHistory(new Prng(11), { operations: 2000, processes: 10, keys: 4, values: 4, infoRate: 0.05 });
    assert.deepEqual(checkLinearizability(h), { result: 'ok' });
  });

  test('one stale read in a long history is found, with a small witness', () => {
    const h = generateRegisterHistory(new Prng(12), { operations: 1500, processes: 8, keys: 3, values: 50, infoRate: 0 });
    // Append, after everything, a write then a read that returns what was there before it.
    const last = [...h].reverse().find((e) => e.key === 'k0' && e.type === 'ok' && e.f === 'read');
    assert.ok(last !== undefined);
    const extra: HistoryEvent[] = [
      { process: 99, type: 'invoke', f: 'write', key: 'k0', value: 1000 },
      { process: 99, type: 'ok', f: 'write', key: 'k0', value: 1000 },
      { process: 98, type: 'invoke', f: 'read', key: 'k0', value: null },
      { process: 98, type: 'ok', f: 'read', key: 'k0', value: 7 },
    ];
    const verdict = checkLinearizability([...h, ...extra]);
    assert.equal(verdict.result, 'illegal');
    assert.ok(verdict.result === 'illegal' && verdict.subHistory.length <= 40, verdict.result === 'illegal' ? verdict.explanation : '');
  });
});
