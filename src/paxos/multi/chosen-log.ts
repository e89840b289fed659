// What a learner knows chosen: every slot through `through` (contiguous, all
// handed to the state machine) and some beyond it. Slots at or below
// `compactedThrough` live in the state machine's snapshot.

import type { Slot } from '../../core/ids.js';
import { Slot as toSlot } from '../../core/ids.js';
import { assert } from '../../core/assert.js';
import { SlotMap } from './slot-map.js';
import type { SlotEntry, SlotValue } from './types.js';

export class ChosenLog<C> {
  private readonly values = new SlotMap<SlotValue<C>>();
  private contiguous: Slot;
  private compacted: Slot;

  constructor(start: Slot) {
    this.contiguous = start;
    this.compacted = start;
  }

  get through(): Slot {
    return this.contiguous;
  }
  get compactedThrough(): Slot {
    return this.compacted;
  }

  has(slot: number): boolean {
    return slot <= this.contiguous || this.values.has(slot);
  }

  get(slot: number): SlotValue<C> | undefined {
    return this.values.get(slot);
  }

  /** Records a chosen slot; returns the entries that became contiguous (to apply, in order). */
  learn(slot: Slot, value: SlotValue<C>): SlotEntry<C>[] {
    if (this.has(slot)) return [];
    this.values.set(slot, value);
    return this.drain();
  }

  private drain(): SlotEntry<C>[] {
    const out: SlotEntry<C>[] = [];
    for (let next = this.contiguous + 1; this.values.has(next); next++) {
      out.push({ slot: toSlot(next), value: this.values.get(next) as SlotValue<C> });
      this.contiguous = toSlot(next);
    }
    return out;
  }

  /** Chosen entries from `from` on, contiguous, at most `max`. */
  entriesFrom(from: Slot, max: number): SlotEntry<C>[] {
    const out: SlotEntry<C>[] = [];
    for (let s = Math.max(from, this.compacted + 1); s <= this.contiguous && out.length < max; s++) {
      out.push({ slot: toSlot(s), value: this.values.get(s) as SlotValue<C> });
    }
    return out;
  }

  /** Drops the values through `index` (they are in a snapshot). Never past what is chosen. */
  compact(index: Slot): void {
    // Invariant: only chosen slots are compacted.
    assert(index <= this.contiguous, () => `compacting through ${index} but only ${this.contiguous} chosen`);
    this.values.dropThrough(index);
    this.compacted = toSlot(Math.max(this.compacted, index));
  }

  /** A snapshot through `index` from another node replaces everything up to it; returns the entries after it that became contiguous. */
  install(index: Slot): SlotEntry<C>[] {
    this.values.dropThrough(index);
    this.compacted = index;
    this.contiguous = toSlot(Math.max(this.contiguous, index));
    return this.drain();
  }
}
