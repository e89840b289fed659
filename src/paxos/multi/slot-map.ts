// Values by slot, stored in an array from the first slot kept: slots are dense
// and grow at the end, and compaction drops a prefix, so an array beats a Map
// on the hot path (one entry per slot per acceptor).

export class SlotMap<T> {
  private base = 1;
  private items: (T | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(slot: number): T | undefined {
    return this.items[slot - this.base];
  }

  set(slot: number, value: T): void {
    if (slot < this.base) throw new RangeError(`slot ${slot} is below the first slot kept (${this.base})`);
    const i = slot - this.base;
    if (this.items[i] === undefined) this.count++;
    this.items[i] = value;
  }

  /** Forgets every slot up to and including `slot`. */
  dropThrough(slot: number): void {
    if (slot < this.base) return;
    const n = Math.min(slot - this.base + 1, this.items.length);
    for (let i = 0; i < n; i++) if (this.items[i] !== undefined) this.count--;
    this.items = this.items.slice(n);
    this.base = slot + 1;
  }

  /** Slots held, from `from` on, ascending. */
  slotsFrom(from: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, from - this.base); i < this.items.length; i++) if (this.items[i] !== undefined) out.push(i + this.base);
    return out;
  }
}
