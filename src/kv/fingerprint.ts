// A hash chain over applied commands, for the State Machine Safety check
// (Raft §5.4.3: no two servers apply different commands at the same index).
// chain(i) = H(chain(i-1), i, command(i)). Two replicas with equal chains at
// index i applied the same commands at every index up to i. Not cryptographic:
// two independent 32-bit lanes (MurmurHash3's block mix and FNV-1a, 32 bits at
// a time), enough to catch bugs, not adversaries.

const FNV_PRIME = 0x01000193;

class Hasher {
  private a = 0x2f3c4a5d;
  private b = 0x811c9dc5;

  /** Mixes one 32-bit word into both lanes. */
  word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    const a = this.a ^ k;
    this.a = (Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64) | 0;
    const b = Math.imul(this.b ^ w, FNV_PRIME);
    // Multiplication only carries bits upward: fold the high half back down.
    this.b = b ^ (b >>> 15);
  }

  bytes(v: Uint8Array): void {
    const n = v.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) this.word((v[i] as number) | ((v[i + 1] as number) << 8) | ((v[i + 2] as number) << 16) | ((v[i + 3] as number) << 24));
    for (; i < n; i++) this.word((v[i] as number) | 0x100);
  }

  str(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    this.word(0x1fffe);
  }

  /** A structural walk: equal values (field order aside) hash equally. */
  value(v: unknown): void {
    if (v === null || v === undefined) return this.str(String(v));
    if (v instanceof Uint8Array) {
      this.str(`b${v.length}`);
      this.bytes(v);
      return;
    }
    if (Array.isArray(v)) {
      this.str(`a${v.length}`);
      for (const x of v) this.value(x);
      return;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
      this.str(`o${keys.length}`);
      for (const k of keys) {
        this.str(k);
        this.value((v as Record<string, unknown>)[k]);
      }
      return;
    }
    this.str(`${typeof v}:${String(v)}`);
  }

  digest(): string {
    // MurmurHash3's finalizer, so that every input bit reaches every output bit.
    let h = this.a;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

export function chainHash(previous: string, index: number, command: unknown): string {
  const h = new Hasher();
  h.str(previous);
  h.str(String(index));
  h.value(command);
  return h.digest();
}

export function hashValue(v: unknown): string {
  const h = new Hasher();
  h.value(v);
  return h.digest();
}
