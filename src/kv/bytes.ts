// Keys and values are bytes, as in etcd. Inside the store a key is held as a
// "byte string": one UTF-16 code unit per byte (0..255). JavaScript compares
// such strings code unit by code unit, which is exactly etcd's bytewise key
// order, and they work as Map keys. They never leave the store: the API speaks
// Uint8Array.

export type Bytes = Uint8Array;

const EMPTY = new Uint8Array(0);

/** Bytes to byte string (one char per byte). */
export function toByteString(b: Bytes): string {
  // fromCharCode.apply takes a typed array as its argument list (far faster than
  // spreading it); chunked so that a large key cannot overflow the argument list.
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(b.length, i + CHUNK)) as unknown as number[]);
  }
  return s;
}

const CHUNK = 4096;

/** Byte string back to bytes. */
export function fromByteString(s: string): Bytes {
  if (s.length === 0) return EMPTY;
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8(s: string): Bytes {
  return encoder.encode(s);
}

export function fromUtf8(b: Bytes): string {
  return decoder.decode(b);
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytewise order (etcd's bytes.Compare): negative, zero or positive. */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The range_end that selects every key starting with `prefix` (etcd's
 * clientv3.GetPrefixRangeEnd): the prefix with its last byte below 0xff
 * incremented and the rest dropped; "\0" (every key) when no such byte exists.
 */
export function prefixEnd(prefix: Bytes): Bytes {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}
