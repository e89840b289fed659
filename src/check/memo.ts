// The set of configurations the search has already explored (Lowe's
// refinement of Wing & Gong: reaching a configuration twice cannot succeed
// the second time, so it is cut). A configuration is the register's state
// and a canonical encoding of the set of settled operations (see
// settled.ts), a short run of 32-bit words. Comparison is exact (no false
// hits); the hash is Zobrist-style (xor of per-operation random words) so
// that the search updates it in O(1) per operation.

export class ConfigurationMemo {
  private readonly maxWords: number;
  private slots: Int32Array;
  private mask: number;
  private hashA: Int32Array;
  private hashB: Int32Array;
  private states: Int32Array;
  private offsets: Float64Array;
  private lengths: Int32Array;
  private pool: Uint32Array;
  private used = 0;
  count = 0;

  /**
   * `maxWords` bounds the memory of stored keys (4 bytes a word, plus about 8
   * words of overhead an entry); `expectedEntries` sizes the first tables.
   */
  constructor(maxWords: number, expectedEntries = 512) {
    this.maxWords = Math.max(1024, maxWords);
    let cap = 16;
    while (cap < 2 * expectedEntries && cap < 1024) cap *= 2;
    // Each slot holds (entry + 1, second hash), side by side: one cache line per probe.
    this.slots = new Int32Array(2 * cap);
    this.mask = cap - 1;
    this.hashA = new Int32Array(cap / 2);
    this.hashB = new Int32Array(cap / 2);
    this.states = new Int32Array(cap / 2);
    this.offsets = new Float64Array(cap / 2);
    this.lengths = new Int32Array(cap / 2);
    this.pool = new Uint32Array(cap * 4);
  }

  get full(): boolean {
    return this.used + 8 * this.count >= this.maxWords;
  }

  /** Adds the configuration (key[0..len), state); false when it was already present. */
  add(key: Uint32Array, len: number, ha: number, hb: number, state: number): boolean {
    const mixA = (ha ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const mixB = (hb ^ Math.imul(state + 1, 0x85ebca6b)) | 0;
    let s = mixA & this.mask;
    for (;;) {
      const e = this.slots[2 * s] as number;
      if (e === 0) break;
      const i = e - 1;
      if (this.slots[2 * s + 1] === mixB && this.hashA[i] === mixA && this.states[i] === state && this.same(i, key, len)) return false;
      s = (s + 1) & this.mask;
    }
    const idx = this.count++;
    if (idx >= this.states.length) {
      this.grow();
      s = mixA & this.mask;
      while (this.slots[2 * s] !== 0) s = (s + 1) & this.mask;
    }
    this.slots[2 * s] = idx + 1;
    this.slots[2 * s + 1] = mixB;
    this.hashA[idx] = mixA;
    this.hashB[idx] = mixB;
    this.states[idx] = state;
    this.store(idx, key, len);
    return true;
  }

  private store(idx: number, key: Uint32Array, len: number): void {
    if (this.used + len > this.pool.length) {
      const bigger = new Uint32Array(Math.max(this.pool.length * 2, this.used + len));
      bigger.set(this.pool.subarray(0, this.used));
      this.pool = bigger;
    }
    this.pool.set(key.subarray(0, len), this.used);
    this.offsets[idx] = this.used;
    this.lengths[idx] = len;
    this.used += len;
  }

  private same(idx: number, key: Uint32Array, len: number): boolean {
    if (this.lengths[idx] !== len) return false;
    const base = this.offsets[idx] as number;
    for (let w = 0; w < len; w++) {
      if (this.pool[base + w] !== key[w]) return false;
    }
    return true;
  }

  private grow(): void {
    const entries = this.states.length * 2;
    const widen = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(entries);
      b.set(a);
      return b;
    };
    this.hashA = widen(this.hashA, (n) => new Int32Array(n));
    this.hashB = widen(this.hashB, (n) => new Int32Array(n));
    this.states = widen(this.states, (n) => new Int32Array(n));
    this.lengths = widen(this.lengths, (n) => new Int32Array(n));
    this.offsets = widen(this.offsets, (n) => new Float64Array(n));
    this.slots = new Int32Array(entries * 4);
    this.mask = entries * 2 - 1;
    for (let i = 0; i < this.count - 1; i++) {
      let s = (this.hashA[i] as number) & this.mask;
      while (this.slots[2 * s] !== 0) s = (s + 1) & this.mask;
      this.slots[2 * s] = i + 1;
      this.slots[2 * s + 1] = this.hashB[i] as number;
    }
  }
}
