// A set of settled operations (by index in invoke order) with a short
// canonical encoding for the memo. In a long history the settled set is
// almost always "everything before some index, nothing after some later
// index, and a few holes in between", so it is encoded as the first unsettled
// index and the bit words of the window that follows, up to the last settled
// index. `low` and `high` are restored by the caller on backtracking (LIFO).

export class SettledSet {
  readonly bits: Uint32Array;
  /** Every index below `low` is settled; `low` itself is not. */
  low = 0;
  /** No index at or above `high` is settled. */
  high = 0;

  constructor(readonly size: number) {
    this.bits = new Uint32Array(Math.ceil(size / 32) + 1);
  }

  has(i: number): boolean {
    return ((this.bits[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  settle(i: number): void {
    this.bits[i >>> 5]! |= 1 << (i & 31);
    if (i >= this.high) this.high = i + 1;
    if (i === this.low) {
      let l = i + 1;
      while (l < this.size && this.has(l)) l++;
      this.low = l;
    }
  }

  /** Clears i; the caller restores `low` and `high` as they were before the matching settle. */
  unsettle(i: number): void {
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }

  /** Writes [low, word count, words...] at key[at]; returns the next free position. */
  encode(key: Uint32Array, at: number): number {
    key[at] = this.low;
    if (this.high <= this.low) {
      key[at + 1] = 0;
      return at + 2;
    }
    const w0 = this.low >>> 5;
    const w1 = (this.high - 1) >>> 5;
    key[at + 1] = w1 - w0 + 1;
    let k = at + 2;
    for (let w = w0; w <= w1; w++) key[k++] = this.bits[w] as number;
    return k;
  }
}
