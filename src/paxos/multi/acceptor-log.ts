// The Multi-Paxos acceptor: one promise for every slot (phase 1 once for all
// slots, "Paxos Made Simple" §3) and, per slot, the highest-ballot proposal it
// accepted. Everything is written before the reply that depends on it leaves.
// Slots through `compactedThrough` are chosen and live in a snapshot instead.

import type { NodeId, Slot } from '../../core/ids.js';
import { Slot as toSlot } from '../../core/ids.js';
import { assert } from '../../core/assert.js';
import { compareBallots, maxBallot, type Ballot } from '../ballot.js';
import type { RoleOut } from '../messages.js';
import { SlotMap } from './slot-map.js';
import type { AcceptedEntry, ConfigEpoch, MultiMessage, MultiWrite, SlotEntry } from './types.js';

/** A promise reports at most this many accepted slots; the candidate asks again for the rest. */
export const MAX_PROMISE_ENTRIES = 1024;

export interface AcceptorLogMutants {
  readonly acceptLowerBallot: boolean;
  readonly forgetPromise: boolean;
}

type Out<C, S> = RoleOut<MultiWrite<C, S>, MultiMessage<C, S>>;

export interface Snapshot<S> {
  readonly index: Slot;
  readonly snapshot: S;
  readonly configs: readonly ConfigEpoch[];
}

export class AcceptorLog<C, S> {
  promised: Ballot | null = null;
  readonly accepted = new SlotMap<AcceptedEntry<C>>();
  compactedThrough: Slot = toSlot(0);
  snapshot: Snapshot<S> | null = null;

  constructor(private readonly mutants: AcceptorLogMutants) {}

  /** Phase 1b. Returns false when refused. */
  onPrepare(from: NodeId, ballot: Ballot, fromSlot: Slot, out: Out<C, S>): boolean {
    if (compareBallots(ballot, this.promised) < 0) {
      out.sendImmediately(from, { type: 'nack', ballot, promised: this.promised as Ballot });
      return false;
    }
    if (compareBallots(ballot, this.promised) > 0) {
      this.promised = ballot;
      if (!this.mutants.forgetPromise) out.write({ type: 'promise', ballot });
    }
    const report: AcceptedEntry<C>[] = [];
    let next: Slot | null = null;
    for (const slot of this.sortedSlots(fromSlot)) {
      if (report.length === MAX_PROMISE_ENTRIES) {
        next = toSlot(slot);
        break;
      }
      report.push(this.accepted.get(slot) as AcceptedEntry<C>);
    }
    out.send(from, { type: 'promise', ballot, fromSlot, accepted: report, next, compactedThrough: this.compactedThrough });
    return true;
  }

  private sortedSlots(fromSlot: Slot): number[] {
    return this.accepted.slotsFrom(fromSlot);
  }

  /** Phase 2b. Entries at compacted slots are skipped (chosen long ago). Returns the slots accepted, or null when refused. */
  onAccept(from: NodeId, ballot: Ballot, entries: readonly SlotEntry<C>[], out: Out<C, S>): Slot[] | null {
    if (compareBallots(ballot, this.promised) < 0 && !this.mutants.acceptLowerBallot) {
      out.sendImmediately(from, { type: 'nack', ballot, promised: this.promised as Ballot });
      return null;
    }
    this.promised = maxBallot(this.promised, ballot);
    const fresh = entries.filter((e) => e.slot > this.compactedThrough);
    for (const e of fresh) this.accepted.set(e.slot, { slot: e.slot, ballot, value: e.value });
    if (fresh.length > 0) out.write({ type: 'accept', ballot, entries: fresh });
    // Invariant: no slot holds an accepted ballot above the promise.
    assert(compareBallots(ballot, this.promised) <= 0, 'accepted above promise');
    return fresh.map((e) => e.slot);
  }

  /** The state machine's snapshot through `index` replaces every slot up to it. */
  compact(snap: Snapshot<S>, out: Out<C, S> | null): void {
    if (snap.index <= this.compactedThrough) return;
    this.accepted.dropThrough(snap.index);
    this.compactedThrough = snap.index;
    this.snapshot = snap;
    out?.write({ type: 'snapshot', index: snap.index, snapshot: snap.snapshot, configs: snap.configs });
  }

  /** Rebuilds the acceptor from its durable writes, in the order they were made. */
  static recover<C, S>(writes: readonly MultiWrite<C, S>[], mutants: AcceptorLogMutants): { log: AcceptorLog<C, S>; round: number } {
    const log = new AcceptorLog<C, S>(mutants);
    let round = 0;
    for (const w of writes) {
      switch (w.type) {
        case 'round':
          round = Math.max(round, w.round);
          break;
        case 'promise':
          log.promised = maxBallot(log.promised, w.ballot);
          break;
        case 'accept':
          log.promised = maxBallot(log.promised, w.ballot);
          for (const e of w.entries) if (e.slot > log.compactedThrough) log.accepted.set(e.slot, { slot: e.slot, ballot: w.ballot, value: e.value });
          break;
        case 'snapshot':
          log.compact({ index: w.index, snapshot: w.snapshot, configs: w.configs }, null);
          break;
      }
    }
    return { log, round };
  }
}
