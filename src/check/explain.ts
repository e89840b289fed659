// A readable reason why a (small) key history is not linearizable. A few
// common shapes are named directly (a value nobody wrote, a read from the
// future, a stale read); otherwise the explanation shows the longest legal
// order the search found and why nothing can follow it.

import type { Value } from './history.js';
import type { Operation } from './operations.js';
import { READ, type PreparedKey } from './prepare.js';
import { applyOp } from './search.js';

/** How event positions are named: line numbers of a file, or 1-based event numbers. */
export interface EventNaming {
  readonly noun: 'line' | 'event';
  readonly number: (index: number) => number;
}

export function eventNaming(lines: readonly number[] | undefined): EventNaming {
  if (lines === undefined) return { noun: 'event', number: (i) => i + 1 };
  return { noun: 'line', number: (i) => lines[i] ?? i + 1 };
}

const show = (v: Value): string => JSON.stringify(v);

/** "read by process 1 (lines 3–4)"; with `full`, a read shows its result: "read → 3 by ...". */
export function describeOp(op: Operation, naming: EventNaming, full = false): string {
  const what = op.f === 'read' ? (full && op.status === 'ok' ? `read → ${show(op.value)}` : 'read') : op.f === 'write' ? `write of ${show(op.value)}` : `cas ${show(op.expected)}→${show(op.value)}`;
  const at = naming.number(op.invokeIndex);
  const where = op.status === 'info' || op.completeIndex === null
    ? `invoked at ${naming.noun} ${at}, outcome unknown`
    : `${naming.noun}s ${at}–${naming.number(op.completeIndex)}${op.status === 'fail' ? ', failed' : ''}`;
  return `${what} by process ${op.process} (${where})`;
}

export interface WitnessView {
  readonly prepared: PreparedKey;
  readonly deepest: readonly number[] | null;
  readonly cut: number;
}

export function explainWitness(key: string, witness: WitnessView, all: readonly Operation[], naming: EventNaming): string {
  const { prepared: p, deepest } = witness;
  const later = all.some((op) => op.invokeIndex > witness.cut)
    ? ` Operations invoked after ${naming.noun} ${naming.number(witness.cut)} are left out: they cannot take effect before it, and linearizability is prefix-closed.`
    : '';
  const d = (i: number): string => describeOp(p.ops[i] as Operation, naming);
  const reason = namedShape(p.ops, all, (op) => describeOp(op, naming)) ?? (deepest === null ? 'The search found no order of its operations that respects both real time and the register (the budget ran out before a smaller witness was found).' : longestOrder(p, deepest, d));
  const listed = p.ops.slice(0, 20).map((op) => `  - ${describeOp(op, naming, true)}`);
  if (p.n > 20) listed.push(`  - ... and ${p.n - 20} more`);
  return [
    `Key ${JSON.stringify(key)} is not linearizable. ${reason}`,
    `A failing sub-history of ${p.n} operation${p.n === 1 ? '' : 's'}: no order of ${p.n === 1 ? 'it' : 'them'} respects both real time and a register's semantics.${later}`,
    ...listed,
  ].join('\n');
}

const retOf = (op: Operation): number => (op.status === 'ok' && op.completeIndex !== null ? op.completeIndex : Infinity);

/** Operations of the whole key (other than `o`) that may set the register to `v`. */
function settersOf(all: readonly Operation[], v: Value, o: Operation): Operation[] {
  return all.filter((s) => s !== o && s.f !== 'read' && s.status !== 'fail' && s.value === v);
}

/**
 * Shapes that prove a violation on their own. They are judged against every
 * operation of the key (`all`), not only the witness, so that what they say is
 * true of the whole history.
 */
function namedShape(witness: readonly Operation[], all: readonly Operation[], d: (op: Operation) => string): string | null {
  // Latest first: the witness usually ends with the operation that broke it.
  for (const o of [...witness].reverse()) {
    if (o.status !== 'ok' || o.f === 'write') continue;
    const v = o.f === 'read' ? o.value : o.expected;
    const verb = o.f === 'read' ? 'returned' : 'expected';
    const setters = settersOf(all, v, o);
    const val = show(v);
    if (v !== null && setters.length === 0) {
      const failed = all.find((f) => f.status === 'fail' && f.f !== 'read' && f.value === v);
      const note = failed === undefined ? '' : `; the ${d(failed)} had no effect`;
      return `The ${d(o)} ${verb} ${val}, but no operation wrote ${val}${note}.`;
    }
    if (v !== null && setters.every((s) => s.invokeIndex > retOf(o))) {
      const which = setters.length === 1 ? `the only operation that wrote ${val}, the ${d(setters[0] as Operation)},` : `every operation that wrote ${val}`;
      return `The ${d(o)} ${verb} ${val}, but ${which} began after it completed.`;
    }
    const overwrote = (w: Operation): boolean =>
      w.status === 'ok' && w.f !== 'read' && w.value !== v && retOf(w) < o.invokeIndex && setters.every((s) => retOf(s) < w.invokeIndex);
    const stale = witness.find(overwrote) ?? all.find(overwrote);
    if (stale !== undefined) {
      const before = v === null ? 'and nothing set it back to null' : `after every write of ${val} had completed`;
      return `The ${d(o)} ${verb} ${val}, a stale value: the ${d(stale)} completed before it began, ${before}.`;
    }
  }
  return null;
}

function longestOrder(p: PreparedKey, deepest: readonly number[], d: (i: number) => string): string {
  let state = 0;
  const done = new Uint8Array(p.n);
  for (const op of deepest) {
    state = applyOp(p.kind[op] as number, p.a[op] as number, p.b[op] as number, state);
    done[op] = 1;
  }
  let firstReturn = Infinity;
  for (let i = 0; i < p.n; i++) if (done[i] === 0 && p.info[i] === 0) firstReturn = Math.min(firstReturn, p.ret[i] as number);
  const shown = deepest.length <= 8 ? deepest.map(d) : [...deepest.slice(0, 2).map(d), `(${deepest.length - 6} more)`, ...deepest.slice(-4).map(d)];
  const lines: string[] = [];
  lines.push(deepest.length === 0
    ? 'No operation can take effect first:'
    : `The longest legal order found is: ${shown.join('; then ')}. The register then holds ${show(p.values[state] as Value)}, and:`);
  let listed = 0;
  for (let i = 0; i < p.n; i++) {
    if (done[i] === 1 || (p.call[i] as number) > firstReturn) continue;
    if (++listed > 10) continue;
    const next = applyOp(p.kind[i] as number, p.a[i] as number, p.b[i] as number, state);
    const held = show(p.values[state] as Value);
    const why = next >= 0
      ? 'could go next, but no complete order follows'
      : `cannot go next: it ${p.kind[i] === READ ? 'returned' : 'expected'} ${show(p.values[p.a[i] as number] as Value)} while the register held ${held}`;
    lines.push(`  The ${d(i)} ${why}.`);
  }
  if (listed > 10) lines.push(`  ... and ${listed - 10} more operations that could go next.`);
  return lines.join('\n');
}
