// The linearizability checker's time on generated linearizable histories:
// 10,000 operations over 10 keys from 20 concurrent processes, first with
// few unknown outcomes, then with many (each "info" operation stays
// concurrent with everything after it, which is what makes checking hard),
// then all on one key, then with one stale read added (time to the verdict,
// witness shrinking included).
// Prints the median of several runs per case (wall and CPU time: the machine
// may be shared) and one JSON line.

import { performance } from 'node:perf_hooks';
import { Prng } from '../src/core/prng.js';
import { generateRegisterHistory, type GenerateOptions } from '../src/check/generate.js';
import { analyzeHistory } from '../src/check/linearizability.js';
import { parseHistory } from '../src/check/parse.js';
import type { HistoryEvent, Value } from '../src/check/history.js';

const RUNS = Number(process.env['SYNOD_BENCH_RUNS'] ?? 7);

interface Case {
  readonly name: string;
  readonly options: GenerateOptions;
  /** Append a write and a read that returns the value from before it (the verdict must be "illegal"). */
  readonly staleRead?: boolean;
}

function withStaleRead(history: HistoryEvent[]): HistoryEvent[] {
  const last = [...history].reverse().find((e) => e.key === 'k0' && e.type === 'ok' && e.f === 'read');
  const seen = last === undefined ? null : (last.value as Value);
  return [
    ...history,
    { process: 1000, type: 'invoke', f: 'write', key: 'k0', value: 'fresh' },
    { process: 1000, type: 'ok', f: 'write', key: 'k0', value: 'fresh' },
    { process: 1001, type: 'invoke', f: 'read', key: 'k0', value: null },
    { process: 1001, type: 'ok', f: 'read', key: 'k0', value: seen },
  ];
}

const CASES: readonly Case[] = [
  { name: 'plain', options: { operations: 10_000, processes: 20, keys: 10, values: 5, infoRate: 0.01 } },
  { name: 'many-info', options: { operations: 10_000, processes: 20, keys: 10, values: 5, infoRate: 0.3 } },
  { name: 'many-info-unique-values', options: { operations: 10_000, processes: 20, keys: 10, values: 1_000_000, infoRate: 0.3 } },
  { name: 'one-key-contended', options: { operations: 10_000, processes: 20, keys: 1, values: 5, infoRate: 0.1 } },
  { name: 'stale-read', options: { operations: 10_000, processes: 20, keys: 10, values: 5, infoRate: 0 }, staleRead: true },
];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function runCase(c: Case): Record<string, number | string> {
  const generated = generateRegisterHistory(new Prng(2026), c.options);
  const history = c.staleRead === true ? withStaleRead(generated) : generated;
  const text = history.map((e) => JSON.stringify(e)).join('\n');
  const infos = history.filter((e) => e.type === 'info').length;
  const checkMs: number[] = [];
  const checkCpuMs: number[] = [];
  const parseMs: number[] = [];
  let steps = 0;
  let result = '';
  let witness = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const parsed = parseHistory(text);
    const t1 = performance.now();
    const cpu0 = process.cpuUsage();
    if (!parsed.ok) throw new Error(`generated history does not parse: line ${parsed.line}: ${parsed.message}`);
    const { verdict, stats } = analyzeHistory(parsed.history);
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    checkCpuMs.push((cpu.user + cpu.system) / 1000);
    parseMs.push(t1 - t0);
    checkMs.push(t2 - t1);
    steps = stats.steps;
    result = verdict.result;
    witness = verdict.result === 'illegal' ? verdict.subHistory.length : 0;
  }
  const row = { case: c.name, operations: history.filter((e) => e.type === 'invoke').length, keys: c.options.keys, infoOps: infos, result, witnessEvents: witness, steps, checkMedianMs: round(median(checkMs)), checkCpuMedianMs: round(median(checkCpuMs)), parseMedianMs: round(median(parseMs)) };
  console.log(`${c.name.padEnd(24)} ${c.options.operations} ops (${infos} info), ${c.options.keys} keys, ${c.options.processes} processes: ` +
    `${result}${witness > 0 ? ` (witness: ${witness} events)` : ''}, check median ${row.checkMedianMs} ms wall (min ${round(Math.min(...checkMs))}, max ${round(Math.max(...checkMs))}), ${row.checkCpuMedianMs} ms CPU, parse median ${row.parseMedianMs} ms, ${steps} steps`);
  return row;
}

const round = (x: number): number => Math.round(x * 10) / 10;

console.log(`linearizability checker, median of ${RUNS} runs per case`);
const rows = CASES.map(runCase);
console.log(JSON.stringify({ bench: 'check', runs: RUNS, cases: rows }));
