// The register model for one key, compiled into flat arrays for the search.
//
// Values are interned to small integers (0 is null, the initial "absent"
// state). Each operation becomes (kind, a, b): read a; write b; cas a -> b.
// Operations that cannot matter are dropped first, as Jepsen/Knossos do:
// a "fail" had no effect; a read with an unknown outcome constrains nothing;
// and an operation with an unknown outcome whose value nobody observes (no
// read returns it, no cas expects it) can always be left out, because
// whatever follows it in any order must overwrite it unseen (see
// dropUnobservedInfo for the precise rule).

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
 * Keeps an info write or cas only if its new value is "needed": observed by
 * an ok operation (a read, or a cas expecting it), or expected by a kept info
 * cas whose own value is needed (a fixed point). Why this is safe: in a legal
 * order, an info operation followed by anything but a read or cas of its value
 * can be left out (what follows is a write, which does not care); so some
 * legal order has every info operation followed by an observer of its value,
 * which is either ok or an info cas followed in turn by an observer, and so
 * on until an ok operation. A cas whose expected and new values are equal
 * changes nothing and goes too.
 */
function dropUnobservedInfo(views: readonly KeyOpView[]): KeyOpView[] {
  const needed = new Set<string>();
  for (const v of views) if (!v.info && observes(v)) needed.add(observedKey(v));
  const infoCas = views.filter((v) => v.info && v.op.f === 'cas' && valueKey(v.op.expected) !== valueKey(v.op.value));
  for (let changed = true; changed; ) {
    changed = false;
    for (const v of infoCas) {
      if (needed.has(valueKey(v.op.value)) && !needed.has(observedKey(v))) {
        needed.add(observedKey(v));
        changed = true;
      }
    }
  }
  return views.filter((v) => {
    if (!v.info) return true;
    if (v.op.f === 'cas' && valueKey(v.op.expected) === valueKey(v.op.value)) return false;
    return needed.has(valueKey(v.op.value));
  });
}
