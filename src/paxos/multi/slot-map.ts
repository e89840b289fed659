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
    if (this.count === 0) {
      // Empty: start the array at this slot (no leading holes).
      this.base = slot;
      this.items = [];
    } else if (slot < this.base) {
      const pad: (T | undefined)[] = Array.from({ length: this.base - slot }, () => undefined);
      this.items = pad.concat(this.items);
      this.base = slot;
    }
    const i = slot - this.base;
    if (this.items[i] === undefined) this.count++;
    this.items[i] = value;
  }

  has(slot: number): boolean {
    return this.items[slot - this.base] !== undefined;
  }

  delete(slot: number): void {
    const i = slot - this.base;
    if (this.items[i] === undefined) return;
    this.items[i] = undefined;
    this.count--;
    if (this.count === 0) this.items = [];
    else if (i === 0) this.trimHead();
  }

  /** Drops empty slots at the front (slots are usually removed roughly in order). */
  private trimHead(): void {
    let k = 0;
    while (k < this.items.length && this.items[k] === undefined) k++;
    if (k < 64 && k < this.items.length / 2) return;
    this.items = this.items.slice(k);
    this.base += k;
  }

  /** Every (slot, value) held, ascending. */
  entries(): [number, T][] {
    const out: [number, T][] = [];
    for (let i = 0; i < this.items.length; i++) {
      const v = this.items[i];
      if (v !== undefined) out.push([i + this.base, v]);
    }
    return out;
  }

  /** Forgets every slot up to and including `slot`. */
  dropThrough(slot: number): void {
    if (slot < this.base) return;
    const n = Math.min(slot - this.base + 1, this.items.length);
    for (let i = 0; i < n; i++) if (this.items[i] !== undefined) this.count--;
    this.items = this.items.slice(n);
    this.base = slot + 1;
    if (this.count === 0) this.items = [];
  }

  /** Slots held, from `from` on, ascending. */
  slotsFrom(from: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, from - this.base); i < this.items.length; i++) if (this.items[i] !== undefined) out.push(i + this.base);
    return out;
  }
}
