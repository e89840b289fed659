import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cBytewise } from '../../src/core/crc32c.js';
import { Prng } from '../../src/core/prng.js';

describe('CRC-32C', () => {
  test('check value of "123456789" is 0xE3069283', () => {
    assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  });
  // RFC 3720 (iSCSI) appendix B.4 test vectors.
  test('RFC 3720 B.4: 32 bytes of zeros', () => {
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  });
  test('RFC 3720 B.4: 32 bytes of 0xFF', () => {
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  });
  test('RFC 3720 B.4: 32 incrementing bytes', () => {
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  });
  test('RFC 3720 B.4: 32 decrementing bytes', () => {
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });
  test('empty input is 0', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });
  test('slicing-by-8 equals the bytewise reference on random inputs of every small length', () => {
    const rng = new Prng(3);
    for (let len = 0; len < 300; len++) {
      const data = Uint8Array.from({ length: len }, () => rng.int(0, 255));
      assert.equal(crc32c(data), crc32cBytewise(data), `length ${len}`);
    }
  });
  test('checksumming in pieces equals checksumming the whole', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
      const part = crc32c(data, crc32c(data, 0, 0, cut), cut, data.length);
      assert.equal(part, crc32c(data), `cut at ${cut}`);
    }
  });
  test('a single flipped bit changes the checksum', () => {
    const data = Buffer.from('synod write-ahead log record');
    const before = crc32c(data);
    data[5]! ^= 0x10;
    assert.notEqual(crc32c(data), before);
  });
});
