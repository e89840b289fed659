// A hash chain over applied commands, for the State Machine Safety check
// (Raft §5.4.3: no two servers apply different commands at the same index).
// chain(i) = H(chain(i-1), i, command(i)). Two replicas with equal chains at
// index i applied the same commands at every index up to i. Not cryptographic:
// two independent 32-bit FNV-1a lanes, enough to catch bugs, not adversaries.

const FNV_PRIME = 0x01000193;

class Hasher {
  private a = 0x811c9dc5;
  private b = 0x2f3c4a5d;

  byte(x: number): void {
    this.a = Math.imul(this.a ^ x, FNV_PRIME);
    this.b = Math.imul(this.b ^ (x ^ 0x5a), FNV_PRIME);
  }

  str(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.byte(c & 0xff);
      this.byte(c >>> 8);
    }
    this.byte(0xfe);
  }

  /** A structural walk: equal values (field order aside) hash equally. */
  value(v: unknown): void {
    if (v === null || v === undefined) return this.str(String(v));
    if (v instanceof Uint8Array) {
      this.str(`b${v.length}`);
      for (const x of v) this.byte(x);
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
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
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
