import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTxn, parseCompare, words } from '../../src/cli/txn-parse.js';

describe("etcdctl's txn text format", () => {
  test('compares, success and failure sections', () => {
    const t = parseTxn('mod("key1") > "0"\nvalue("k2") = "a b"\n\nput key1 "overwrote-key1"\nget key1\n\nput key1 "created"\ndel k --prefix\n');
    assert.equal(t.compare.length, 2);
    assert.equal(t.compare[0].target, 'MOD');
    assert.equal(t.compare[0].result, 'GREATER');
    assert.equal(t.compare[0].mod_revision, '0');
    assert.equal(t.compare[1].value.toString(), 'a b');
    assert.equal(t.success[0].request_put.value.toString(), 'overwrote-key1');
    assert.ok(t.success[1].request_range);
    assert.equal(t.failure[1].request_delete_range.range_end.toString(), 'l');
  });
  test('a leading blank line means no compares', () => {
    const t = parseTxn('\nput a 1\n\n');
    assert.equal(t.compare.length, 0);
    assert.equal(t.success.length, 1);
  });
  test('mistakes are named', () => {
    assert.throws(() => parseCompare('mod(key) > 0'), /bad compare/);
    assert.throws(() => parseCompare('size("k") > "1"'), /bad compare target 'size'/);
    assert.throws(() => parseCompare('ver("k") > "x"'), /whole number/);
    assert.throws(() => parseTxn('\nfrob a\n'), /unknown request 'frob'/);
    assert.throws(() => parseTxn('\nput a\n'), /put needs a key and a value/);
    assert.throws(() => parseTxn('\n\n\n\nput a 1'), /after the failure requests/);
    assert.throws(() => words('"abc'), /unterminated/);
  });
});
