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
import { EntryList } from './entries.js';
import { CAS, READ, WRITE, type PreparedKey } from './prepare.js';

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

/**
 * Info operations with the same effect (kind, a, b) are interchangeable once
 * invoked, so they form a chain in invoke order and only the first not yet
 * linearized one may take effect: the linearized ones are always a prefix.
 */
function buildChains(p: PreparedKey): { next: Int32Array; chainOf: Int32Array; heads: Int32Array } {
  const next = new Int32Array(p.n).fill(-1);
  const chainOf = new Int32Array(p.n).fill(-1);
  const heads: number[] = [];
  const last = new Map<string, number>();
  for (let i = 0; i < p.n; i++) {
    if (p.info[i] === 0) continue;
    const k = `${p.kind[i]}:${p.a[i]}:${p.b[i]}`;
    const j = last.get(k);
    if (j === undefined) {
      chainOf[i] = heads.length;
      heads.push(i);
    } else {
      next[j] = i;
      chainOf[i] = chainOf[j] as number;
    }
    last.set(k, i);
  }
  return { next, chainOf, heads: Int32Array.from(heads) };
}

/** For each value, the chains that set it (compressed rows). */
function chainsByValue(p: PreparedKey, heads: Int32Array): [Int32Array, Int32Array] {
  const start = new Int32Array(p.values.length + 1);
  for (const h of heads) start[(p.b[h] as number) + 1]!++;
  for (let v = 0; v < p.values.length; v++) start[v + 1]! += start[v] as number;
  const fill = start.slice(0, p.values.length);
  const rows = new Int32Array(heads.length);
  heads.forEach((h, c) => {
    rows[fill[p.b[h] as number]!++] = c;
  });
  return [start, rows];
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

// The search state is the register's value id shifted left by one, with the
// low bit set right after an info operation took effect. Why: in any legal
// order, an info operation followed by something other than a read or cas of
// its value can be left out (the follower is a write, which does not care),
// so the search only lets a read or cas follow an info operation. The bit is
// part of the memoized configuration, since it restricts what may follow.

export function searchKey(p: PreparedKey, budget: SearchBudget, trackDeepest = false): SearchOutcome {
  if (p.okCount === 0) return { type: 'linearizable' };
  return new KeySearch(p, budget, trackDeepest).run();
}

class KeySearch {
  private readonly list: EntryList;
  private readonly bits: Uint32Array;
  private readonly memo: ConfigurationMemo;
  private readonly za: Int32Array;
  private readonly zb: Int32Array;
  /** Info operations with the same effect form a chain; only its head is in the list. */
  private readonly chainNext: Int32Array;
  /** For value v, the chains whose operations set v: chainsOf[chainStart[v] .. chainStart[v+1]). */
  private readonly chainStart: Int32Array;
  private readonly chainsOf: Int32Array;
  /** The first operation of each chain not yet linearized (-1 when none), by chain id. */
  private readonly chainHead: Int32Array;
  private readonly chainOf: Int32Array;
  /** Unlinearized operations observing each value (reads of it, cas expecting it). */
  private readonly observers: Int32Array;
  private readonly stackOp: Int32Array;
  private readonly stackState: Int32Array;
  /** Chain heads removed because nobody observes their value any more, and how many per push. */
  private readonly dead: number[] = [];
  private readonly deadCount: Int32Array;
  private readonly observedAt: Int32Array;
  private deepest: number[] | null = null;
  private okRemaining: number;
  private depth = 0;
  private state = 0;
  private ha = 0;
  private hb = 0;
  /** Bumped whenever the list changes; `observedAt` is valid for scan `regionScan`. */
  private scan = 1;
  private regionScan = 0;

  constructor(
    private readonly p: PreparedKey,
    private readonly budget: SearchBudget,
    private readonly trackDeepest: boolean,
  ) {
    const n = p.n;
    this.observers = new Int32Array(p.values.length);
    for (let i = 0; i < n; i++) if (p.kind[i] !== WRITE) this.observers[p.a[i] as number]!++;
    const chains = buildChains(p);
    this.chainNext = chains.next;
    this.chainOf = chains.chainOf;
    this.chainHead = chains.heads.slice();
    [this.chainStart, this.chainsOf] = chainsByValue(p, chains.heads);
    this.list = new EntryList(p, (i) => chains.heads[chains.chainOf[i] as number] === i && this.observers[p.b[i] as number]! > 0);
    this.bits = new Uint32Array(Math.ceil(n / 32));
    this.memo = new ConfigurationMemo(this.bits.length, budget.maxMemoWords);
    [this.za, this.zb] = zobrist(n, 0x5eed);
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.deadCount = new Int32Array(n);
    this.observedAt = new Int32Array(p.values.length);
    this.okRemaining = p.okCount;
  }

  /** An info operation is worth trying only if a candidate that may go right after it observes its value. */
  private worthTrying(op: number): boolean {
    if (this.p.info[op] === 0) return true;
    if (this.regionScan !== this.scan) this.markCandidateObservers();
    return this.observedAt[this.p.b[op] as number] === this.scan;
  }

  /** Marks the values that candidates (the call entries before the first return entry) observe. */
  private markCandidateObservers(): void {
    const { next, head } = this.list;
    this.regionScan = this.scan;
    for (let e = next[head] as number; e >= 0 && (e & 1) === 0; e = next[e] as number) {
      const o = e >> 1;
      if (this.p.kind[o] !== WRITE) this.observedAt[this.p.a[o] as number] = this.scan;
    }
  }

  /** Linearizes `op`, taking the register to search state `ns`. */
  private push(op: number, ns: number): void {
    const p = this.p;
    this.ha ^= this.za[op] as number;
    this.hb ^= this.zb[op] as number;
    this.stackOp[this.depth] = op;
    this.stackState[this.depth] = this.state;
    this.state = ns;
    this.list.remove(2 * op);
    if (p.info[op] === 0) this.list.remove(2 * op + 1);
    else {
      const after = this.chainNext[op] as number;
      this.chainHead[this.chainOf[op] as number] = after;
      if (after >= 0) this.list.insertAfter(this.list.prev[2 * op] as number, 2 * after);
    }
    let killed = 0;
    if (p.kind[op] !== WRITE) {
      const v = p.a[op] as number;
      // Nobody left observes v: the chains that set v are useless from now on.
      if (--this.observers[v]! === 0) killed = this.killChains(v);
    }
    this.deadCount[this.depth] = killed;
    this.depth++;
    if (p.info[op] === 0) this.okRemaining--;
    this.scan++;
    if (this.trackDeepest && this.depth > (this.deepest?.length ?? 0)) this.deepest = Array.from(this.stackOp.subarray(0, this.depth));
  }

  private killChains(v: number): number {
    let killed = 0;
    for (let k = this.chainStart[v] as number; k < (this.chainStart[v + 1] as number); k++) {
      const h = this.chainHead[this.chainsOf[k] as number] as number;
      if (h < 0) continue;
      this.list.remove(2 * h);
      this.dead.push(h);
      killed++;
    }
    return killed;
  }

  /** Undoes the last linearization; returns its operation. */
  private pop(): number {
    const p = this.p;
    this.depth--;
    const op = this.stackOp[this.depth] as number;
    this.state = this.stackState[this.depth] as number;
    this.bits[op >>> 5]! &= ~(1 << (op & 31));
    this.ha ^= this.za[op] as number;
    this.hb ^= this.zb[op] as number;
    for (let k = this.deadCount[this.depth] as number; k > 0; k--) this.list.restore(2 * (this.dead.pop() as number));
    if (p.kind[op] !== WRITE) this.observers[p.a[op] as number]!++;
    if (p.info[op] === 0) {
      this.list.restore(2 * op + 1);
      this.okRemaining++;
    } else {
      const after = this.chainNext[op] as number;
      if (after >= 0) this.list.remove(2 * after);
      this.chainHead[this.chainOf[op] as number] = op;
    }
    this.list.restore(2 * op);
    this.scan++;
    return op;
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
    const { p, bits } = this;
    const { next, head } = this.list;
    let steps = 0;
    let cur = next[head] as number;
    try {
      while (this.okRemaining > 0) {
        if (++steps % POLL_EVERY === 0) {
          this.budget.remainingSteps -= POLL_EVERY;
          const why = this.outOfBudget();
          if (why !== null) return { type: 'unknown', reason: why };
        }
        // Invariant: while an ok operation remains, its return entry ends the scan.
        assert(cur >= 0, 'scan ran off the end of the entry list');
        if ((cur & 1) === 1) {
          if (this.depth === 0) return { type: 'illegal', deepest: this.trackDeepest ? (this.deepest ?? []) : null };
          cur = next[2 * this.pop()] as number;
          continue;
        }
        const op = cur >> 1;
        // After an info operation, only an operation that observes its value
        // may follow (else the info operation could be left out).
        const allowed = (this.state & 1) === 0 || p.kind[op] !== WRITE;
        const nv = allowed && this.worthTrying(op) ? applyOp(p.kind[op] as number, p.a[op] as number, p.b[op] as number, this.state >> 1) : -1;
        if (nv >= 0) {
          const ns = (nv << 1) | (p.info[op] as number);
          const w = op >>> 5;
          const m = 1 << (op & 31);
          bits[w]! |= m;
          if (this.memo.add(bits, this.ha ^ (this.za[op] as number), this.hb ^ (this.zb[op] as number), ns)) {
            this.push(op, ns);
            cur = next[head] as number;
            continue;
          }
          bits[w]! &= ~m;
        }
        cur = next[cur] as number;
      }
      return { type: 'linearizable' };
    } finally {
      this.budget.remainingSteps -= steps % POLL_EVERY;
      this.budget.stepsTaken += steps;
    }
  }
}
