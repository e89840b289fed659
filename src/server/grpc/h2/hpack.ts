// HPACK header compression (RFC 7541) for the HTTP/2 server: a decoder for
// request header blocks, with the dynamic table the peer's encoder drives,
// and a stateless encoder for response header blocks.
//
// Strings are latin1 (one char per byte), so any bytes a value carries
// survive, and a string's length is its size in bytes (§4.1).

import { assert } from '../../../core/assert.js';
import { HpackError, huffmanDecode } from './huffman.js';

export { HpackError } from './huffman.js';

/**
 * The decoded header list is larger than the caller's limit (RFC 9113 §6.5.2,
 * SETTINGS_MAX_HEADER_LIST_SIZE). The block was decoded to the end, so the
 * dynamic table is in sync and only the stream need be refused.
 */
export class HeaderListTooLarge extends HpackError {
  override readonly name: string = 'HeaderListTooLarge';

  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`HPACK: header list of ${size} bytes is above the limit of ${limit} (RFC 9113 §6.5.2)`);
  }
}

/** §4.1: an entry's size is its name and value bytes plus 32; §6.5.2 of RFC 9113 counts a header list the same way. */
const ENTRY_OVERHEAD = 32;

/** §5.1 leaves integers unbounded; we refuse more than 5 continuation bytes and values above 2^31 - 1. */
const MAX_INT_CONTINUATIONS = 5;
const MAX_INT = 0x7fffffff;

// Appendix A. Index i is STATIC_NAMES[i - 1], STATIC_VALUES[i - 1].
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'],
  [':path', '/index.html'], [':scheme', 'http'], [':scheme', 'https'], [':status', '200'],
  [':status', '204'], [':status', '206'], [':status', '304'], [':status', '400'],
  [':status', '404'], [':status', '500'], ['accept-charset', ''], ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''], ['accept-ranges', ''], ['accept', ''], ['access-control-allow-origin', ''],
  ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''],
  ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''],
  ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''],
  ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
  ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
  ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_NAMES = STATIC_TABLE.map(([name]) => name);
const STATIC_VALUES = STATIC_TABLE.map(([, value]) => value);
/** Entries in the static table; the dynamic table's indexes follow (§2.3.3). */
export const STATIC_TABLE_LENGTH = STATIC_TABLE.length;

/** Views a block as a Buffer (no copy) for its latin1 slicing. */
function asBuffer(block: Uint8Array): Buffer {
  return Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
}

const EMPTY = Buffer.alloc(0);

/**
 * Decodes the header blocks of one connection, in order (§2.2). The dynamic
 * table (§2.3.2) is a ring of names and values, newest at `first`.
 */
export class HpackDecoder {
  private readonly names: string[];
  private readonly values: string[];
  private first = 0;
  private count = 0;
  /** §4.1: the sum of the entries' sizes. */
  private tableBytes = 0;
  /** §4.2: the table's maximum size, as the encoder last set it (§6.3). */
  private capacity: number;
  // The block being decoded, and where in it.
  private src: Buffer = EMPTY;
  private pos = 0;
  private end = 0;

  /** maxTableSize is our SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2): the most a size update may ask for. */
  constructor(private readonly maxTableSize = 4096) {
    assert(Number.isInteger(maxTableSize) && maxTableSize >= 0 && maxTableSize <= MAX_INT, `bad HPACK table size ${maxTableSize}`);
    this.capacity = maxTableSize;
    // Invariant: every entry is at least 32 bytes, so this many slots always suffice.
    const slots = Math.max(1, Math.floor(maxTableSize / ENTRY_OVERHEAD));
    this.names = new Array<string>(slots).fill('');
    this.values = new Array<string>(slots).fill('');
  }

  /** §4.1: the dynamic table's current size in bytes. */
  get dynamicTableSize(): number {
    return this.tableBytes;
  }

