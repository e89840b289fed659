// The HPACK Huffman code (RFC 7541 §5.2, Appendix B). The code is canonical:
// codes are handed out in order of length, then of symbol, so the 257 code
// lengths alone define it. We keep only the lengths and derive the codes.

import { assert } from '../../../core/assert.js';

/** A header block that breaks RFC 7541; the connection answers COMPRESSION_ERROR (RFC 9113 §4.3). */
export class HpackError extends Error {
  override readonly name: string = 'HpackError';
}

/** The end-of-string symbol (Appendix B): 30 one bits, never valid inside a string (§5.2). */
const EOS = 256;

// Code lengths of symbols 0x00..0xff and EOS, one base-32 digit each
// ('5' = 5 bits, 'a' = 10, 'u' = 30), 32 symbols a row.
const LENGTH_DIGITS =
  'dnsssssssoussussssssssusssssssss' + // 0x00-0x1f
  '6aacd68baa8b8666555666666678f6ca' + // 0x20-0x3f  ' '..'?'
  'd67777777777777777777777878djde6' + // 0x40-0x5f  '@'..'_'
  'f56565666577666567655677777fbeds' + // 0x60-0x7f  '`'..DEL
  'kmkkmmmnmnnnnnonoomnonnnnlmnmnno' + // 0x80-0x9f
  'mlkmmnnlnmmolmnnllmlnmnnkmmmnmmn' + // 0xa0-0xbf
  'qqkjmnmpqqqrrqopjlqrrqrollqqsrrr' + // 0xc0-0xdf
  'koklmllnmmppooqnqrqqrrrrrsrrrrrq' + // 0xe0-0xff
  'u'; //                                 EOS

/** Code length in bits of each symbol, EOS at index 256. */
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from(LENGTH_DIGITS, (d) => parseInt(d, 32));

/** The code of each symbol, right-aligned in HUFFMAN_LENGTHS[s] bits. */
export const HUFFMAN_CODES: Uint32Array = canonicalCodes(HUFFMAN_LENGTHS);

/** Assigns canonical codes: sorted by (length, symbol), each the previous code plus one, shifted to its length. */
function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const symbols = Array.from(lengths.keys()).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let prevLength = lengths[symbols[0]!]!;
  for (const s of symbols) {
    const length = lengths[s]!;
    code *= 2 ** (length - prevLength); // not <<: the next code may reach 2^31
    prevLength = length;
    codes[s] = code++;
  }
  return codes;
}

// --- Decoding: a state machine over nibbles (after nghttp2's decoder) ---
//
// A state is an internal node of the code tree (256 of them; 0 is the root).
// TRANSITIONS[state * 16 + nibble] gives the state after those 4 bits, and
// the symbol completed on the way, if any: every code has 5 bits or more, so a
// nibble completes at most one.

const NEXT_MASK = 0xff;
const SYMBOL_SHIFT = 8;
const EMIT = 1 << 16;
const SAW_EOS = 1 << 17;

/** How a string may end in a state (§5.2). */
const END_OK = 0;
const END_PADDING_TOO_LONG = 1;
const END_PADDING_NOT_EOS = 2;

const { transitions: TRANSITIONS, endings: ENDINGS } = buildDecoder();

function buildDecoder(): { transitions: Uint32Array; endings: Uint8Array } {
  const tree = buildTree();
  const nodes = tree.length / 2;
  const transitions = new Uint32Array(nodes * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      transitions[state * 16 + nibble] = walkNibble(tree, state, nibble);
    }
  }
  return { transitions, endings: classifyEndings(tree, nodes) };
}

/**
 * The code tree as pairs of children: tree[2n + bit] is an internal node id
 * (>= 0) or ~symbol for a leaf (< 0).
 */
function buildTree(): Int32Array {
  const tree = new Int32Array(2 * EOS).fill(0x7fffffff); // a full tree of 257 leaves has 256 nodes
  let nodes = 1;
  for (let s = 0; s <= EOS; s++) {
    let node = 0;
    for (let bit = HUFFMAN_LENGTHS[s]! - 1; bit > 0; bit--) {
      const slot = 2 * node + ((HUFFMAN_CODES[s]! >>> bit) & 1);
      if (tree[slot] === 0x7fffffff) tree[slot] = nodes++;
      node = tree[slot]!;
    }
    tree[2 * node + (HUFFMAN_CODES[s]! & 1)] = ~s;
  }
  // Invariant: the lengths satisfy Kraft's equality, so the tree is full.
  assert(nodes === EOS && !tree.includes(0x7fffffff), 'HPACK Huffman lengths do not make a full prefix code');
  return tree;
}

