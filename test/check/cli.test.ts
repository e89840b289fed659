// `synod check`: exit codes 0 / 1 / 2, text and JSON output, stdin, and
// error messages that name the file and line without a stack trace.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const main = resolve(here, '../../src/cli/main.js');
const data = resolve(here, '../../../testdata/histories');

function synod(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, 'check', ...args], { encoding: 'utf8', input: input ?? '', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('synod check', () => {
  test('exit 0 on a linearizable history', () => {
    const r = synod([resolve(data, 'linearizable.jsonl')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^linearizable \(10 operations on 3 keys/);
  });

  test('exit 1 on a stale read, with the explanation and the sub-history by line', () => {
    const r = synod([resolve(data, 'stale-read.jsonl')]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /NOT linearizable/);
    assert.match(r.out, /The read by process 1 \(lines 9–10\) returned 1, a stale value/);
    assert.match(r.out, /^ {6}9 {2}\{"process":1,"type":"invoke","f":"read","key":"x","value":null\}$/m);
    assert.doesNotMatch(r.out, /"key":"y"/);
  });

  test('exit 1 on concurrent writes read in both orders', () => {
    assert.equal(synod([resolve(data, 'both-orders.jsonl')]).code, 1);
  });

  test('--json prints one object with the verdict and the lines', () => {
    const r = synod([resolve(data, 'stale-read.jsonl'), '--json']);
    assert.equal(r.code, 1);
    const v = JSON.parse(r.out) as { result: string; key: string; subHistoryLines: number[]; stats: { operations: number } };
    assert.equal(v.result, 'illegal');
    assert.equal(v.key, 'x');
    assert.deepEqual(v.subHistoryLines, [1, 2, 5, 6, 9, 10]);
    assert.equal(v.stats.operations, 5);
  });

  test('- reads stdin', () => {
    const r = synod(['-', '--json'], readFileSync(resolve(data, 'linearizable.jsonl'), 'utf8'));
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { result: string }).result, 'ok');
  });

  test('exit 2 with "unknown" when the time limit runs out', () => {
    const r = synod([resolve(data, 'hard.jsonl'), '--time-limit', '300ms']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.out, /^unknown: key "x" \(25 operations\): stopped before the search finished \(time limit\)/);
  });

  for (const [file, message] of [
    ['malformed-json.jsonl', /malformed-json\.jsonl:3: bad JSON/],
    ['malformed-cas.jsonl', /malformed-cas\.jsonl:3: a cas value must be \[expected, new\]/],
    ['malformed-orphan.jsonl', /malformed-orphan\.jsonl:3: a completion \(ok\) from process 1 without a pending invoke/],
  ] as const) {
    test(`exit 2 on ${file}, naming file and line, no stack trace`, () => {
      const r = synod([resolve(data, file)]);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /\n\s+at /);
    });
  }

  test('exit 2 on a missing file and on a bad --time-limit', () => {
    const r = synod([resolve(data, 'no-such-file.jsonl')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot read .*no-such-file\.jsonl: no such file/);
    const t = synod([resolve(data, 'linearizable.jsonl'), '--time-limit', 'soon']);
    assert.equal(t.code, 2);
    assert.match(t.err, /--time-limit: expected a duration/);
  });
});
