// The register model for one key, compiled into flat arrays for the search.
//
// Values are interned to small integers (0 is null, the initial "absent"
// state). Each operation becomes (kind, a, b): read a; write b; cas a -> b.
// Operations that cannot matter are dropped first, as Jepsen/Knossos do:
// a "fail" had no effect; a read with an unknown outcome constrains nothing;
// and an operation with an unknown outcome whose value nobody observes (no
// read returns it, no cas expects it) can always be left out, because
// whatever follows it in any order must overwrite it unseen.

import { assert } from '../core/assert.js';
import type { Value } from './history.js';
import type { Operation } from './operations.js';

export const READ = 0;
export const WRITE = 1;
export const CAS = 2;

/** An operation as the search sees it: `info` ops need not be linearized. */
export interface KeyOpView {
  readonly op: Operation;
  readonly info: boolean;
  /** The completion's position; ignored when `info`. */
  readonly returnIndex: number;
}

export interface PreparedKey {
  readonly n: number;
  /** ops[i] is the source of prepared operation i, ordered by invoke. */
  readonly ops: readonly Operation[];
  readonly kind: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly info: Uint8Array;
  readonly call: Float64Array;
  /** Infinity for info operations. */
  readonly ret: Float64Array;
  readonly values: readonly Value[];
  readonly okCount: number;
}

function valueKey(v: Value): string {
  return v === null ? 'null' : `${typeof v}:${String(v)}`;
}

/** Returns the prepared key, keeping only the operations that can matter. */
export function prepareKey(views: readonly KeyOpView[]): PreparedKey {
  const relevant = views.filter((v) => v.op.status !== 'fail' && !(v.info && v.op.f === 'read'));
  const kept = dropUnobservedInfo(relevant);
  kept.sort((x, y) => x.op.invokeIndex - y.op.invokeIndex);
  const n = kept.length;
  const intern = new Map<string, number>([['null', 0]]);
  const values: Value[] = [null];
  const id = (v: Value): number => {
    const k = valueKey(v);
    let i = intern.get(k);
    if (i === undefined) {
      i = values.length;
      intern.set(k, i);
      values.push(v);
    }
    return i;
  };
  const p = {
    n,
    ops: kept.map((v) => v.op),
    kind: new Uint8Array(n),
    a: new Int32Array(n),
    b: new Int32Array(n),
    info: new Uint8Array(n),
    call: new Float64Array(n),
    ret: new Float64Array(n),
    values,
    okCount: 0,
  };
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const v = kept[i] as KeyOpView;
    const f = v.op.f;
    p.kind[i] = f === 'read' ? READ : f === 'write' ? WRITE : CAS;
    p.a[i] = f === 'write' ? 0 : f === 'read' ? id(v.op.value) : id(v.op.expected);
    p.b[i] = f === 'read' ? 0 : id(v.op.value);
    p.info[i] = v.info ? 1 : 0;
    p.call[i] = v.op.invokeIndex;
    p.ret[i] = v.info ? Infinity : v.returnIndex;
    // Invariant: an operation completes after it was invoked.
    assert(p.ret[i]! > p.call[i]!, 'completion precedes invoke');
    if (!v.info) ok++;
  }
  p.okCount = ok;
  return p;
}

function observes(v: KeyOpView): boolean {
  return v.op.f === 'read' || v.op.f === 'cas';
}

function observedKey(v: KeyOpView): string {
  return valueKey(v.op.f === 'read' ? v.op.value : v.op.expected);
}

/**
 * Drops, to a fixed point, every info write or cas whose new value no other
 * remaining operation observes (a cas whose expected and new values are equal
 * changes nothing and goes too). Why this is safe: in any legal order, the
 * operation that follows such a write is neither a read of its value nor a
 * cas expecting it, so it is a write, and removing the dropped one changes
 * nothing that anyone sees.
 */
function dropUnobservedInfo(views: readonly KeyOpView[]): KeyOpView[] {
  const observers = new Map<string, number>();
  for (const v of views) {
    if (observes(v)) observers.set(observedKey(v), (observers.get(observedKey(v)) ?? 0) + 1);
  }
  const alive = views.map(() => true);
  let changed = true;
  while (changed) {
    changed = false;
    views.forEach((v, i) => {
      if (!alive[i] || !v.info) return;
      const own = observes(v) && observedKey(v) === valueKey(v.op.value) ? 1 : 0;
      const noEffect = v.op.f === 'cas' && valueKey(v.op.expected) === valueKey(v.op.value);
      if (noEffect || (observers.get(valueKey(v.op.value)) ?? 0) - own === 0) {
        alive[i] = false;
        changed = true;
        if (observes(v)) observers.set(observedKey(v), (observers.get(observedKey(v)) ?? 0) - 1);
      }
    });
  }
  return views.filter((_, i) => alive[i]);
}
