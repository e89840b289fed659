// The HPACK Huffman code (RFC 7541 §5.2, Appendix B): the table derived from
// code lengths, the decoder's state machine and its refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HUFFMAN_CODES, HUFFMAN_LENGTHS, HpackError, huffmanDecode, huffmanEncode, huffmanEncodedLength,
} from '../../../../src/server/grpc/h2/huffman.js';
import { Prng } from '../../../../src/core/prng.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const decodeAll = (bytes: Uint8Array): string => huffmanDecode(bytes, 0, bytes.length);

describe('RFC 7541 Appendix B: the code table', () => {
  test('canonical codes derived from the lengths match the RFC table', () => {
    // [symbol, code, bits], copied from Appendix B: every length class, both ends of the table.
    const known: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [2, 0xfffffe2, 28], [9, 0xffffea, 24], [10, 0x3ffffffc, 30],
      [13, 0x3ffffffd, 30], [22, 0x3ffffffe, 30], [31, 0xffffffb, 28], [0x20, 0x14, 6], [0x21, 0x3f8, 10],
      [0x22, 0x3f9, 10], [0x23, 0xffa, 12], [0x24, 0x1ff9, 13], [0x26, 0xf8, 8], [0x27, 0x7fa, 11],
      [0x2f, 0x18, 6], [0x30, 0x0, 5], [0x31, 0x1, 5], [0x32, 0x2, 5], [0x39, 0x1f, 6], [0x3a, 0x5c, 7],
      [0x3c, 0x7ffc, 15], [0x40, 0x1ffa, 13], [0x41, 0x21, 6], [0x42, 0x5d, 7], [0x58, 0xfc, 8],
      [0x5a, 0xfd, 8], [0x5c, 0x7fff0, 19], [0x5e, 0x3ffc, 14], [0x61, 0x3, 5], [0x65, 0x5, 5],
      [0x74, 0x9, 5], [0x7a, 0x7b, 7], [0x7b, 0x7ffe, 15], [0x7c, 0x7fc, 11], [0x7e, 0x1ffd, 13],
      [0x7f, 0xffffffc, 28], [0x80, 0xfffe6, 20], [0x81, 0x3fffd2, 22], [0x99, 0x1fffdc, 21],
      [0xc3, 0x7fff1, 19], [0xc7, 0x1ffffec, 25], [0xcb, 0x7ffffde, 27], [0xdc, 0xffffffd, 28],
      [0xf9, 0xffffffe, 28], [0xfe, 0x7fffff0, 27], [0xff, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, bits] of known) {
      assert.equal(HUFFMAN_LENGTHS[symbol], bits, `length of symbol ${symbol}`);
      assert.equal(HUFFMAN_CODES[symbol], code, `code of symbol ${symbol}`);
    }
  });

  test('the lengths satisfy the Kraft equality (a full prefix code) and run from 5 to 30 bits', () => {
    assert.equal(HUFFMAN_LENGTHS.length, 257);
    let sum = 0; // in units of 2^-30
    for (const bits of HUFFMAN_LENGTHS) sum += 2 ** (30 - bits);
    assert.equal(sum, 2 ** 30);
    assert.equal(Math.min(...HUFFMAN_LENGTHS), 5);
    assert.equal(Math.max(...HUFFMAN_LENGTHS), 30);
  });

  test('codes are canonical: ordered by (length, symbol) they count up', () => {
    const order = [...HUFFMAN_LENGTHS.keys()].sort((a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b);
    for (let i = 1; i < order.length; i++) {
      const [prev, cur] = [order[i - 1]!, order[i]!];
      const shift = HUFFMAN_LENGTHS[cur]! - HUFFMAN_LENGTHS[prev]!;
      assert.equal(HUFFMAN_CODES[cur], (HUFFMAN_CODES[prev]! + 1) * 2 ** shift, `symbol ${cur}`);
    }
  });
});

describe('RFC 7541 §5.2: Huffman-coded strings', () => {
  // Strings from Appendix C.4 and C.6.
  const vectors: [string, string][] = [
    ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
    ['no-cache', 'a8eb10649cbf'],
    ['custom-key', '25a849e95ba97d7f'],
    ['custom-value', '25a849e95bb8e8b4bf'],
    ['302', '6402'],
    ['307', '640eff'],
    ['private', 'aec3771a4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
    ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
    ['gzip', '9bd9ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    ],
  ];

  test('encodes and decodes the Appendix C strings', () => {
    for (const [text, coded] of vectors) {
      assert.equal(hex(huffmanEncode(text)), coded, text);
      assert.equal(huffmanEncodedLength(text), coded.length / 2, text);
      assert.equal(decodeAll(Buffer.from(coded, 'hex')), text);
    }
  });

  test('decodes a slice of a larger buffer', () => {
    const coded = Buffer.concat([Buffer.from([0xaa, 0xbb]), Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'), Buffer.from([0xcc])]);
    assert.equal(huffmanDecode(coded, 2, coded.length - 1), 'www.example.com');
    assert.equal(huffmanDecode(coded, 2, 2), '');
  });

  test('every byte value round-trips alone and all 256 in a row', () => {
    for (let b = 0; b < 256; b++) {
      const s = String.fromCharCode(b);
      assert.equal(decodeAll(huffmanEncode(s)), s, `byte ${b}`);
    }
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    assert.equal(decodeAll(huffmanEncode(all)), all);
  });

  test('random byte strings round-trip (seeded)', () => {
    const prng = new Prng(7541);
    for (let n = 0; n < 3000; n++) {
      const printable = prng.chance(0.5);
      const length = prng.int(0, n < 2000 ? 40 : 2000);
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(printable ? prng.int(0x20, 0x7e) : prng.int(0, 255));
      const coded = huffmanEncode(s);
      assert.equal(coded.length, huffmanEncodedLength(s));
      assert.equal(decodeAll(coded), s, `case ${n}`);
    }
  });

  test('a string that fills its last byte exactly needs no padding', () => {
    assert.equal(hex(huffmanEncode('aaaaaaaa')), '18c6318c63'); // eight 5-bit codes
    assert.equal(decodeAll(Buffer.from('18c6318c63', 'hex')), 'aaaaaaaa');
  });

  test('chars above 0xff cannot be encoded', () => {
    assert.throws(() => huffmanEncode('\u0100'), RangeError);
  });
});

describe('RFC 7541 §5.2: malformed Huffman strings are refused', () => {
  const refuses = (bytes: number[], message: RegExp): void => {
    assert.throws(() => decodeAll(Uint8Array.from(bytes)), (e: unknown) => e instanceof HpackError && message.test(e.message));
  };

  test('padding longer than 7 bits', () => {
    refuses([0xff], /longer than 7 bits/); // no symbol, 8 bits of padding
    refuses([0x1f, 0xff], /longer than 7 bits/); // 'a' then 11 one bits
    refuses([0x1f, 0xff, 0xff], /longer than 7 bits/);
  });

  test('padding that is not the high bits of EOS', () => {
    refuses([0x18], /not a prefix of EOS/); // 'a' then 000
    refuses([0x1e], /not a prefix of EOS/); // 'a' then 110
    refuses([0x1f, 0xfe], /not a prefix of EOS/); // 'a', then 11111111110 (a prefix of 0x1ff8)
  });

  test('an explicit EOS symbol', () => {
    refuses([0xff, 0xff, 0xff, 0xff], /EOS/); // 30 one bits = EOS, then 2 bits
    refuses([0x1f, 0xff, 0xff, 0xff, 0xff], /EOS/); // 'a', then EOS
  });
});