/** Follows 4 bits from `state`; returns the next state, with the symbol completed on the way, if any. */
function walkNibble(tree: Int32Array, state: number, nibble: number): number {
  let node = state;
  let out = 0;
  for (let bit = 3; bit >= 0; bit--) {
    const child = tree[2 * node + ((nibble >> bit) & 1)]!;
    if (child >= 0) {
      node = child;
      continue;
    }
    assert(out === 0, 'HPACK Huffman: two symbols in one nibble');
    out = ~child === EOS ? SAW_EOS : EMIT | (~child << SYMBOL_SHIFT);
    node = 0;
  }
  return out | node;
}

/**
 * §5.2: a string may end at the root, or after up to 7 bits of padding that
 * are the high bits of EOS (all ones). Every other state is an error.
 */
function classifyEndings(tree: Int32Array, nodes: number): Uint8Array {
  const endings = new Uint8Array(nodes).fill(END_PADDING_NOT_EOS);
  let node = 0;
  for (let depth = 0; node >= 0; depth++) {
    endings[node] = depth <= 7 ? END_OK : END_PADDING_TOO_LONG;
    node = tree[2 * node + 1]!; // along the all-ones path, ending at EOS's leaf
  }
  return endings;
}

/**
 * Reused output buffer (decoding is synchronous). It grows to fit, up to a
 * cap, so one huge header does not pin a huge buffer for good.
 */
let scratch = Buffer.allocUnsafe(4096);
const SCRATCH_MAX_BYTES = 1 << 16;

/**
 * Decodes src[start, end) (§5.2) into a latin1 string, one char per byte.
 * Throws HpackError on an EOS symbol or on bad padding.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  const most = Math.ceil(((end - start) * 8) / 5); // every code is 5 bits or more
  if (most > scratch.length && most <= SCRATCH_MAX_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_MAX_BYTES);
  const out = most <= scratch.length ? scratch : Buffer.allocUnsafe(most);
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let t = TRANSITIONS[(state << 4) | (byte >> 4)]!;
    if (t > NEXT_MASK) {
      if (t & SAW_EOS) throw new HpackError('HPACK: Huffman string contains the EOS symbol (RFC 7541 §5.2)');
      out[n++] = (t >> SYMBOL_SHIFT) & 0xff;
    }
    t = TRANSITIONS[((t & NEXT_MASK) << 4) | (byte & 15)]!;
    if (t > NEXT_MASK) {
      if (t & SAW_EOS) throw new HpackError('HPACK: Huffman string contains the EOS symbol (RFC 7541 §5.2)');
      out[n++] = (t >> SYMBOL_SHIFT) & 0xff;
    }
    state = t & NEXT_MASK;
  }
  checkEnding(ENDINGS[state]!);
  return out.toString('latin1', 0, n);
}

function checkEnding(ending: number): void {
  if (ending === END_PADDING_TOO_LONG) {
    throw new HpackError('HPACK: Huffman padding is longer than 7 bits (RFC 7541 §5.2)');
  }
  if (ending === END_PADDING_NOT_EOS) {
    throw new HpackError('HPACK: Huffman padding is not a prefix of EOS (RFC 7541 §5.2)');
  }
}

/** Bytes that huffmanEncode(s) takes. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`HPACK: char ${c} at ${i} is not a byte`);
    bits += HUFFMAN_LENGTHS[c]!;
  }
  return Math.ceil(bits / 8);
}

/**
 * Huffman-codes a latin1 string (§5.2), padding the last byte with the high
 * bits of EOS. Chars above 0xff are an error: header values are bytes.
 */
export function huffmanEncode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(s));
  let acc = 0; // pending bits; at most 7 + 30, so a float, not an int32
  let bits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i); // a byte: huffmanEncodedLength checked
    const length = HUFFMAN_LENGTHS[c]!;
    acc = acc * 2 ** length + HUFFMAN_CODES[c]!;
    bits += length;
    while (bits >= 8) {
      bits -= 8;
      const high = Math.floor(acc / 2 ** bits);
      out[n++] = high;
      acc -= high * 2 ** bits;
    }
  }
  if (bits > 0) out[n] = (acc << (8 - bits)) | (0xff >> bits);
  return out;
}
