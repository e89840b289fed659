// `npm run bench`: runs every bench/*.bench.js (compiled) in its own process,
// one after the other, so that they do not share a heap or a JIT. Each prints
// its figures and one JSON line. Filter: `npm run bench -- NAME...`.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${only.join(' ') || '(any)'}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f.replace(/\.bench\.js$/, '')} ==`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
