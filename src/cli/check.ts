// `synod check FILE`: is a recorded key-value history (JSON Lines, the format
// in src/check/history.ts) linearizable? Exit 0 yes, 1 no, 2 unknown (time
// limit) or malformed input. `-` reads the history from stdin.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { analyzeHistory, parseHistory, type CheckStats, type Verdict } from '../check/index.js';
import { EXIT_OK, EXIT_USAGE, EXIT_VERDICT, UsageError } from './errors.js';

interface CheckFlags {
  readonly timeLimit: string;
  readonly json?: boolean;
}

/** "10s", "500ms", "2m" or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--time-limit: expected a duration such as 10s, 500ms or 2m, got "${text}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms <= 0) throw new UsageError('--time-limit must be positive');
  return ms;
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new UsageError(`cannot read ${file === '-' ? 'stdin' : file}: ${why}`);
  }
}

function exitCodeOf(v: Verdict): number {
  return v.result === 'ok' ? EXIT_OK : v.result === 'illegal' ? EXIT_VERDICT : EXIT_USAGE;
}

function printText(v: Verdict, stats: CheckStats, ms: number, lines: readonly number[]): void {
  const figures = `${stats.operations} operations on ${stats.keys} key${stats.keys === 1 ? '' : 's'}, ${stats.steps} search steps, ${ms.toFixed(0)} ms`;
  switch (v.result) {
    case 'ok':
      process.stdout.write(`linearizable (${figures})\n`);
      return;
    case 'illegal': {
      process.stdout.write(`NOT linearizable (${figures})\n${v.explanation}\n\nThe sub-history, with its line numbers:\n`);
      v.subHistory.forEach((e, i) => {
        const line = lines[v.subHistoryIndices[i] as number] ?? 0;
        process.stdout.write(`${String(line).padStart(7)}  ${JSON.stringify(e)}\n`);
      });
      return;
    }
    case 'unknown':
      process.stdout.write(`unknown: ${v.reason} (${figures})\n`);
      return;
  }
}

function printJson(v: Verdict, stats: CheckStats, ms: number, lines: readonly number[]): void {
  const extra = v.result === 'illegal' ? { subHistoryLines: v.subHistoryIndices.map((i) => lines[i] ?? 0) } : {};
  process.stdout.write(`${JSON.stringify({ ...v, ...extra, stats: { ...stats, ms: Math.round(ms) } })}\n`);
}

function runCheck(file: string, flags: CheckFlags): void {
  const limitMs = parseDuration(flags.timeLimit);
  const name = file === '-' ? 'stdin' : file;
  const parsed = parseHistory(readInput(file));
  if (!parsed.ok) throw new UsageError(`${name}:${parsed.line}: ${parsed.message}`);
  const started = performance.now();
  const deadline = started + limitMs;
  const { verdict, stats } = analyzeHistory(parsed.history, {
    shouldStop: () => performance.now() > deadline,
    eventLines: parsed.lines,
    maxSteps: Number.MAX_SAFE_INTEGER,
  });
  const ms = performance.now() - started;
  if (flags.json === true) printJson(verdict, stats, ms, parsed.lines);
  else printText(verdict, stats, ms, parsed.lines);
  process.exitCode = exitCodeOf(verdict);
}

export function register(program: Command): void {
  program
    .command('check')
    .description('Check that a key-value history (JSON Lines: read, write, cas per key) is linearizable. Exit 0 linearizable, 1 not, 2 unknown or malformed input.')
    .argument('<file>', 'the history file, or - for stdin')
    .option('--time-limit <duration>', 'give up with "unknown" after this long (e.g. 10s, 500ms, 2m)', '10s')
    .option('--json', 'print the verdict as one JSON object')
    .action((file: string, flags: CheckFlags) => runCheck(file, flags));
}