  /** The dynamic table's entries, newest first (index 62 first), for tests and debugging. */
  dynamicTable(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.count; i++) out.push([this.nameAt(STATIC_TABLE_LENGTH + 1 + i), this.valueAt(STATIC_TABLE_LENGTH + 1 + i)]);
    return out;
  }

  /**
   * Decodes one whole header block (HEADERS plus its CONTINUATIONs) into
   * [name0, value0, name1, value1, ...]. Throws HpackError on a malformed
   * block (the connection is then unusable: COMPRESSION_ERROR), or
   * HeaderListTooLarge, after decoding it all, if the list's size (§4.1
   * sizes) is above maxListBytes.
   */
  decode(block: Uint8Array, maxListBytes: number): string[] {
    this.src = asBuffer(block);
    this.pos = 0;
    this.end = block.length;
    try {
      return this.decodeFields(maxListBytes);
    } finally {
      this.src = EMPTY; // hold no reference to the caller's bytes
    }
  }

  private decodeFields(maxListBytes: number): string[] {
    const out: string[] = [];
    let listBytes = 0;
    let fields = 0;
    while (this.pos < this.end) {
      const b = this.src[this.pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // §6.1: indexed header field.
        const index = this.readInt(7);
        name = this.nameAt(index);
        value = this.valueAt(index);
      } else if (b & 0x40) {
        // §6.2.1: literal with incremental indexing.
        name = this.readName(6);
        value = this.readString();
        this.insert(name, value);
      } else if (b & 0x20) {
        // §6.3: dynamic table size update; §4.2: only at the start of a block.
        if (fields > 0) throw new HpackError('HPACK: dynamic table size update after a header field (RFC 7541 §4.2)');
        this.resize(this.readInt(5));
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001): same layout.
        name = this.readName(4);
        value = this.readString();
      }
      fields++;
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes <= maxListBytes) out.push(name, value);
    }
    if (listBytes > maxListBytes) throw new HeaderListTooLarge(listBytes, maxListBytes);
    return out;
  }

  /** §5.1: an integer with an N-bit prefix. */
  private readInt(prefixBits: number): number {
    if (this.pos >= this.end) throw new HpackError('HPACK: header block ends inside an integer (RFC 7541 §5.1)');
    const mask = (1 << prefixBits) - 1;
    let value = this.src[this.pos++]! & mask;
    if (value < mask) return value;
    for (let i = 0; ; i++) {
      if (i === MAX_INT_CONTINUATIONS) {
        throw new HpackError(`HPACK: integer has more than ${MAX_INT_CONTINUATIONS} continuation bytes (RFC 7541 §5.1)`);
      }
      if (this.pos >= this.end) throw new HpackError('HPACK: header block ends inside an integer (RFC 7541 §5.1)');
      const b = this.src[this.pos++]!;
      value += (b & 0x7f) * 2 ** (7 * i); // not <<: 35 bits do not fit an int32
      if ((b & 0x80) === 0) break;
    }
    if (value > MAX_INT) throw new HpackError(`HPACK: integer ${value} is above 2^31 - 1 (RFC 7541 §5.1)`);
    return value;
  }

  /** §5.2: a string literal, Huffman-coded if its H bit is set. */
  private readString(): string {
    // At the end of the block this reads undefined (H = 0) and readInt reports the truncation.
    const huffman = (this.src[this.pos]! & 0x80) !== 0;
    const length = this.readInt(7);
    const start = this.pos;
    if (length > this.end - start) {
      throw new HpackError(`HPACK: string of ${length} bytes overruns the header block (${this.end - start} left) (RFC 7541 §5.2)`);
    }
    this.pos = start + length;
    return huffman ? huffmanDecode(this.src, start, this.pos) : this.src.toString('latin1', start, this.pos);
  }

  /** §6.2: a literal's name, as an index (N-bit prefix) or, if that is 0, a string. */
  private readName(prefixBits: number): string {
    const index = this.readInt(prefixBits);
    return index === 0 ? this.readString() : this.nameAt(index);
  }

  private nameAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return index > 0 ? STATIC_NAMES[index - 1]! : this.badIndex(index);
    return this.names[this.slotOf(index)]!;
  }

  private valueAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return index > 0 ? STATIC_VALUES[index - 1]! : this.badIndex(index);
    return this.values[this.slotOf(index)]!;
  }

  /** §2.3.3: ring slot of a dynamic-table index (62 = newest). */
  private slotOf(index: number): number {
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.count) return this.badIndex(index);
    const slot = this.first + i;
    return slot < this.names.length ? slot : slot - this.names.length;
  }

  private badIndex(index: number): never {
    if (index === 0) throw new HpackError('HPACK: index 0 is not a header field (RFC 7541 §6.1)');
    throw new HpackError(
      `HPACK: index ${index} is beyond the static and dynamic tables (${STATIC_TABLE_LENGTH} + ${this.count} entries) (RFC 7541 §2.3.3)`,
    );
  }

  /** §4.4: add an entry, evicting the oldest to make room; one larger than the table empties it. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evictUntil(this.capacity - size);
    if (size > this.capacity) return;
    assert(this.count < this.names.length, 'HPACK dynamic table ring is full');
    this.first = this.first === 0 ? this.names.length - 1 : this.first - 1;
    this.names[this.first] = name;
    this.values[this.first] = value;
    this.count++;
    this.tableBytes += size;
  }

  /** §6.3: the encoder's new maximum size, at most our setting; §4.3: evict down to it. */
  private resize(size: number): void {
    if (size > this.maxTableSize) {
      throw new HpackError(`HPACK: table size update to ${size} is above the maximum of ${this.maxTableSize} (RFC 7541 §6.3)`);
    }
    this.capacity = size;
    this.evictUntil(size);
  }

  /** §4.4: drop the oldest entries until the table is at most `bytes` in size. */
  private evictUntil(bytes: number): void {
    while (this.count > 0 && this.tableBytes > bytes) {
      let slot = this.first + this.count - 1;
      if (slot >= this.names.length) slot -= this.names.length;
      this.tableBytes -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }
}

