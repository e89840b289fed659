// The Raft log in memory (Raft §5.3, §7): a snapshot base (everything through
// `snapshot.index` is compacted) followed by entries. `stableIndex` is the last
// index known to be durable on this node: a leader counts its own copy toward
// commit only up to it.

import { assert } from '../core/assert.js';
import { LogIndex, Term } from '../core/ids.js';
import type { Entry, SnapshotMeta } from './types.js';

export const EMPTY_CONF = { voters: [], outgoing: [], learners: [], learnersNext: [] } as const;

export class RaftLog<C> {
  snapshot: SnapshotMeta = { index: LogIndex(0), term: Term(0), conf: EMPTY_CONF };
  /** entries[k] has index snapshot.index + 1 + k. */
  private entries: Entry<C>[] = [];
  committed = LogIndex(0);
  stableIndex = LogIndex(0);
  /** Bumped on every change of the entries (lets views be cached). */
  version = 0;

  get firstIndex(): LogIndex {
    return (this.snapshot.index + 1) as LogIndex;
  }

  get lastIndex(): LogIndex {
    return (this.snapshot.index + this.entries.length) as LogIndex;
  }

  get lastTerm(): Term {
    const e = this.entries[this.entries.length - 1];
    return e === undefined ? this.snapshot.term : e.term;
  }

  /** The term of the entry at `index`, or null when it is compacted away or beyond the end. */
  term(index: number): Term | null {
    if (index === this.snapshot.index) return this.snapshot.term;
    const e = this.entries[index - this.snapshot.index - 1];
    return e === undefined ? null : e.term;
  }

  entry(index: number): Entry<C> | undefined {
    return this.entries[index - this.snapshot.index - 1];
  }

  matchTerm(index: number, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, lastTerm: Term): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** Leader append: entries must continue the log. */
  append(entries: readonly Entry<C>[]): void {
    for (const e of entries) {
      this.appendOne(e);
    }
  }

  appendOne(e: Entry<C>): void {
    // Invariant: the log is contiguous. (Guarded so that the hot path allocates no message closure.)
    if (e.index !== this.lastIndex + 1) assert(false, `append at ${e.index} after last ${this.lastIndex}`);
    this.entries.push(e);
    this.version++;
  }

  /**
   * Follower append after the consistency check passed: skips entries already
   * present, truncates at the first conflict (Raft §5.3 step 3) and appends the
   * rest. Returns the entries newly written (to persist), or [] when none.
   */
  appendFromLeader(entries: readonly Entry<C>[]): Entry<C>[] {
    let k = 0;
    while (k < entries.length) {
      const e = entries[k] as Entry<C>;
      if (e.index < this.firstIndex) {
        k++;
        continue;
      }
      if (this.term(e.index) !== e.term) break;
      k++;
    }
    if (k === entries.length) return [];
    const rest = entries.slice(k);
    const from = (rest[0] as Entry<C>).index;
    if (from <= this.lastIndex) {
      // Invariant: a committed entry is never replaced (Raft §5.4 State Machine Safety).
      assert(from > this.committed, () => `truncating committed entry ${from} (commit ${this.committed})`);
      this.truncateFrom(from);
    }
    this.append(rest);
    return rest;
  }

  /** Drops entries at `from` and after. */
  truncateFrom(from: number): void {
    assert(from > this.snapshot.index, () => `truncate at ${from} inside the snapshot through ${this.snapshot.index}`);
    this.entries.length = Math.max(0, from - this.snapshot.index - 1);
    this.version++;
    if (this.stableIndex >= from) this.stableIndex = LogIndex(from - 1);
  }

  /** Entries in [lo, hi], at most `maxCount` and about `maxBytes` (at least one). */
  slice(lo: number, hi: number, maxBytes = Infinity, maxCount = Infinity): Entry<C>[] {
    if (lo < this.firstIndex || hi > this.lastIndex) assert(false, `slice [${lo}, ${hi}] outside [${this.firstIndex}, ${this.lastIndex}]`);
    const out: Entry<C>[] = [];
    let bytes = 0;
    for (let i = lo; i <= hi && out.length < maxCount; i++) {
      const e = this.entries[i - this.snapshot.index - 1] as Entry<C>;
      bytes += e.bytes;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Fast back-off at the leader (Raft §5.3): the last index at or below `index`
   * whose term is at most `term`; the follower's conflicting entries end there.
   */
  lastIndexWithTermAtMost(index: number, term: Term): LogIndex {
    let i = Math.min(index, this.lastIndex);
    while (i > this.snapshot.index) {
      const t = this.term(i);
      if (t !== null && t <= term) break;
      i--;
    }
    return LogIndex(i);
  }

  /** Fast back-off at the follower: the first index of the run of `term` that contains `index`. */
  firstIndexOfTerm(index: number): LogIndex {
    const term = this.term(index);
    let i = index;
    while (i - 1 > this.snapshot.index && this.term(i - 1) === term) i--;
    return LogIndex(i);
  }

  commitTo(index: LogIndex): void {
    // Invariant: commit never moves backwards and never beyond the log.
    if (index > this.lastIndex) assert(false, `commit ${index} beyond last index ${this.lastIndex}`);
    if (index > this.committed) this.committed = index;
  }

  /** Raft §7: compact through `meta.index` (which must be in the log or at its snapshot). */
  compact(meta: SnapshotMeta): void {
    assert(meta.index > this.snapshot.index && meta.index <= this.lastIndex, () => `compact to ${meta.index} outside (${this.snapshot.index}, ${this.lastIndex}]`);
    assert(this.term(meta.index) === meta.term, 'compaction term mismatch');
    this.entries = this.entries.slice(meta.index - this.snapshot.index);
    this.snapshot = meta;
    this.version++;
  }

  /**
   * Raft §7: install a snapshot from the leader. A suffix that matches the
   * snapshot's last entry is kept; otherwise the whole log is replaced.
   */
  restore(meta: SnapshotMeta): void {
    if (meta.index <= this.lastIndex && meta.index > this.snapshot.index && this.term(meta.index) === meta.term) {
      this.entries = this.entries.slice(meta.index - this.snapshot.index);
    } else {
      this.entries = [];
      if (this.stableIndex > meta.index) this.stableIndex = meta.index;
    }
    this.snapshot = meta;
    this.version++;
    if (this.committed < meta.index) this.committed = meta.index;
  }

  /** All entries after the snapshot (for recovery and views); do not mutate. */
  all(): readonly Entry<C>[] {
    return this.entries;
  }
}
