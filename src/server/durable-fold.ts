// What a member keeps in mind of its own durable writes, so that the write-ahead
// log can be compacted: a summary is a short list of writes that recovers the
// same state as everything written so far (src/storage/durable-log.ts). Each
// protocol folds its own write records.
//
// When the state machine keeps its state in a durable store (LMDB, for `synod
// node` members), a snapshot write reaches the log as a small marker only, and
// only once the store has made the state through the snapshot's index durable:
// the durability rule of docs/storage.md ("State in LMDB").

import type { Logger } from 'pino';
import { assert } from '../core/assert.js';
import type { DurableLog } from '../storage/durable-log.js';
import { RecordTooLargeError } from '../storage/errors.js';
import type { Entry, RaftWrite, Snapshot } from '../raft/types.js';
import type { Ballot } from '../paxos/ballot.js';
import type { MultiWrite, SlotEntry } from '../paxos/multi/types.js';

const SUMMARY_CHUNK_ENTRIES = 1024;

export interface DurableFold<W> {
  add(w: W): void;
  /** The log index a snapshot write covers; null for any other write. */
  snapshotIndex(w: W): number | null;
  /** The state-machine data of a snapshot write. */
  snapshotData(w: W): unknown;
  /** A snapshot write with its state-machine data replaced by `data`. */
  withSnapshotData(w: W, data: unknown): W;
  /** Writes that, replayed alone, recover what every write so far recovers. */
  summary(): W[];
  /** True when `w` makes a summary much shorter than the writes since the last one (a snapshot). */
  worthCompacting(w: W): boolean;
}

/** Raft: the latest snapshot, the latest hard state, and the entries after the snapshot. */
export class RaftFold<C, S> implements DurableFold<RaftWrite<C, S>> {
  private hardState: Extract<RaftWrite<C, S>, { type: 'hard-state' }> | null = null;
  private snapshot: Snapshot<S> | null = null;
  private entries: Entry<C>[] = [];

  add(w: RaftWrite<C, S>): void {
    switch (w.type) {
      case 'hard-state':
        this.hardState = w;
        break;
      case 'snapshot': {
        this.snapshot = w.snapshot;
        // Raft §7: entries after the snapshot that match it are kept; the rest go.
        const at = w.snapshot.meta.index;
        const match = this.entries.find((e) => e.index === at);
        this.entries = match !== undefined && match.term === w.snapshot.meta.term ? this.entries.filter((e) => e.index > at) : [];
        break;
      }
      case 'entries': {
        const first = w.entries[0];
        if (first === undefined) break;
        // Entries are contiguous: cut the kept suffix at the first new index (Raft §5.3), in place.
        const base = this.entries[0]?.index ?? first.index;
        const cut = Math.max(0, Math.min(this.entries.length, first.index - base));
        // Invariant: the entries kept are contiguous.
        assert(this.entries.length === 0 || first.index <= base + this.entries.length, () => `raft fold: entries from ${first.index} leave a gap after ${base + this.entries.length - 1}`);
        this.entries.length = cut;
        for (const e of w.entries) this.entries.push(e);
        break;
      }
    }
  }

  summary(): RaftWrite<C, S>[] {
    const out: RaftWrite<C, S>[] = [];
    if (this.snapshot !== null) out.push({ type: 'snapshot', snapshot: this.snapshot });
    // Entries in chunks, so that no one write grows with the length of the log.
    for (let i = 0; i < this.entries.length; i += SUMMARY_CHUNK_ENTRIES) out.push({ type: 'entries', entries: this.entries.slice(i, i + SUMMARY_CHUNK_ENTRIES) });
    if (this.hardState !== null) out.push(this.hardState);
    return out;
  }

  worthCompacting(w: RaftWrite<C, S>): boolean {
    return w.type === 'snapshot';
  }

  snapshotIndex(w: RaftWrite<C, S>): number | null {
    return w.type === 'snapshot' ? w.snapshot.meta.index : null;
  }

  snapshotData(w: RaftWrite<C, S>): unknown {
    return w.type === 'snapshot' ? w.snapshot.data : undefined;
  }

  withSnapshotData(w: RaftWrite<C, S>, data: unknown): RaftWrite<C, S> {
    assert(w.type === 'snapshot', 'raft fold: snapshot data replaced in a write that is no snapshot');
    return { type: 'snapshot', snapshot: { meta: w.snapshot.meta, data: data as S } };
  }
}

/**
 * Multi-Paxos: the latest round and promise, the latest snapshot, and for each
 * slot after it the value last accepted (an acceptor never accepts below its
 * promise, so the last accept of a slot carries its highest ballot).
 */
export class MultiPaxosFold<C, S> implements DurableFold<MultiWrite<C, S>> {
  private round: MultiWrite<C, S> | null = null;
  private promise: MultiWrite<C, S> | null = null;
  private snapshot: Extract<MultiWrite<C, S>, { type: 'snapshot' }> | null = null;
  private readonly accepted = new Map<number, { ballot: Ballot; entry: SlotEntry<C> }>();

