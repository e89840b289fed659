// Hand-written classic cases, each checked by the fast checker and the
// brute-force reference, with the explanation a user would read.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, type Verdict } from '../../src/check/linearizability.js';
import type { HistoryEvent, Value } from '../../src/check/history.js';
import { referenceLinearizable } from './reference.js';

type V = Value | readonly [Value, Value];
const inv = (process: number, f: HistoryEvent['f'], value: V, key = 'x'): HistoryEvent => ({ process, type: 'invoke', f, key, value });
const ok = (process: number, f: HistoryEvent['f'], value: V, key = 'x'): HistoryEvent => ({ process, type: 'ok', f, key, value });
const fail = (process: number, f: HistoryEvent['f'], value: V, key = 'x'): HistoryEvent => ({ process, type: 'fail', f, key, value });
const info = (process: number, f: HistoryEvent['f'], value: V, key = 'x'): HistoryEvent => ({ process, type: 'info', f, key, value });

/** Checks with both checkers and returns the fast one's verdict. */
function check(h: HistoryEvent[], linearizable: boolean): Verdict {
  assert.equal(referenceLinearizable(h), linearizable, 'reference');
  const v = checkLinearizability(h);
  assert.equal(v.result, linearizable ? 'ok' : 'illegal', v.result === 'illegal' ? v.explanation : JSON.stringify(v));
  return v;
}

function explanation(v: Verdict): string {
  assert.equal(v.result, 'illegal');
  return v.result === 'illegal' ? v.explanation : '';
}

