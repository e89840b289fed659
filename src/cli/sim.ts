// `synod sim`: runs the deterministic simulator over one seed or a range of
// seeds and prints a summary (or one JSON object with --json). Exit codes:
// 0 no violation, 1 any violation, 2 bad usage.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError, EXIT_VERDICT } from './errors.js';
import { FAULT_DESCRIPTIONS, FAULT_NAMES, FaultListError, parseFaults, type FaultName } from '../sim/faults.js';
import { checkProtocolOptions } from '../sim/option-check.js';
import { OptionError, parseCount, parseDuration, parseMutants, parseProtocolOptions, parseSeedOption, parseSeedRange } from '../sim/options.js';
import { allProtocols, findProtocol, protocolNames } from '../sim/registry.js';
import type { Report } from '../sim/report.js';
import { DEFAULT_CLIENTS, DEFAULT_LIVENESS_MS, runSeed, type RunConfig } from '../sim/run.js';
import type { Scenario } from '../sim/scenario.js';
import type { AnySpec } from '../sim/simulation.js';
import { MAX_NODES } from '../sim/simulation.js';
import { RunSummary } from '../sim/summary.js';
import { traceToJson, type TraceSink } from '../sim/trace.js';
import { resolveWorkload } from '../sim/workloads.js';

interface SimFlags {
  protocol?: string;
  seed?: string;
  seeds?: string;
  nodes: string;
  duration: string;
  faults: string;
  mutant?: string;
  scenario?: string;
  clients: string;
  liveness: string;
  json?: boolean;
  trace?: string;
  list?: boolean;
  report?: string;
  option: string[];
  stopOnViolation?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('Run protocols in the deterministic simulator under faults; check invariants, liveness and linearizability')
    .option('--protocol <name>', 'protocol to simulate (see --list)')
    .option('--seed <n>', 'one seed (replays a run exactly)')
    .option('--seeds <a..b>', 'a range of seeds, inclusive')
    .option('--nodes <n>', 'cluster size', '5')
    .option('--duration <time>', 'length of the safety phase under faults, virtual time (e.g. 10s, 500ms)', '10s')
    .option('--faults <list>', `faults to inject: all, none, or a comma list of ${FAULT_NAMES.join(', ')}`, 'all')
    .option('--mutant <names>', 'switch on deliberate bugs (comma list; see --list)')
    .option('--scenario <name>', 'run a scripted fault schedule of the protocol (see --list)')
    .option('--clients <n>', 'concurrent workload clients', String(DEFAULT_CLIENTS))
    .option('--liveness <time>', 'bound of the liveness phase after healing', `${DEFAULT_LIVENESS_MS / 1000}s`)
    .option('--json', 'print one JSON object instead of the text summary')
    .option('--trace <file>', 'write the trace as JSON Lines (one seed only)')
    .option('--list', 'list protocols, their mutants and scenarios, and the faults')
    .option('--option <key=value>', 'a protocol option, repeatable (e.g. --option checkQuorum=false; see --list)', collect, [])
    .option('--stop-on-violation', 'stop a range of seeds at the first violation')
    .option('--report <names>', "extra summary sections the protocol offers (comma list, e.g. 'messages' for the commit protocols)")
    .addHelpText('after', '\nExamples:\n  synod sim --protocol register --seeds 1..200\n  synod sim --protocol register --seed 7 --mutant stale-read --trace run.jsonl\n  synod sim --list')
    .action((flags: SimFlags) => {
      if (flags.list === true) {
        list(flags.json === true);
        return;
      }
      const plan = planRuns(flags);
      const failed = execute(plan, flags);
      if (failed) process.exitCode = EXIT_VERDICT;
    });
}

interface Plan {
  readonly spec: AnySpec;
  readonly seeds: { from: number; to: number };
  readonly base: Omit<RunConfig, 'seed'>;
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof OptionError || err instanceof FaultListError) throw new UsageError(err.message);
    throw err;
  }
}

function findScenario(spec: AnySpec, name: string | undefined): Scenario | undefined {
  if (name === undefined) return undefined;
  const s = (spec.scenarios ?? []).find((x) => x.name === name);
  if (s === undefined) {
    const names = (spec.scenarios ?? []).map((x) => x.name);
    throw new UsageError(`protocol '${spec.name}' has no scenario '${name}' (${names.length === 0 ? 'it has none' : `known: ${names.join(', ')}`})`);
  }
  return s;
}

