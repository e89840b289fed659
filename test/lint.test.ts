// The architecture rules are enforced by the linter; these tests prove the
// rules fire, so that a broken lint config cannot pass silently.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('pure folders', () => {
  for (const folder of ['core', 'raft', 'paxos', 'commit', 'kv', 'rsm', 'sim', 'check']) {
    test(`src/${folder} refuses node:*, clocks, timers and Math.random`, async () => {
      const found = await problems(`src/${folder}/probe.ts`, [
        "import { readFileSync } from 'node:fs';",
        'export const a = readFileSync.length + Math.random() + Date.now();',
        'setTimeout(() => undefined, 1);',
        'export const b = performance.now();',
      ].join('\n'));
      assert.ok(found.some((p) => p.startsWith('no-restricted-imports')), found.join('\n'));
      assert.ok(found.some((p) => p.includes('Math.random')), found.join('\n'));
      assert.equal(found.filter((p) => p.startsWith('no-restricted-globals')).length, 3, found.join('\n'));
    });
  }
  test('impure folders may use Node', async () => {
    const found = await problems('src/storage/probe.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync.length + Date.now();\n");
    assert.deepEqual(found, []);
  });
});
