// A brute-force reference for linearizability, written as plainly as possible
// and sharing no code with src/check: try every order of the operations that
// respects real time (an operation that completed before another was invoked
// comes first), with one register per key in a single global state (so it
// does not rely on locality either). Failed operations had no effect; info
// and never-completed operations may take effect at any time after their
// invoke, or never. Exponential (a plain memo of dead ends aside): for
// histories of a dozen operations or so.

import type { History, Value } from '../../src/check/history.js';

interface RefOp {
  readonly f: 'read' | 'write' | 'cas';
  readonly key: string;
  readonly status: 'ok' | 'fail' | 'info';
  readonly arg: Value | readonly [Value, Value];
  readonly result: Value;
  readonly call: number;
  readonly ret: number;
}

function operations(history: History): RefOp[] {
  const open = new Map<number, { call: number; inv: History[number] }>();
  const ops: RefOp[] = [];
  const finish = (call: number, inv: History[number], status: RefOp['status'], result: Value, ret: number): void => {
    ops.push({ f: inv.f, key: inv.key, status, arg: inv.value, result, call, ret });
  };
  history.forEach((e, i) => {
    if (e.type === 'invoke') {
      open.set(e.process, { call: i, inv: e });
      return;
    }
    const o = open.get(e.process);
    if (o === undefined) throw new Error(`reference: orphan completion at ${i}`);
    open.delete(e.process);
    finish(o.call, o.inv, e.type, e.type === 'ok' && e.f === 'read' ? (e.value as Value) : null, e.type === 'ok' ? i : Infinity);
  });
  for (const o of open.values()) finish(o.call, o.inv, 'info', null, Infinity);
  return ops.filter((op) => op.status !== 'fail' && !(op.status === 'info' && op.f === 'read'));
}

/** The new state after `op`, or undefined when `op` cannot take effect in `state`. */
function apply(state: ReadonlyMap<string, Value>, op: RefOp): Map<string, Value> | undefined {
  const cur = state.get(op.key) ?? null;
  if (op.f === 'read') return cur === op.result ? new Map(state) : undefined;
  if (op.f === 'write') return new Map(state).set(op.key, op.arg as Value);
  const [expected, next] = op.arg as readonly [Value, Value];
  return cur === expected ? new Map(state).set(op.key, next) : undefined;
}

export function referenceLinearizable(history: History): boolean {
  const ops = operations(history);
  const done = ops.map(() => false);
  // Memo of dead ends: (which operations are done, the state), as a string.
  const failed = new Set<string>();
  const search = (state: ReadonlyMap<string, Value>): boolean => {
    if (ops.every((op, i) => done[i] || op.status !== 'ok')) return true;
    const memoKey = `${done.map((d) => (d ? 1 : 0)).join('')}|${JSON.stringify([...state].sort())}`;
    if (failed.has(memoKey)) return false;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as RefOp;
      if (done[i]) continue;
      // Real time: nothing invoked after a pending completed op can go first.
      if (ops.some((o, j) => !done[j] && o.status === 'ok' && o.ret < op.call)) continue;
      const next = apply(state, op);
      if (next === undefined) continue;
      done[i] = true;
      const found = search(next);
      done[i] = false;
      if (found) return true;
    }
    failed.add(memoKey);
    return false;
  };
  return search(new Map());
}
