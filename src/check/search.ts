// The linearizability search for one key: Wing & Gong's backtracking over
// "which pending operation takes effect next", with Lowe's just-in-time
// linearization and memoization (as in Porcupine and Knossos).
//
// Calls and returns form one doubly linked list in history order. Scanning
// from the head, a call entry is a candidate to take effect next as long as no
// return entry precedes it (an operation that already completed must take
// effect before anything invoked after its completion). Linearizing an
// operation lifts both its entries out of the list; backtracking puts them
// back. Info operations have no return entry, so they may take effect at any
// point after their invoke, or never: the search succeeds once every ok
// operation is linearized.

import { assert } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { ConfigurationMemo } from './memo.js';
import { CAS, READ, type PreparedKey } from './prepare.js';

/** Shared by every key of one check: steps left, and the caller's stop signal. */
export interface SearchBudget {
  remainingSteps: number;
  readonly shouldStop: (() => boolean) | undefined;
  /** Limit on the memo's stored bitsets, in 32-bit words, per key. */
  readonly maxMemoWords: number;
  stepsTaken: number;
  stopped: boolean;
}

export type SearchOutcome =
  | { readonly type: 'linearizable' }
  | { readonly type: 'illegal'; readonly deepest: readonly number[] | null }
  | { readonly type: 'unknown'; readonly reason: string };

/** How often (in steps) the search polls `shouldStop`. */
const POLL_EVERY = 4096;

/** The register's next state, or -1 when the operation cannot take effect in `state`. */
export function applyOp(kind: number, a: number, b: number, state: number): number {
  if (kind === READ) return state === a ? state : -1;
  if (kind === CAS) return state === a ? b : -1;
  return b;
}

/** Entry order: calls and returns by position; an info call sits just before the next return. */
function entryOrder(p: PreparedKey): Int32Array {
  const ret: number[] = [];
  for (let i = 0; i < p.n; i++) if (p.info[i] === 0) ret.push(p.ret[i] as number);
  ret.sort((x, y) => x - y);
  const pos = new Float64Array(2 * p.n);
  const entries: number[] = [];
  for (let i = 0; i < p.n; i++) {
    const call = p.call[i] as number;
    if (p.info[i] === 1) {
      // Moving an info call forward past call entries only (never past a
      // return) leaves the set of candidates unchanged at every step; it
      // makes the search try ok operations first.
      const r = firstAbove(ret, call);
      pos[2 * i] = r === undefined ? Infinity : r - 0.5;
    } else {
      pos[2 * i] = call;
      pos[2 * i + 1] = p.ret[i] as number;
      entries.push(2 * i + 1);
    }
    entries.push(2 * i);
  }
  entries.sort((x, y) => (pos[x] as number) - (pos[y] as number) || (p.call[x >> 1] as number) - (p.call[y >> 1] as number));
  return Int32Array.from(entries);
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

/**
 * For each info operation, the previous info operation with the same effect
 * (kind, a, b), or -1. Two such operations are interchangeable once both are
 * invoked, so the later one may take effect only after the earlier one did.
 */
function symmetryChain(p: PreparedKey): Int32Array {
  const prev = new Int32Array(p.n).fill(-1);
  const last = new Map<string, number>();
  for (let i = 0; i < p.n; i++) {
    if (p.info[i] === 0) continue;
    const k = `${p.kind[i]}:${p.a[i]}:${p.b[i]}`;
    const j = last.get(k);
    if (j !== undefined) prev[i] = j;
    last.set(k, i);
  }
  return prev;
}

function zobrist(n: number, seed: number): [Int32Array, Int32Array] {
  const r = new Prng(seed);
  const za = new Int32Array(n);
  const zb = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    za[i] = r.nextU32() | 0;
    zb[i] = r.nextU32() | 0;
  }
  return [za, zb];
}

export function searchKey(p: PreparedKey, budget: SearchBudget, trackDeepest = false): SearchOutcome {
  if (p.okCount === 0) return { type: 'linearizable' };
  return new KeySearch(p, budget, trackDeepest).run();
}

class KeySearch {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head: number;
  private readonly bits: Uint32Array;
  private readonly memo: ConfigurationMemo;
  private readonly za: Int32Array;
  private readonly zb: Int32Array;
  private readonly symPrev: Int32Array;
  private readonly observers: Int32Array;
  private readonly linearized: Uint8Array;
  private readonly stackOp: Int32Array;
  private readonly stackState: Int32Array;
  private deepest: number[] | null = null;

