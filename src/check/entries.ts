// The entry list of Lowe's algorithm: call and return entries of one key's
// operations, as a doubly linked list in history order. Entry 2i is operation
// i's call, 2i+1 its return. Removing and restoring entries is LIFO (the
// search backtracks in reverse order), so a removed entry keeps its own
// links and can be put back where it was in O(1).

import type { PreparedKey } from './prepare.js';

export class EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The sentinel before the first entry. */
  readonly head: number;
  /** Sort position of each entry (see `order`). */
  private readonly pos: Float64Array;

  /** `present(i)` says whether operation i's call starts in the list. */
  constructor(private readonly p: PreparedKey, present: (op: number) => boolean) {
    const n = p.n;
    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1).fill(-1);
    this.prev = new Int32Array(2 * n + 1).fill(-1);
    this.pos = positions(p);
    const entries: number[] = [];
    for (let i = 0; i < n; i++) {
      if (p.info[i] === 0) entries.push(2 * i, 2 * i + 1);
      else if (present(i)) entries.push(2 * i);
    }
    entries.sort((x, y) => this.compare(x, y));
    let last = this.head;
    for (const e of entries) {
      this.next[last] = e;
      this.prev[e] = last;
      last = e;
    }
  }

  private compare(x: number, y: number): number {
    return (this.pos[x] as number) - (this.pos[y] as number) || (this.p.call[x >> 1] as number) - (this.p.call[y >> 1] as number);
  }

  remove(e: number): void {
    const { next, prev } = this;
    next[prev[e] as number] = next[e] as number;
    if (next[e] !== -1) prev[next[e] as number] = prev[e] as number;
  }

  /** Undoes the most recent remove(e) still in effect (LIFO). */
  restore(e: number): void {
    const { next, prev } = this;
    if (next[e] !== -1) prev[next[e] as number] = e;
    next[prev[e] as number] = e;
  }

  /** Inserts e in order, searching forward from entry `from` (which sorts before e). */
  insertAfter(from: number, e: number): void {
    const { next, prev } = this;
    let at = from;
    for (let n = next[at] as number; n !== -1 && this.compare(n, e) < 0; n = next[n] as number) at = n;
    next[e] = next[at] as number;
    prev[e] = at;
    if (next[at] !== -1) prev[next[at] as number] = e;
    next[at] = e;
  }
}

/**
 * Calls and returns sort by their event position, except info calls: each
 * sits just before the first return entry that follows its invoke. Moving a
 * call forward past calls only (never past a return) leaves the candidates
 * unchanged at every step, and makes the search try ok operations first.
 */
function positions(p: PreparedKey): Float64Array {
  const returns: number[] = [];
  for (let i = 0; i < p.n; i++) if (p.info[i] === 0) returns.push(p.ret[i] as number);
  returns.sort((x, y) => x - y);
  const pos = new Float64Array(2 * p.n);
  for (let i = 0; i < p.n; i++) {
    const call = p.call[i] as number;
    if (p.info[i] === 1) {
      const r = firstAbove(returns, call);
      pos[2 * i] = r === undefined ? Infinity : r - 0.5;
    } else {
      pos[2 * i] = call;
      pos[2 * i + 1] = p.ret[i] as number;
    }
  }
  return pos;
}

function firstAbove(sorted: readonly number[], x: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return sorted[lo];
}
