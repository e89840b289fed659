// Shrinking a non-linearizable key history to a small witness.
//
// Removing an operation is not safe in general (without the write of 3, a read
// of 3 becomes illegal for a new reason), so shrinking only uses moves that
// relax a history, where "the relaxed history is illegal" still implies "the
// original is illegal":
//   1. cut the history at an event (linearizability is prefix-closed; an
//      operation still running at the cut becomes unknown);
//   2. delete a read (it changes no state);
//   3. turn an ok write or cas into an unknown-outcome one (it may now take
//      effect at any time after its invoke, or never); if nobody observes its
//      value any more, preparation then drops it altogether.
// The witness reported is the set of operations left, with their original
// events; restoring the original outcomes only adds constraints, so it is
// still illegal (checked again before it is reported).

import { assert } from '../core/assert.js';
import type { Operation } from './operations.js';
import { prepareKey, type KeyOpView, type PreparedKey } from './prepare.js';
import { searchKey, type SearchBudget } from './search.js';

interface Variant {
  /** Events after this position are cut off. */
  readonly cut: number;
  /** Ok operations relaxed (reads deleted, writes and cas made unknown). */
  readonly relaxed: ReadonlySet<number>;
}

export function viewsFor(ops: readonly Operation[], v: Variant): KeyOpView[] {
  const out: KeyOpView[] = [];
  for (const op of ops) {
    if (op.invokeIndex > v.cut || op.status === 'fail') continue;
    const done = op.completeIndex !== null && op.completeIndex <= v.cut;
    const relaxed = v.relaxed.has(op.id);
    if (relaxed && op.f === 'read') continue;
    const info = op.status === 'info' || !done || relaxed;
    out.push({ op, info, returnIndex: op.completeIndex ?? Infinity });
  }
  return out;
}

function original(ops: readonly Operation[]): KeyOpView[] {
  return ops.map((op) => ({ op, info: op.status !== 'ok', returnIndex: op.completeIndex ?? Infinity }));
}

/**
 * Illegal for certain within the budget (an exhausted budget counts as "not
 * shown illegal"). One trial may use a bounded share of the budget, so that a
 * relaxation that makes the search hard is simply rejected.
 */
function illegal(views: readonly KeyOpView[], budget: SearchBudget): boolean {
  if (budget.remainingSteps <= 0 || budget.stopped) return false;
  const cap = Math.min(budget.remainingSteps, 50_000 + 20 * views.length);
  const trial: SearchBudget = { ...budget, remainingSteps: cap, stepsTaken: 0 };
  const outcome = searchKey(prepareKey(views), trial).type;
  budget.remainingSteps -= trial.stepsTaken;
  budget.stepsTaken += trial.stepsTaken;
  budget.stopped = trial.stopped;
  return outcome === 'illegal';
}

/** The shortest illegal prefix: binary search over the key's event positions. */
function shortestPrefix(ops: readonly Operation[], budget: SearchBudget): number {
  const positions: number[] = [];
  for (const op of ops) {
    positions.push(op.invokeIndex);
    if (op.completeIndex !== null) positions.push(op.completeIndex);
  }
  positions.sort((x, y) => x - y);
  const none = new Set<number>();
  let lo = 0;
  let hi = positions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (illegal(viewsFor(ops, { cut: positions[mid] as number, relaxed: none }), budget)) hi = mid;
    else lo = mid + 1;
  }
  return positions[hi] ?? Infinity;
}

/**
 * Delta-debugging over some ok operations: relax chunks, halving the chunk
 * size, keeping each relaxation under which the key stays illegal.
 */
function relaxChunks(ops: readonly Operation[], cut: number, candidates: readonly number[], relaxed: Set<number>, budget: SearchBudget): void {
  for (let size = Math.max(1, candidates.length >> 1); ; size >>= 1) {
    for (let start = 0; start < candidates.length; start += size) {
      const chunk = candidates.slice(start, start + size).filter((id) => !relaxed.has(id));
      if (chunk.length === 0) continue;
      const trial = new Set([...relaxed, ...chunk]);
      if (illegal(viewsFor(ops, { cut, relaxed: trial }), budget)) for (const id of chunk) relaxed.add(id);
    }
    if (size <= 1) return;
  }
}

/**
 * Reads first: deleting them makes later checks cheaper, and once few reads
 * are left, a relaxed write is usually unobserved and drops out entirely.
 */
function relaxAll(ops: readonly Operation[], cut: number, budget: SearchBudget): Set<number> {
  const done = ops.filter((op) => op.status === 'ok' && op.completeIndex !== null && op.completeIndex <= cut);
  const relaxed = new Set<number>();
  relaxChunks(ops, cut, done.filter((op) => op.f === 'read').map((op) => op.id), relaxed, budget);
  relaxChunks(ops, cut, done.filter((op) => op.f !== 'read').map((op) => op.id), relaxed, budget);
  return relaxed;
}

export interface Witness {
  /** The witness's operations, with their original outcomes. */
  readonly prepared: PreparedKey;
  readonly deepest: readonly number[];
  /** The witness comes from the prefix up to this event; later invokes are left out. */
  readonly cut: number;
}

/**
 * A small illegal sub-history of one key's operations, which must be illegal.
 * `budget` bounds the shrinking; whatever was reached when it runs out is kept.
 */
export function shrinkKey(ops: readonly Operation[], budget: SearchBudget): Witness {
  const cut = shortestPrefix(ops, budget);
  const relaxed = relaxAll(ops, cut, budget);
  const kept = new Set(prepareKey(viewsFor(ops, { cut, relaxed })).ops);
  const witnessOps = ops.filter((op) => kept.has(op));
  const verify: SearchBudget = { ...budget, remainingSteps: Math.max(budget.remainingSteps, 1_000_000), stopped: false, shouldStop: undefined };
  const prepared = prepareKey(original(witnessOps));
  const outcome = searchKey(prepared, verify, true);
  if (outcome.type === 'illegal') return { prepared, deepest: outcome.deepest ?? [], cut };
  // Invariant: the relaxed form was shown illegal, so the form with the
  // original outcomes (more constrained) is illegal too.
  assert(outcome.type !== 'linearizable', 'a shrunk witness turned out linearizable');
  // The bounded re-check could not finish: report the whole key instead.
  return { prepared: prepareKey(original(ops)), deepest: [], cut: Infinity };
}