describe('classic register histories', () => {
  test('stale read: a read after a completed overwrite returns the old value', () => {
    const v = check([inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), ok(0, 'write', 2), inv(1, 'read', null), ok(1, 'read', 1)], false);
    assert.match(explanation(v), /returned 1, a stale value: the write of 2 by process 0 \(events 3–4\) completed before it began/);
    assert.deepEqual(v.result === 'illegal' && v.subHistoryIndices, [0, 1, 2, 3, 4, 5]);
  });

  test('the witness leaves out what does not matter', () => {
    const v = check([
      inv(0, 'write', 1), ok(0, 'write', 1),
      inv(1, 'read', null), ok(1, 'read', 1),
      inv(0, 'cas', [1, 2]), ok(0, 'cas', [1, 2]),
      inv(1, 'read', null), ok(1, 'read', 2),
      inv(0, 'write', 3), ok(0, 'write', 3),
      inv(1, 'read', null), ok(1, 'read', 2),
      inv(2, 'read', null), ok(2, 'read', 3),
    ], false);
    // The stale read of 2 (events 11-12), the cas that wrote 2 and the write of 3 that overwrote it.
    assert.deepEqual(v.result === 'illegal' && v.subHistoryIndices, [4, 5, 8, 9, 10, 11]);
    assert.match(explanation(v), /The read by process 1 \(events 11–12\) returned 2, a stale value: the write of 3 by process 0 \(events 9–10\) completed before it began/);
  });

  test('a read concurrent with the overwrite may return either value', () => {
    check([inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), inv(1, 'read', null), ok(1, 'read', 1), ok(0, 'write', 2)], true);
    check([inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), inv(1, 'read', null), ok(1, 'read', 2), ok(0, 'write', 2)], true);
  });

  test('lost write: an acknowledged write is never seen, a later read sees the value before it', () => {
    const v = check([
      inv(0, 'write', 1), ok(0, 'write', 1),
      inv(1, 'write', 2), ok(1, 'write', 2),
      inv(2, 'read', null), ok(2, 'read', 1),
      inv(2, 'read', null), ok(2, 'read', 1),
    ], false);
    assert.match(explanation(v), /stale value/);
  });

  test('read from the future: the only write of the value began after the read completed', () => {
    const v = check([inv(1, 'read', null), ok(1, 'read', 3), inv(0, 'write', 3), ok(0, 'write', 3)], false);
    assert.match(explanation(v), /returned 3, but the only operation that wrote 3, the write of 3 by process 0 \(events 3–4\), began after it completed/);
  });

  test('concurrent writes read in both orders by two readers', () => {
    const v = check([
      inv(0, 'write', 1), inv(1, 'write', 2),
      inv(2, 'read', null), ok(2, 'read', 1), inv(3, 'read', null), ok(3, 'read', 2),
      inv(2, 'read', null), ok(2, 'read', 2), inv(3, 'read', null), ok(3, 'read', 1),
      ok(0, 'write', 1), ok(1, 'write', 2),
    ], false);
    const text = explanation(v);
    assert.match(text, /longest legal order found/);
    assert.match(text, /cannot go next: it returned \d while the register held \d/);
  });

  test('concurrent writes read in the same order by both readers', () => {
    check([
      inv(0, 'write', 1), inv(1, 'write', 2),
      inv(2, 'read', null), ok(2, 'read', 1), inv(3, 'read', null), ok(3, 'read', 1),
      inv(2, 'read', null), ok(2, 'read', 2), inv(3, 'read', null), ok(3, 'read', 2),
      ok(0, 'write', 1), ok(1, 'write', 2),
    ], true);
  });

  test('a cas on a value never written', () => {
    const v = check([inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'cas', [5, 6]), ok(1, 'cas', [5, 6])], false);
    assert.match(explanation(v), /cas 5→6 by process 1 \(events 3–4\) expected 5, but no operation wrote 5/);
  });

  test('a successful cas chain, and a failed cas that had no effect', () => {
    check([
      inv(0, 'write', 0), ok(0, 'write', 0),
      inv(1, 'cas', [0, 1]), ok(1, 'cas', [0, 1]),
      inv(2, 'cas', [0, 9]), fail(2, 'cas', [0, 9]),
      inv(0, 'cas', [1, 2]), ok(0, 'cas', [1, 2]),
      inv(1, 'read', null), ok(1, 'read', 2),
    ], true);
  });

  test('an info write that must have happened: a later read sees its value', () => {
    check([inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', 1)], true);
  });

  test('an info write may take effect long after its info completion', () => {
    check([
      inv(0, 'write', 1), info(0, 'write', 1),
      inv(1, 'write', 2), ok(1, 'write', 2),
      inv(2, 'read', null), ok(2, 'read', 2),
      inv(2, 'read', null), ok(2, 'read', 1),
    ], true);
  });

  test('an info write that never happened', () => {
    check([inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', null)], true);
  });

  test('an info write took effect at most once: it cannot be seen, overwritten, then seen again', () => {
    check([
      inv(0, 'write', 1), info(0, 'write', 1),
      inv(1, 'read', null), ok(1, 'read', 1),
      inv(1, 'write', 2), ok(1, 'write', 2),
      inv(1, 'read', null), ok(1, 'read', 1),
    ], false);
  });

  test('an info cas that must have happened, and one that cannot have', () => {
    check([inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2)], true);
    check([inv(0, 'write', 3), ok(0, 'write', 3), inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2)], false);
  });

  test('a chain of info operations: an info write, then an info cas on it, explains a read', () => {
    check([inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2)], true);
    check([inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2), inv(0, 'write', 1), info(0, 'write', 1)], false);
  });

  test('info operations may not come back to a value to explain a read twice', () => {
    // 1 then 2 then 1 again would need two writes of 1; there is one.
    check([
      inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]),
      inv(2, 'read', null), ok(2, 'read', 1), inv(2, 'read', null), ok(2, 'read', 2), inv(2, 'read', null), ok(2, 'read', 1),
    ], false);
  });

  test('a never-completed invoke counts as info', () => {
    check([inv(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', 1)], true);
  });

  test('fail operations are ignored: a failed write and a failed read', () => {
    check([inv(0, 'write', 1), fail(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', null), inv(1, 'read', null), fail(1, 'read', null)], true);
    check([inv(0, 'write', 1), fail(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', 1)], false);
  });

  test('a failed cas took no effect, so a later read cannot see its new value', () => {
    const v = checkLinearizability([inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'cas', [1, 2]), fail(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2)]);
    assert.match(explanation(v), /returned 2, but no operation wrote 2; the cas 1→2 by process 1 \(events 3–4, failed\) had no effect/);
    check([inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'cas', [1, 2]), fail(1, 'cas', [1, 2]), inv(2, 'read', null), ok(2, 'read', 2)], false);
  });

  test('the initial value is null: a read of null before any write', () => {
    check([inv(1, 'read', null), ok(1, 'read', null), inv(0, 'write', 1), ok(0, 'write', 1)], true);
    const v = check([inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'read', null), ok(1, 'read', null)], false);
    assert.match(explanation(v), /returned null, a stale value: .* nothing set it back to null/);
  });

  test('keys are independent: a violation is reported on its own key', () => {
    const v = check([
      inv(0, 'write', 1, 'a'), ok(0, 'write', 1, 'a'),
      inv(1, 'write', 1, 'b'), ok(1, 'write', 1, 'b'),
      inv(0, 'read', null, 'a'), ok(0, 'read', 1, 'a'),
      inv(1, 'read', null, 'b'), ok(1, 'read', 2, 'b'),
    ], false);
    assert.equal(v.result === 'illegal' && v.key, 'b');
    assert.ok(v.result === 'illegal' && v.subHistory.every((e) => e.key === 'b'));
  });

  test('values compare by type: the string "1" is not the number 1', () => {
    check([inv(0, 'write', '1'), ok(0, 'write', '1'), inv(1, 'read', null), ok(1, 'read', 1)], false);
  });
});

describe('budget and malformed input', () => {
  const hard = (k: number): HistoryEvent[] => [
    ...Array.from({ length: k }, (_, i) => inv(i, 'write', i)),
    inv(k, 'read', null), ok(k, 'read', 999),
    ...Array.from({ length: k }, (_, i) => ok(i, 'write', i)),
  ];

  test('unknown when the step budget runs out', () => {
    const v = checkLinearizability(hard(22), { maxSteps: 100_000 });
    assert.equal(v.result, 'unknown');
    assert.match(v.result === 'unknown' ? v.reason : '', /step budget/);
  });

  test('unknown when shouldStop says so, and it is polled', () => {
    let polls = 0;
    const v = checkLinearizability(hard(22), { shouldStop: () => ++polls > 3 });
    assert.equal(v.result, 'unknown');
    assert.equal(polls, 4);
  });

  test('a small hard case is decided', () => {
    check(hard(6), false);
  });

  test('a malformed in-memory history is unknown, naming the event', () => {
    const v = checkLinearizability([ok(0, 'write', 1)]);
    assert.deepEqual(v, { result: 'unknown', reason: 'malformed history: event 1: a completion (ok) from process 0 without a pending invoke' });
    const w = checkLinearizability([inv(0, 'cas', 3)]);
    assert.match(w.result === 'unknown' ? w.reason : '', /event 1: a cas value must be \[expected, new\]/);
  });

  test('an empty history is linearizable', () => {
    assert.deepEqual(checkLinearizability([]), { result: 'ok' });
  });
});