  add(w: MultiWrite<C, S>): void {
    switch (w.type) {
      case 'round': this.round = w; break;
      case 'promise': this.promise = w; break;
      case 'accept':
        for (const e of w.entries) this.accepted.set(e.slot, { ballot: w.ballot, entry: e });
        break;
      case 'snapshot':
        this.snapshot = w;
        for (const slot of [...this.accepted.keys()]) if (slot <= w.index) this.accepted.delete(slot);
        break;
    }
  }

  summary(): MultiWrite<C, S>[] {
    const out: MultiWrite<C, S>[] = [];
    if (this.snapshot !== null) out.push(this.snapshot);
    // Group consecutive slots accepted under one ballot into one write, in slot order.
    const slots = [...this.accepted.entries()].sort((a, b) => a[0] - b[0]);
    let group: { ballot: Ballot; entries: SlotEntry<C>[] } | null = null;
    for (const [, { ballot, entry }] of slots) {
      if (group === null || group.ballot.round !== ballot.round || group.ballot.node !== ballot.node) {
        if (group !== null) out.push({ type: 'accept', ballot: group.ballot, entries: group.entries });
        group = { ballot, entries: [] };
      }
      group.entries.push(entry);
    }
    if (group !== null) out.push({ type: 'accept', ballot: group.ballot, entries: group.entries });
    // The promise last: an accept implies a promise of its (possibly lower) ballot.
    if (this.round !== null) out.push(this.round);
    if (this.promise !== null) out.push(this.promise);
    return out;
  }

  worthCompacting(w: MultiWrite<C, S>): boolean {
    return w.type === 'snapshot';
  }

  snapshotIndex(w: MultiWrite<C, S>): number | null {
    return w.type === 'snapshot' ? w.index : null;
  }

  snapshotData(w: MultiWrite<C, S>): unknown {
    return w.type === 'snapshot' ? w.snapshot : undefined;
  }

  withSnapshotData(w: MultiWrite<C, S>, data: unknown): MultiWrite<C, S> {
    assert(w.type === 'snapshot', 'multi-paxos fold: snapshot data replaced in a write that is no snapshot');
    return { ...w, snapshot: data as S };
  }
}

/** A state machine whose state lives in a durable store of its own (the LMDB backend). */
export interface DurableState {
  /** Resolves once everything applied so far is durable in the store, with the applied index that is. */
  flush(): Promise<number>;
  /** What the log keeps in place of the snapshot data at `index` (a KvSnapshotMarker). */
  marker(index: number): unknown;
}

/** The state store lost track of the log: continuing could apply entries twice or lose them. */
export class StateBehindLogError extends Error {
  override readonly name = 'StateBehindLogError';
}

/**
 * The durability rule: a snapshot write lets recovery skip every entry through
 * its index, so it may reach the log only once the store holds that state
 * durably; it then carries a marker instead of the state. Flushes the store
 * only for batches that carry a snapshot (once per compaction, not per apply).
 */
async function markSnapshots<W>(fold: DurableFold<W>, writes: readonly W[], state: DurableState): Promise<readonly W[]> {
  const at = writes.map((w) => fold.snapshotIndex(w));
  if (at.every((i) => i === null)) return writes;
  const durable = await state.flush();
  return writes.map((w, k) => {
    const index = at[k];
    if (index === null || index === undefined) return w;
    if (durable < index) {
      throw new StateBehindLogError(`the state store is durable through index ${durable}, behind the snapshot at ${index} that the log was about to keep; refusing to drop log entries the store does not hold`);
    }
    return fold.withSnapshotData(w, state.marker(index));
  });
}

/**
 * Makes a batch of writes durable, then, when one of them is a snapshot,
 * rewrites the log as the fold's summary. Compaction is an optimisation: the
 * writes are durable before it starts, so a summary too large to write is
 * logged and skipped, never fatal. With `state`, snapshot writes are first
 * made markers under the durability rule (markSnapshots).
 */
export async function persistAndCompact<W>(durable: DurableLog<W>, fold: DurableFold<W>, batch: readonly W[], logger: Logger, state?: DurableState): Promise<void> {
  const writes = state === undefined ? batch : await markSnapshots(fold, batch, state);
  let compact = false;
  for (const w of writes) {
    fold.add(w);
    compact ||= fold.worthCompacting(w);
  }
  await durable.append(writes);
  if (!compact) return;
  try {
    await durable.compact(fold.summary());
  } catch (err) {
    if (!(err instanceof RecordTooLargeError)) throw err;
    logger.error({ err: err.message }, 'log compaction skipped: the snapshot is larger than one write may be; the log keeps growing until a smaller snapshot fits');
  }
}
