// A bounded, append-only record of (key, value-key) pairs that a node exposes in
// its view so that invariants can follow what it learned or was asked to
// propose, event by event, without copying its state. Only the last `limit`
// pairs are kept; `total` counts every pair ever appended to this instance.

export interface DigestEntry {
  /** A slot (Multi-Paxos) or 0 (single decree). */
  readonly slot: number;
  /** A canonical string for the value. */
  readonly key: string;
}

export class Digest {
  private readonly items: DigestEntry[] = [];
  private count = 0;

  constructor(readonly limit = 4096) {}

  append(slot: number, key: string): void {
    this.items.push({ slot, key });
    this.count++;
    if (this.items.length > this.limit * 2) this.items.splice(0, this.items.length - this.limit);
  }

  get total(): number {
    return this.count;
  }

  /** Entries appended after the first `seen` ones (as many as are still kept). */
  since(seen: number): readonly DigestEntry[] {
    const dropped = this.count - this.items.length;
    return this.items.slice(Math.max(0, seen - dropped));
  }
}

/** The canonical key of a value: JSON with sorted object keys. */
export function valueKey(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    if (ArrayBuffer.isView(x)) return Array.from(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    const o = x as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}
