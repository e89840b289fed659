// The linearizability checker for key-value histories (Herlihy & Wing 1990).
//
// A register per key is a local object, so a history is linearizable exactly
// when each key's sub-history is (Herlihy & Wing §3.3, locality;
// "P-compositionality" in Horn & Kroening). Each key is checked on its own by
// the search in search.ts, smallest key first, so that a violation in a small
// key is found before a large key uses up the budget.

import type { History } from './history.js';
import { eventShapeError, pairOperations, type Operation } from './operations.js';
import { prepareKey } from './prepare.js';
import { searchKey, type SearchBudget } from './search.js';
import { shrinkKey } from './shrink.js';
import { eventNaming, explainWitness } from './explain.js';

export type Verdict =
  | { readonly result: 'ok' }
  | {
      readonly result: 'illegal';
      readonly key: string;
      readonly explanation: string;
      /** A small non-linearizable sub-history of `key` (the original events, in order). */
      readonly subHistory: History;
      /** Positions of subHistory's events in the checked history. */
      readonly subHistoryIndices: readonly number[];
    }
  | { readonly result: 'unknown'; readonly reason: string };

export interface CheckOptions {
  /** Search steps for the whole history (default 50,000,000). */
  readonly maxSteps?: number;
  /** Polled every few thousand steps; true stops the check with 'unknown'. */
  readonly shouldStop?: () => boolean;
  /** Memo limit per key, in 32-bit words of stored bitsets (default 32M words, 128 MiB). */
  readonly maxMemoWords?: number;
  /** Line numbers of the events (from parseHistory), used in explanations; else event numbers. */
  readonly eventLines?: readonly number[];
  /** Search steps spent looking for a small witness once a key is illegal (default 2,000,000). */
  readonly shrinkSteps?: number;
}

export interface CheckStats {
  readonly operations: number;
  readonly keys: number;
  readonly steps: number;
}

export const DEFAULT_MAX_STEPS = 50_000_000;
export const DEFAULT_MAX_MEMO_WORDS = 32 * 1024 * 1024;
export const DEFAULT_SHRINK_STEPS = 2_000_000;

export function checkLinearizability(history: History, options: CheckOptions = {}): Verdict {
  return analyzeHistory(history, options).verdict;
}

/** The verdict with the figures behind it. */
export function analyzeHistory(history: History, options: CheckOptions = {}): { verdict: Verdict; stats: CheckStats } {
  const naming = eventNaming(options.eventLines);
  const label = (i: number): string => `${naming.noun} ${naming.number(i)}`;
  for (let i = 0; i < history.length; i++) {
    const problem = eventShapeError(history[i]);
    if (problem !== null) return malformed(`${label(i)}: ${problem}`);
  }
  const paired = pairOperations(history, label);
  if (!paired.ok) return malformed(`${label(paired.index)}: ${paired.message}`);
  const byKey = groupByKey(paired.operations);
  const budget: SearchBudget = {
    remainingSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    shouldStop: options.shouldStop,
    maxMemoWords: options.maxMemoWords ?? DEFAULT_MAX_MEMO_WORDS,
    stepsTaken: 0,
    stopped: false,
  };
  const stats = (): CheckStats => ({ operations: paired.operations.length, keys: byKey.size, steps: budget.stepsTaken });
  const keys = [...byKey.keys()].sort((x, y) => (byKey.get(x) as Operation[]).length - (byKey.get(y) as Operation[]).length);
  let unknown: string | null = null;
  for (const key of keys) {
    const ops = byKey.get(key) as Operation[];
    const views = ops.map((op) => ({ op, info: op.status !== 'ok', returnIndex: op.completeIndex ?? Infinity }));
    const outcome = searchKey(prepareKey(views), budget);
    if (outcome.type === 'illegal') return { verdict: illegalVerdict(history, key, ops, budget, options), stats: stats() };
    if (outcome.type === 'unknown') {
      unknown = `key ${JSON.stringify(key)} (${ops.length} operations): ${outcome.reason}`;
      if (budget.stopped || budget.remainingSteps <= 0) break;
    }
  }
  const verdict: Verdict = unknown === null ? { result: 'ok' } : { result: 'unknown', reason: unknown };
  return { verdict, stats: stats() };
}

function malformed(reason: string): { verdict: Verdict; stats: CheckStats } {
  return { verdict: { result: 'unknown', reason: `malformed history: ${reason}` }, stats: { operations: 0, keys: 0, steps: 0 } };
}

function groupByKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  return byKey;
}

function illegalVerdict(history: History, key: string, ops: readonly Operation[], budget: SearchBudget, options: CheckOptions): Verdict {
  const shrinkBudget: SearchBudget = {
    ...budget,
    remainingSteps: options.shrinkSteps ?? DEFAULT_SHRINK_STEPS,
    stepsTaken: 0,
  };
  const witness = shrinkKey(ops, shrinkBudget);
  budget.stepsTaken += shrinkBudget.stepsTaken;
  const indices: number[] = [];
  for (const op of witness.prepared.ops) {
    indices.push(op.invokeIndex);
    if (op.completeIndex !== null) indices.push(op.completeIndex);
  }
  indices.sort((x, y) => x - y);
  return {
    result: 'illegal',
    key,
    explanation: explainWitness(key, witness, ops, eventNaming(options.eventLines)),
    subHistory: indices.map((i) => history[i] as History[number]),
    subHistoryIndices: indices,
  };
}

export { parseHistory, type ParseResult } from './parse.js';
