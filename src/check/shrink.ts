// Shrinking a non-linearizable key history to a small witness.
//
// Removing an operation is not safe in general (without the write of 3, a read
// of 3 becomes illegal for a new reason), so shrinking only uses moves that
// relax a history, where "the relaxed history is illegal" still implies "the
// original is illegal":
//   1. cut the history at an event (linearizability is prefix-closed; an
//      operation still running at the cut becomes unknown);
//   2. delete a read (it changes no state);
//   3. treat an ok cas as a plain write of its new value (same effect, no
//      precondition), which frees whatever wrote its expected value;
//   4. turn an ok write into an unknown-outcome one (it may now take effect at
//      any time after its invoke, or never); if nothing needs its value any
//      more, preparation then drops it altogether.
// The witness reported is the set of operations left, with their original
// events; restoring the original operations only adds constraints, so it is
// still illegal (checked again before it is reported).

import { assert } from '../core/assert.js';
import type { Operation } from './operations.js';
import { prepareKey, type KeyOpView, type PreparedKey } from './prepare.js';
import { searchKey, type SearchBudget } from './search.js';

/** How far an ok operation is relaxed: reads are deleted; a cas becomes a write, then unknown; a write becomes unknown. */
const AS_WRITE = 1;
const UNKNOWN = 2;
type Levels = ReadonlyMap<number, number>;

export function viewsFor(ops: readonly Operation[], cut: number, levels: Levels): KeyOpView[] {
  const out: KeyOpView[] = [];
  for (const op of ops) {
    if (op.invokeIndex > cut || op.status === 'fail') continue;
    const level = levels.get(op.id) ?? 0;
    if (level > 0 && op.f === 'read') continue;
    const done = op.completeIndex !== null && op.completeIndex <= cut;
    const info = op.status === 'info' || !done || level >= UNKNOWN;
    const asWrite = op.f === 'cas' && level >= AS_WRITE;
    out.push({ op: asWrite ? { ...op, f: 'write', expected: null } : op, info, returnIndex: op.completeIndex ?? Infinity });
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
  const cap = Math.min(budget.remainingSteps, 20_000 + 20 * views.length);
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
  const none = new Map<number, number>();
  let lo = 0;
  let hi = positions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (illegal(viewsFor(ops, positions[mid] as number, none), budget)) hi = mid;
    else lo = mid + 1;
  }
  return positions[hi] ?? Infinity;
}

/**
 * Delta-debugging: raise chunks of the candidates to `level`, halving the
 * chunk size, keeping each change under which the key stays illegal.
 */
function relaxChunks(ops: readonly Operation[], cut: number, candidates: readonly number[], level: number, levels: Map<number, number>, budget: SearchBudget): void {
  for (let size = Math.max(1, candidates.length >> 1); ; size >>= 1) {
    for (let start = 0; start < candidates.length; start += size) {
      const chunk = candidates.slice(start, start + size).filter((id) => (levels.get(id) ?? 0) < level);
      if (chunk.length === 0) continue;
      const trial = new Map(levels);
      for (const id of chunk) trial.set(id, level);
      if (illegal(viewsFor(ops, cut, trial), budget)) for (const id of chunk) levels.set(id, level);
    }
    if (size <= 1) return;
  }
}

/**
 * Reads first: deleting them makes later checks cheaper (trying first to
 * delete every read but the one that made the prefix illegal). Then cas into
 * writes, then writes into unknown ones.
 */
function relaxAll(ops: readonly Operation[], cut: number, budget: SearchBudget): Map<number, number> {
  const done = ops.filter((op) => op.status === 'ok' && op.completeIndex !== null && op.completeIndex <= cut);
  const ids = (f: (op: Operation) => boolean): number[] => done.filter(f).map((op) => op.id);
  const levels = new Map<number, number>();
  const others = ids((op) => op.f === 'read' && op.completeIndex !== cut);
  const allButCulprit = new Map(others.map((id) => [id, UNKNOWN]));
  if (illegal(viewsFor(ops, cut, allButCulprit), budget)) for (const id of others) levels.set(id, UNKNOWN);
  relaxChunks(ops, cut, ids((op) => op.f === 'read'), UNKNOWN, levels, budget);
  relaxChunks(ops, cut, ids((op) => op.f === 'cas'), AS_WRITE, levels, budget);
  relaxChunks(ops, cut, ids((op) => op.f !== 'read'), UNKNOWN, levels, budget);
  return levels;
}

export interface Witness {
  /** The witness's operations, with their original outcomes. */
  readonly prepared: PreparedKey;
  /** The longest legal order the search found, or null when the witness could not be re-checked. */
  readonly deepest: readonly number[] | null;
  /** The witness comes from the prefix up to this event; later invokes are left out. */
  readonly cut: number;
}

/**
 * A small illegal sub-history of one key's operations, which must be illegal.
 * `budget` bounds the shrinking; whatever was reached when it runs out is kept.
 */
export function shrinkKey(ops: readonly Operation[], budget: SearchBudget): Witness {
  const cut = shortestPrefix(ops, budget);
  const levels = relaxAll(ops, cut, budget);
  const kept = new Set(prepareKey(viewsFor(ops, cut, levels)).ops.map((op) => op.id));
  const witnessOps = ops.filter((op) => kept.has(op.id));
  const verify: SearchBudget = { ...budget, remainingSteps: Math.max(budget.remainingSteps, 1_000_000), stopped: false, shouldStop: undefined };
  const prepared = prepareKey(original(witnessOps));
  const outcome = searchKey(prepared, verify, true);
  if (outcome.type === 'illegal') return { prepared, deepest: outcome.deepest ?? [], cut };
  // Invariant: the relaxed form was shown illegal, so the form with the
  // original outcomes (more constrained) is illegal too.
  assert(outcome.type !== 'linearizable', 'a shrunk witness turned out linearizable');
  // The bounded re-check could not finish: report the whole key instead.
  return { prepared: prepareKey(original(ops)), deepest: null, cut: Infinity };
}
