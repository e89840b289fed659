// The JSON Lines parser: well-formed files, and every kind of error named with
// its line number.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHistory } from '../../src/check/parse.js';

const line = (o: unknown): string => JSON.stringify(o);
const ev = (process: number, type: string, f: string, value: unknown, key = 'x'): string => line({ process, type, f, key, value });

function error(text: string): { line: number; message: string } {
  const r = parseHistory(text);
  assert.equal(r.ok, false, 'expected a parse error');
  return r.ok ? { line: 0, message: '' } : { line: r.line, message: r.message };
}

describe('parseHistory', () => {
  test('reads events, skips blank lines and keeps line numbers', () => {
    const text = ['', ev(0, 'invoke', 'write', 1), '   ', ev(0, 'ok', 'write', 1), line({ process: 1, type: 'invoke', f: 'cas', key: 'x', value: [1, 2], time: 12 }), ''].join('\n');
    const r = parseHistory(text);
    assert.ok(r.ok);
    assert.equal(r.history.length, 3);
    assert.deepEqual(r.lines, [2, 4, 5]);
    assert.deepEqual(r.history[2], { process: 1, type: 'invoke', f: 'cas', key: 'x', value: [1, 2], time: 12 });
  });

  test('accepts CRLF line endings and scalar values of every JSON type', () => {
    const text = [ev(0, 'invoke', 'write', 'a'), ev(0, 'ok', 'write', 'a'), ev(0, 'invoke', 'write', true), ev(0, 'ok', 'write', true), ev(0, 'invoke', 'write', null), ev(0, 'ok', 'write', null)].join('\r\n');
    assert.ok(parseHistory(text).ok);
  });

  const cases: [string, string, number, RegExp][] = [
    ['bad JSON', `${ev(0, 'invoke', 'read', null)}\n{"process": 0,`, 2, /^bad JSON/],
    ['not an object', '[1, 2]', 1, /expected a JSON object/],
    ['a missing field', line({ process: 0, type: 'invoke', f: 'read', value: null }), 1, /missing field "key"/],
    ['an unknown field', line({ process: 0, type: 'invoke', f: 'read', key: 'x', value: null, node: 2 }), 1, /unknown field "node"/],
    ['a bad process', line({ process: 'p1', type: 'invoke', f: 'read', key: 'x', value: null }), 1, /process must be an integer/],
    ['a bad type', ev(0, 'done', 'read', null), 1, /type must be invoke, ok, fail or info, got "done"/],
    ['a bad function', ev(0, 'invoke', 'delete', null), 1, /f must be read, write or cas, got "delete"/],
    ['a non-string key', line({ process: 0, type: 'invoke', f: 'read', key: 3, value: null }), 1, /key must be a string/],
    ['an object value', ev(0, 'invoke', 'write', { a: 1 }), 1, /value must be a JSON scalar/],
    ['a cas value that is not a pair', ev(0, 'invoke', 'cas', 3), 1, /a cas value must be \[expected, new\]/],
    ['a cas value of three', ev(0, 'invoke', 'cas', [1, 2, 3]), 1, /a cas value must be \[expected, new\]/],
    ['a read invoke with a value', ev(0, 'invoke', 'read', 4), 1, /a read's invoke has value null/],
    ['a bad time', line({ process: 0, type: 'invoke', f: 'read', key: 'x', value: null, time: 'noon' }), 1, /time must be a number/],
    ['a completion without an invoke', `${ev(0, 'invoke', 'write', 1)}\n${ev(0, 'ok', 'write', 1)}\n${ev(0, 'ok', 'write', 1)}`, 3, /completion \(ok\) from process 0 without a pending invoke/],
    ['a second invoke while one is pending', `${ev(0, 'invoke', 'write', 1)}\n\n${ev(0, 'invoke', 'read', null)}`, 3, /process 0 invokes a read while its write invoked at line 1 is still pending/],
    ['a completion of another function', `${ev(0, 'invoke', 'write', 1)}\n${ev(0, 'ok', 'read', 1)}`, 2, /completes a read but its pending operation is a write/],
    ['a completion of another key', `${ev(0, 'invoke', 'write', 1)}\n${ev(0, 'ok', 'write', 1, 'y')}`, 2, /completes key "y" but its pending operation is on key "x"/],
    ['an ok write with another value', `${ev(0, 'invoke', 'write', 1)}\n${ev(0, 'ok', 'write', 2)}`, 2, /the ok of a write carries 2, but its invoke had 1/],
  ];
  for (const [name, text, lineNo, pattern] of cases) {
    test(`reports ${name} with its line number`, () => {
      const e = error(text);
      assert.equal(e.line, lineNo);
      assert.match(e.message, pattern);
    });
  }
});