  constructor(
    private readonly p: PreparedKey,
    private readonly budget: SearchBudget,
    private readonly trackDeepest: boolean,
  ) {
    const n = p.n;
    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1).fill(-1);
    this.prev = new Int32Array(2 * n + 1).fill(-1);
    let last = this.head;
    for (const e of entryOrder(p)) {
      this.next[last] = e;
      this.prev[e] = last;
      last = e;
    }
    this.bits = new Uint32Array(Math.ceil(n / 32));
    this.memo = new ConfigurationMemo(this.bits.length, budget.maxMemoWords);
    [this.za, this.zb] = zobrist(n, 0x5eed);
    this.symPrev = symmetryChain(p);
    this.observers = new Int32Array(p.values.length);
    for (let i = 0; i < n; i++) if (p.kind[i] !== 1) this.observers[p.a[i] as number]!++;
    this.linearized = new Uint8Array(n);
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
  }

  private lift(op: number): void {
    const c = 2 * op;
    this.next[this.prev[c] as number] = this.next[c] as number;
    if (this.next[c] !== -1) this.prev[this.next[c] as number] = this.prev[c] as number;
    if (this.p.info[op] === 0) {
      const r = c + 1;
      this.next[this.prev[r] as number] = this.next[r] as number;
      if (this.next[r] !== -1) this.prev[this.next[r] as number] = this.prev[r] as number;
    }
  }

  private unlift(op: number): void {
    const c = 2 * op;
    if (this.p.info[op] === 0) {
      const r = c + 1;
      if (this.next[r] !== -1) this.prev[this.next[r] as number] = r;
      this.next[this.prev[r] as number] = r;
    }
    if (this.next[c] !== -1) this.prev[this.next[c] as number] = c;
    this.next[this.prev[c] as number] = c;
  }

  /** An info operation is worth trying only if its value is still observed and it heads its symmetry chain. */
  private worthTrying(op: number): boolean {
    if (this.p.info[op] === 0) return true;
    const before = this.symPrev[op] as number;
    return this.observers[this.p.b[op] as number]! > 0 && (before < 0 || this.linearized[before] === 1);
  }

  private outOfBudget(): string | null {
    const b = this.budget;
    if (b.stopped || (b.shouldStop !== undefined && b.shouldStop())) {
      b.stopped = true;
      return 'stopped before the search finished (time limit)';
    }
    if (b.remainingSteps <= 0) return 'the search ran out of its step budget';
    if (this.memo.full) return `the search's memo table reached its limit (${this.memo.count} configurations)`;
    return null;
  }

  run(): SearchOutcome {
    const { p, next, bits, za, zb, observers, linearized, stackOp, stackState } = this;
    let okRemaining = p.okCount;
    let depth = 0;
    let state = 0;
    let ha = 0;
    let hb = 0;
    let steps = 0;
    let cur = next[this.head] as number;
    try {
      while (okRemaining > 0) {
        if (++steps % POLL_EVERY === 0) {
          this.budget.remainingSteps -= POLL_EVERY;
          const why = this.outOfBudget();
          if (why !== null) return { type: 'unknown', reason: why };
        }
        // Invariant: while an ok operation remains, its return entry ends the scan.
        assert(cur >= 0, 'scan ran off the end of the entry list');
        if ((cur & 1) === 0) {
          const op = cur >> 1;
          const ns = this.worthTrying(op) ? applyOp(p.kind[op] as number, p.a[op] as number, p.b[op] as number, state) : -1;
          if (ns >= 0) {
            const w = op >>> 5;
            const m = 1 << (op & 31);
            bits[w]! |= m;
            if (this.memo.add(bits, ha ^ (za[op] as number), hb ^ (zb[op] as number), ns)) {
              ha ^= za[op] as number;
              hb ^= zb[op] as number;
              stackOp[depth] = op;
              stackState[depth] = state;
              depth++;
              state = ns;
              linearized[op] = 1;
              if (p.kind[op] !== 1) observers[p.a[op] as number]!--;
              if (p.info[op] === 0) okRemaining--;
              this.lift(op);
              if (this.trackDeepest && depth > (this.deepest?.length ?? 0)) this.deepest = Array.from(stackOp.subarray(0, depth));
              cur = next[this.head] as number;
              continue;
            }
            bits[w]! &= ~m;
          }
          cur = next[cur] as number;
          continue;
        }
        if (depth === 0) return { type: 'illegal', deepest: this.trackDeepest ? (this.deepest ?? []) : null };
        depth--;
        const op = stackOp[depth] as number;
        state = stackState[depth] as number;
        bits[op >>> 5]! &= ~(1 << (op & 31));
        ha ^= za[op] as number;
        hb ^= zb[op] as number;
        linearized[op] = 0;
        if (p.kind[op] !== 1) observers[p.a[op] as number]!++;
        if (p.info[op] === 0) okRemaining++;
        this.unlift(op);
        cur = next[2 * op] as number;
      }
      return { type: 'linearizable' };
    } finally {
      this.budget.remainingSteps -= steps % POLL_EVERY;
      this.budget.stepsTaken += steps;
    }
  }
}
