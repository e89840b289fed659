// The linearizability checker's time on generated linearizable histories:
// 10,000 operations over 10 keys from 20 concurrent processes, first with
// few unknown outcomes, then with many (each "info" operation stays
// concurrent with everything after it, which is what makes checking hard).
// Prints the median of several runs per case and one JSON line.

import { performance } from 'node:perf_hooks';
import { Prng } from '../src/core/prng.js';
import { generateRegisterHistory, type GenerateOptions } from '../src/check/generate.js';
import { analyzeHistory } from '../src/check/linearizability.js';
import { parseHistory } from '../src/check/parse.js';

const RUNS = Number(process.env['SYNOD_BENCH_RUNS'] ?? 7);

interface Case {
  readonly name: string;
  readonly options: GenerateOptions;
}

const CASES: readonly Case[] = [
  { name: 'plain', options: { operations: 10_000, processes: 20, keys: 10, values: 5, infoRate: 0.01 } },
  { name: 'many-info', options: { operations: 10_000, processes: 20, keys: 10, values: 5, infoRate: 0.1 } },
  { name: 'many-info-unique-values', options: { operations: 10_000, processes: 20, keys: 10, values: 1_000_000, infoRate: 0.1 } },
];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function runCase(c: Case): Record<string, number | string> {
  const history = generateRegisterHistory(new Prng(2026), c.options);
  const text = history.map((e) => JSON.stringify(e)).join('\n');
  const infos = history.filter((e) => e.type === 'info').length;
  const checkMs: number[] = [];
  const parseMs: number[] = [];
  let steps = 0;
  let result = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const parsed = parseHistory(text);
    const t1 = performance.now();
    if (!parsed.ok) throw new Error(`generated history does not parse: line ${parsed.line}: ${parsed.message}`);
    const { verdict, stats } = analyzeHistory(parsed.history);
    const t2 = performance.now();
    parseMs.push(t1 - t0);
    checkMs.push(t2 - t1);
    steps = stats.steps;
    result = verdict.result;
  }
  const row = { case: c.name, operations: c.options.operations, infoOps: infos, result, steps, checkMedianMs: round(median(checkMs)), parseMedianMs: round(median(parseMs)) };
  console.log(`${c.name.padEnd(24)} ${c.options.operations} ops (${infos} info), ${c.options.keys} keys, ${c.options.processes} processes: ` +
    `${result}, check median ${row.checkMedianMs} ms (min ${round(Math.min(...checkMs))}, max ${round(Math.max(...checkMs))}), parse median ${row.parseMedianMs} ms, ${steps} steps`);
  return row;
}

const round = (x: number): number => Math.round(x * 10) / 10;

console.log(`linearizability checker, median of ${RUNS} runs per case`);
const rows = CASES.map(runCase);
console.log(JSON.stringify({ bench: 'check', runs: RUNS, cases: rows }));
