// The linearizability search for one key: Wing & Gong's backtracking over
// "which pending operation takes effect next", with Lowe's just-in-time
// linearization and memoization (as in Porcupine and Knossos).
//
// Calls and returns form one doubly linked list in history order. Scanning
// from the head, a call entry is a candidate to take effect next as long as no
// return entry precedes it (an operation that already completed must take
// effect before anything invoked after its completion). Linearizing an
// operation lifts its entries out of the list; backtracking puts them back.
// Info operations have no return entry, so they may take effect at any point
// after their invoke, or never: the search succeeds once every ok operation
// is linearized.
//
// Reductions, each of which keeps some legal order if there is one:
//   - memo: a configuration (settled operations, register state) is explored
//     once (memo.ts, settled.ts);
//   - a candidate read of the current value is taken without branching
//     (matchingRead); of ok writes or cas with the same effect, only the one
//     that returns first is tried (region.ts);
//   - info operations with the same effect are interchangeable, so they form a
//     chain of which only the head is in the list (buildChains);
//   - an info operation is followed at once by a read or cas of its value, its
//     run of info operations never returns to a value it held, and leads to a
//     candidate ok operation (worthTrying); once no one is left to observe its
//     value, its chain leaves the list and counts as settled (killChains).

import { assert } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { ConfigurationMemo } from './memo.js';
import { EntryList } from './entries.js';
import { SettledSet } from './settled.js';
import { CandidateRegion } from './region.js';
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
/** `cur` values that are not entries: a new configuration to start on, and a failed search. */
const FRESH = -2;
const ILLEGAL = -3;

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
  /** Settled ok operations (linearized), and settled info operations (linearized or useless for good). */
  private readonly okSet: SettledSet;
  private readonly infoSet: SettledSet;
  /** Each operation's index in its set. */
  private readonly setIndex: Int32Array;
  private readonly key: Uint32Array;
  /** low and high of both sets before each push. */
  private readonly saved: Int32Array;
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
  /** 1 where the pushed operation was a read taken without branching. */
  private readonly forced: Uint8Array;
  /** Chain heads removed because nobody observes their value any more, and how many per push. */
  private readonly dead: number[] = [];
  private readonly deadCount: Int32Array;
  private readonly region: CandidateRegion;
  private deepest: number[] | null = null;
  private okRemaining: number;
  private depth = 0;
  private state = 0;
  private ha = 0;
  private hb = 0;
  /** Bumped whenever the list changes (the region's stamp). */
  private scan = 1;

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
    this.setIndex = new Int32Array(n);
    let okN = 0;
    let infoN = 0;
    for (let i = 0; i < n; i++) this.setIndex[i] = p.info[i] === 0 ? okN++ : infoN++;
    this.okSet = new SettledSet(okN);
    this.infoSet = new SettledSet(infoN);
    this.key = new Uint32Array(this.okSet.bits.length + this.infoSet.bits.length + p.values.length + 8);
    this.saved = new Int32Array(4 * n);
    this.memo = new ConfigurationMemo(budget.maxMemoWords, 2 * n);
    [this.za, this.zb] = zobrist(n, 0x5eed);
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.forced = new Uint8Array(n);
    this.deadCount = new Int32Array(n);
    this.region = new CandidateRegion(p);
    this.okRemaining = p.okCount;
  }

  /**
   * Whether `op` (which could take the register to `value`) is worth trying
   * next. An ok write or cas: only if it returns first among the candidates
   * with its effect. An info operation: only if, right after it, a run of
   * candidate info cas can lead to a candidate ok operation that observes
   * the result (else it could be left out), and the run so far has not held
   * that value (a run that comes back to a value can be cut short).
   */
  private worthTrying(op: number, value: number): boolean {
    const p = this.p;
    if (p.info[op] === 0 && p.kind[op] === READ) return true;
    if (this.region.analyzedAt !== this.scan) this.region.analyze(this.list, this.scan);
    if (p.info[op] === 0) return this.region.firstOfClass(op);
    if (!this.region.usefulValue(value) || value === this.state >> 1) return false;
    for (let d = this.depth - 1; d >= 0 && p.info[this.stackOp[d] as number] === 1; d--) {
      if ((this.stackState[d] as number) >> 1 === value) return false;
    }
    return true;
  }

  private settle(op: number): void {
    this.ha ^= this.za[op] as number;
    this.hb ^= this.zb[op] as number;
    (this.p.info[op] === 0 ? this.okSet : this.infoSet).settle(this.setIndex[op] as number);
  }

  private unsettle(op: number): void {
    this.ha ^= this.za[op] as number;
    this.hb ^= this.zb[op] as number;
    (this.p.info[op] === 0 ? this.okSet : this.infoSet).unsettle(this.setIndex[op] as number);
  }

  /** Linearizes `op`, taking the register to search state `ns`. */
  private push(op: number, ns: number, forced: boolean): void {
    const p = this.p;
    const d = this.depth;
    this.saved[4 * d] = this.okSet.low;
    this.saved[4 * d + 1] = this.okSet.high;
    this.saved[4 * d + 2] = this.infoSet.low;
    this.saved[4 * d + 3] = this.infoSet.high;
    this.stackOp[d] = op;
    this.stackState[d] = this.state;
    this.forced[d] = forced ? 1 : 0;
    this.state = ns;
    this.settle(op);
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
    this.deadCount[d] = killed;
    this.depth++;
    if (p.info[op] === 0) this.okRemaining--;
    this.scan++;
    if (this.trackDeepest && this.depth > (this.deepest?.length ?? 0)) this.deepest = Array.from(this.stackOp.subarray(0, this.depth));
  }

  /**
   * Removes the chains that set v from the list, and counts their remaining
   * members as settled: a configuration where they are useless is equivalent
   * to one where they took effect, for the memo.
   */
  private killChains(v: number): number {
    let killed = 0;
    for (let k = this.chainStart[v] as number; k < (this.chainStart[v + 1] as number); k++) {
      const h = this.chainHead[this.chainsOf[k] as number] as number;
      if (h < 0) continue;
      this.list.remove(2 * h);
      for (let m = h; m >= 0; m = this.chainNext[m] as number) this.settle(m);
      this.dead.push(h);
      killed++;
    }
    return killed;
  }

  /** Undoes the last linearization; returns its operation. */
  private pop(): number {
    const p = this.p;
    this.depth--;
    const d = this.depth;
    const op = this.stackOp[d] as number;
    this.state = this.stackState[d] as number;
    for (let k = this.deadCount[d] as number; k > 0; k--) {
      const h = this.dead.pop() as number;
      for (let m = h; m >= 0; m = this.chainNext[m] as number) this.unsettle(m);
      this.list.restore(2 * h);
    }
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
    this.unsettle(op);
    this.okSet.low = this.saved[4 * d] as number;
    this.okSet.high = this.saved[4 * d + 1] as number;
    this.infoSet.low = this.saved[4 * d + 2] as number;
    this.infoSet.high = this.saved[4 * d + 3] as number;
    this.scan++;
    return op;
  }

  /**
   * Records the current configuration; false when it was reached before. In
   * a run of info operations, the values the run has held restrict what may
   * follow, so they are part of the configuration.
   */
  private remember(): boolean {
    let len = this.infoSet.encode(this.key, this.okSet.encode(this.key, 0));
    if ((this.state & 1) === 1) {
      const start = len;
      const key = this.key;
      for (let d = this.depth - 1; d >= 0 && this.p.info[this.stackOp[d] as number] === 1; d--) {
        // Insertion sort: runs are short (they never repeat a value).
        const v = (this.stackState[d] as number) >> 1;
        let k = len++;
        for (; k > start && (key[k - 1] as number) > v; k--) key[k] = key[k - 1] as number;
        key[k] = v;
      }
    }
    return this.memo.add(this.key, len, this.ha, this.hb, this.state);
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

  /**
   * A candidate read of the register's current value, or -1. Such a read can
   * go first with no loss: moved to the front of any legal completion, it
   * sees the same value, changes nothing for the others, and no pending
   * operation had to precede it (it is a candidate). So the search takes it
   * without branching, and a dead end after it is a dead end here.
   */
  private matchingRead(): number {
    if (this.region.analyzedAt !== this.scan) this.region.analyze(this.list, this.scan);
    return this.region.readOf(this.state >> 1);
  }

  /** Pops to the last configuration with alternatives left; its next entry to try, or ILLEGAL. */
  private backtrack(): number {
    for (;;) {
      if (this.depth === 0) return ILLEGAL;
      const forced = this.forced[this.depth - 1] === 1;
      const op = this.pop();
      if (!forced) return this.list.next[2 * op] as number;
    }
  }

  run(): SearchOutcome {
    const { next, head } = this.list;
    let steps = 0;
    let cur = FRESH;
    try {
      while (this.okRemaining > 0) {
        if (++steps % POLL_EVERY === 0) {
          this.budget.remainingSteps -= POLL_EVERY;
          const why = this.outOfBudget();
          if (why !== null) return { type: 'unknown', reason: why };
        }
        if (cur === FRESH) {
          const r = this.matchingRead();
          if (r < 0) {
            cur = next[head] as number;
            continue;
          }
          this.push(r, (this.state >> 1) << 1, true);
          if (this.remember()) continue;
          this.pop();
          cur = this.backtrack();
        } else if ((cur & 1) === 1) {
          cur = this.backtrack();
        } else {
          cur = this.tryCall(cur);
        }
        if (cur === ILLEGAL) return { type: 'illegal', deepest: this.trackDeepest ? (this.deepest ?? []) : null };
        // Invariant: while an ok operation remains, its return entry ends the scan.
        assert(cur >= 0 || cur === FRESH, 'scan ran off the end of the entry list');
      }
      return { type: 'linearizable' };
    } finally {
      this.budget.remainingSteps -= steps % POLL_EVERY;
      this.budget.stepsTaken += steps;
    }
  }

  /** Tries to linearize the call entry `cur`; the next entry to look at (FRESH after a push). */
  private tryCall(cur: number): number {
    const p = this.p;
    const op = cur >> 1;
    // After an info operation, only an operation that observes its value
    // may follow (else the info operation could be left out).
    const allowed = (this.state & 1) === 0 || p.kind[op] !== WRITE;
    const nv = allowed ? applyOp(p.kind[op] as number, p.a[op] as number, p.b[op] as number, this.state >> 1) : -1;
    if (nv >= 0 && this.worthTrying(op, nv)) {
      this.push(op, (nv << 1) | (p.info[op] as number), false);
      if (this.remember()) return FRESH;
      this.pop();
    }
    return this.list.next[cur] as number;
  }
}