// --- Encoding (responses) ---

/** `:status` values with a full static match, sent as one indexed byte (§6.1). */
const STATUS_INDEX = new Map<string, number>();
/** The first static index of each name, for literals with an indexed name. */
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (name === ':status') STATUS_INDEX.set(value, i + 1);
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

const NOT_LATIN1 = /[\u0100-\uffff]/;
const UPPER_CASE = /[A-Z]/;

/**
 * Encodes a response header block without touching the peer's dynamic table,
 * so it needs no state and a block may be cached and sent again: a static
 * `:status` match as an indexed field (§6.1), everything else as a literal
 * without indexing (§6.2.2), with a static name index when there is one. No
 * Huffman: responses are few and small. Names must be lower case (RFC 9113
 * §8.2.1) and values latin1.
 */
export function encodeHeaders(fields: readonly (readonly [string, string])[]): Buffer {
  let bytes = 0;
  for (const [name, value] of fields) bytes += fieldBytes(name, value);
  const out = Buffer.allocUnsafe(bytes);
  let pos = 0;
  for (const [name, value] of fields) pos = writeField(out, pos, name, value);
  assert(pos === bytes, () => `HPACK encoder wrote ${pos} of ${bytes} bytes`);
  return out;
}

function fieldBytes(name: string, value: string): number {
  if (UPPER_CASE.test(name) || NOT_LATIN1.test(name)) throw new RangeError(`HPACK: header name ${JSON.stringify(name)} is not lower-case latin1`);
  if (NOT_LATIN1.test(value)) throw new RangeError(`HPACK: value of ${name} is not latin1`);
  if (name === ':status' && STATUS_INDEX.has(value)) return 1;
  const nameIndex = STATIC_NAME_INDEX.get(name);
  const nameBytes = nameIndex === undefined ? 1 + stringBytes(name) : intBytes(nameIndex, 4);
  return nameBytes + stringBytes(value);
}

function writeField(out: Buffer, pos: number, name: string, value: string): number {
  const status = name === ':status' ? STATUS_INDEX.get(value) : undefined;
  if (status !== undefined) return writeInt(out, pos, 0x80, status, 7);
  const nameIndex = STATIC_NAME_INDEX.get(name);
  // §6.2.2: pattern 0000, then the name's index (0 = a literal name follows).
  pos = writeInt(out, pos, 0x00, nameIndex ?? 0, 4);
  if (nameIndex === undefined) pos = writeString(out, pos, name);
  return writeString(out, pos, value);
}

/** §5.2 without Huffman: H = 0, the length with a 7-bit prefix, the bytes. */
function stringBytes(s: string): number {
  return intBytes(s.length, 7) + s.length;
}

function writeString(out: Buffer, pos: number, s: string): number {
  pos = writeInt(out, pos, 0x00, s.length, 7);
  return pos + out.write(s, pos, 'latin1');
}

/** §5.1: bytes an integer takes after an N-bit prefix. */
function intBytes(value: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return 1;
  let bytes = 2;
  for (let rest = value - mask; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

function writeInt(out: Buffer, pos: number, pattern: number, value: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos++] = pattern | value;
    return pos;
  }
  out[pos++] = pattern | mask;
  let rest = value - mask;
  for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) out[pos++] = (rest % 0x80) | 0x80;
  out[pos++] = rest;
  return pos;
}