function planRuns(flags: SimFlags): Plan {
  if (flags.protocol === undefined) throw new UsageError(`--protocol is required (known: ${protocolNames().join(', ')})`);
  const spec = findProtocol(flags.protocol);
  if (spec === undefined) throw new UsageError(`unknown protocol '${flags.protocol}' (known: ${protocolNames().join(', ')})`);
  if (flags.seed !== undefined && flags.seeds !== undefined) throw new UsageError('give --seed or --seeds, not both');
  const seeds = usage(() => {
    if (flags.seed !== undefined) {
      const s = parseSeedOption(flags.seed);
      return { from: s, to: s };
    }
    if (flags.seeds !== undefined) return parseSeedRange(flags.seeds);
    const s = Math.floor(Math.random() * 2 ** 31);
    return { from: s, to: s };
  });
  if (flags.trace !== undefined && seeds.to !== seeds.from) throw new UsageError('--trace writes one run: give a single --seed');
  try {
    resolveWorkload(spec.name, spec.workload);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const base = usage(() => ({
    spec,
    nodes: parseCount(flags.nodes, '--nodes', 1, MAX_NODES),
    durationMs: parseDuration(flags.duration),
    faults: parseFaults(flags.faults),
    mutants: parseMutants(flags.mutant, spec.mutants, spec.name),
    clients: parseCount(flags.clients, '--clients', 1, 256),
    livenessMs: parseDuration(flags.liveness, '--liveness'),
    options: parseProtocolOptions(flags.option, spec.options, spec.name),
  }));
  usage(() => checkProtocolOptions(spec, base.nodes, base.mutants, base.options));
  const scenario = findScenario(spec, flags.scenario);
  return { spec, seeds, base: scenario === undefined ? base : { ...base, scenario } };
}

function execute(plan: Plan, flags: SimFlags): boolean {
  const requested = new Set((flags.report ?? '').split(',').map((x) => x.trim()).filter((x) => x !== ''));
  const report: Report | undefined = plan.spec.report?.(requested);
  const summary = new RunSummary(plan.spec.name);
  const total = plan.seeds.to - plan.seeds.from + 1;
  const progress = new Progress(total);
  const trace = flags.trace === undefined ? null : new TraceFile(flags.trace);
  const started = performance.now();
  try {
    for (let seed = plan.seeds.from; seed <= plan.seeds.to; seed++) {
      const config: RunConfig = { ...plan.base, seed, ...(report === undefined ? {} : { report }), ...(trace === null ? {} : { trace: trace.sink }) };
      const r = runSeed(config);
      summary.add(r);
      if (r.violation !== null && flags.json !== true) progress.note(`seed ${seed}: ${r.violation.invariant}: ${r.violation.message.split('\n')[0] ?? ''}\n  replay: ${r.violation.replay}`);
      progress.update(summary.runs, summary.violations.length);
      if (r.violation !== null && flags.stopOnViolation === true) break;
    }
  } finally {
    trace?.close();
    progress.done();
  }
  const wallMs = performance.now() - started;
  const sections = report?.sections() ?? [];
  if (flags.json === true) process.stdout.write(`${JSON.stringify(summary.toJson(wallMs, sections))}\n`);
  else process.stdout.write(`${summary.format(wallMs, sections)}\n`);
  return summary.violations.length > 0;
}

/** A progress line on stderr: redrawn on a terminal, sparse otherwise. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;
  private drawn = false;
  constructor(private readonly total: number) {}

  update(done: number, violations: number): void {
    if (this.total <= 1) return;
    const now = performance.now();
    const line = `sim: ${done}/${this.total} runs, ${violations} violation${violations === 1 ? '' : 's'}`;
    if (this.tty) {
      if (now - this.last < 100 && done < this.total) return;
      process.stderr.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      const step = Math.max(1, Math.ceil(this.total / 10));
      if (done % step !== 0 && done !== this.total) return;
      process.stderr.write(`${line}\n`);
    }
    this.last = now;
  }

  note(text: string): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.drawn) process.stderr.write('\n');
  }
}

/** Writes trace events as JSON Lines, buffered. */
class TraceFile {
  private readonly fd: number;
  private buffer = '';
  readonly sink: TraceSink = (e) => {
    this.buffer += traceToJson(e) + '\n';
    if (this.buffer.length > 1 << 20) this.flush();
  };

  constructor(path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new UsageError(`cannot write the trace to ${path}: ${(err as Error).message}`);
    }
  }

  flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function list(json: boolean): void {
  const protocols = allProtocols().map((s) => ({
    name: s.name,
    description: s.description,
    workload: typeof s.workload === 'string' ? s.workload : 'custom',
    tickMs: s.tickMs,
    mutants: s.mutants,
    options: s.options ?? {},
    scenarios: Object.fromEntries((s.scenarios ?? []).map((x) => [x.name, x.description])),
  }));
  if (json) {
    process.stdout.write(`${JSON.stringify({ protocols, faults: FAULT_DESCRIPTIONS })}\n`);
    return;
  }
  const out: string[] = [];
  for (const p of protocols) {
    out.push(`${p.name}: ${p.description} (workload ${p.workload})`);
    for (const [m, d] of Object.entries(p.mutants)) out.push(`  mutant ${m}: ${d}`);
    for (const [m, d] of Object.entries(p.options)) out.push(`  option ${m}: ${d}`);
    for (const [m, d] of Object.entries(p.scenarios)) out.push(`  scenario ${m}: ${d}`);
  }
  out.push('faults (--faults all | none | a comma list):');
  for (const f of FAULT_NAMES) out.push(`  ${f}: ${FAULT_DESCRIPTIONS[f as FaultName]}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
