// The set of configurations the search has already explored: (the set of
// linearized operations as a bitset, the register's state). Lowe's
// refinement of Wing & Gong: reaching a configuration twice cannot succeed
// the second time, so it is cut. Comparison is exact (no false hits), the
// hash is Zobrist-style (xor of per-operation random words) so that the
// search updates it in O(1) per step.

export class ConfigurationMemo {
  readonly words: number;
  private readonly maxEntries: number;
  private slots: Int32Array;
  private mask: number;
  private hashA: Int32Array;
  private hashB: Int32Array;
  private states: Int32Array;
  private pool: Uint32Array;
  count = 0;

  /** `maxWords` bounds the memory of stored bitsets (4 bytes a word). */
  constructor(bitsetWords: number, maxWords: number) {
    this.words = Math.max(1, bitsetWords);
    this.maxEntries = Math.max(16, Math.floor(maxWords / this.words));
    const cap = 1024;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.hashA = new Int32Array(cap / 2);
    this.hashB = new Int32Array(cap / 2);
    this.states = new Int32Array(cap / 2);
    this.pool = new Uint32Array((cap / 2) * this.words);
  }

  get full(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Adds the configuration; false when it was already present. */
  add(bits: Uint32Array, ha: number, hb: number, state: number): boolean {
    const mixA = (ha ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const mixB = (hb ^ Math.imul(state + 1, 0x85ebca6b)) | 0;
    let s = mixA & this.mask;
    for (;;) {
      const e = this.slots[s] as number;
      if (e === 0) break;
      if (this.hashB[e - 1] === mixB && this.hashA[e - 1] === mixA && this.states[e - 1] === state && this.same(e - 1, bits)) {
        return false;
      }
      s = (s + 1) & this.mask;
    }
    const idx = this.count++;
    if (idx >= this.states.length) {
      this.grow();
      return this.insertNew(idx, bits, mixA, mixB, state);
    }
    this.slots[s] = idx + 1;
    this.store(idx, bits, mixA, mixB, state);
    return true;
  }

  private insertNew(idx: number, bits: Uint32Array, mixA: number, mixB: number, state: number): boolean {
    this.store(idx, bits, mixA, mixB, state);
    this.place(idx);
    return true;
  }

  private store(idx: number, bits: Uint32Array, mixA: number, mixB: number, state: number): void {
    this.hashA[idx] = mixA;
    this.hashB[idx] = mixB;
    this.states[idx] = state;
    this.pool.set(bits, idx * this.words);
  }

  private same(idx: number, bits: Uint32Array): boolean {
    const base = idx * this.words;
    for (let w = 0; w < this.words; w++) {
      if (this.pool[base + w] !== bits[w]) return false;
    }
    return true;
  }

  private place(idx: number): void {
    let s = (this.hashA[idx] as number) & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = idx + 1;
  }

  private grow(): void {
    const entries = this.states.length * 2;
    const hashA = new Int32Array(entries);
    hashA.set(this.hashA);
    const hashB = new Int32Array(entries);
    hashB.set(this.hashB);
    const states = new Int32Array(entries);
    states.set(this.states);
    const pool = new Uint32Array(entries * this.words);
    pool.set(this.pool);
    this.hashA = hashA;
    this.hashB = hashB;
    this.states = states;
    this.pool = pool;
    this.slots = new Int32Array(entries * 2);
    this.mask = entries * 2 - 1;
    const old = this.count - 1;
    for (let i = 0; i < old; i++) this.place(i);
  }
}
