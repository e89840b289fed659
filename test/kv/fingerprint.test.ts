import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chainHash, hashValue } from '../../src/kv/fingerprint.js';

test('equal values hash equally, whatever their field order', () => {
  assert.equal(hashValue({ a: 1, b: [new Uint8Array([1, 2]), 'x'] }), hashValue({ b: [new Uint8Array([1, 2]), 'x'], a: 1 }));
  assert.equal(hashValue({ a: 1, b: undefined }), hashValue({ a: 1 }));
});

test('a one-bit change anywhere in a byte array, or a different structure, changes the hash', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, at, bit) => {
      const other = Uint8Array.from(bytes);
      const i = at % bytes.length;
      other[i] = (other[i] as number) ^ (1 << bit);
      assert.notEqual(hashValue({ v: bytes }), hashValue({ v: other }));
    }),
    { numRuns: 500 },
  );
  assert.notEqual(hashValue(['ab', 'c']), hashValue(['a', 'bc']));
  assert.notEqual(hashValue(new Uint8Array([1])), hashValue(new Uint8Array([1, 0])));
  assert.notEqual(hashValue('1'), hashValue(1));
  assert.notEqual(hashValue(null), hashValue('null'));
});

test('the chain depends on the previous link, the index and the command', () => {
  const base = chainHash('', 1, { k: 'v' });
  assert.notEqual(chainHash(base, 2, null), chainHash('', 2, null));
  assert.notEqual(chainHash(base, 2, null), chainHash(base, 3, null));
  assert.notEqual(chainHash(base, 2, { k: 'v' }), chainHash(base, 2, { k: 'w' }));
});
