// One simulated run, VOPR-style: a safety phase under faults, then a liveness
// phase in which every fault is healed and the cluster must complete new
// client operations within a bound; then the workload's checks
// (linearizability for 'kv'). The first violation ends the run and is reported
// with its seed, event number and a one-line replay command.

import { FAULT_NAMES, formatFaults, isOperatorActivity, Nemesis, type FaultName } from './faults.js';
import type { Operator, OperatorActivity, OperatorControl } from './operator.js';
import { formatProtocolOptions } from './options.js';
import type { Report } from './report.js';
import type { Scenario, ScenarioControl } from './scenario.js';
import { Simulation, type AnySpec, type Violation } from './simulation.js';
import type { TraceSink } from './trace.js';
import type { WorkloadVerdict } from './workload.js';
import { resolveWorkload } from './workloads.js';

export interface RunConfig {
  readonly spec: AnySpec;
  readonly seed: number;
  readonly nodes: number;
  /** Length of the safety phase (faults active), virtual ms. */
  readonly durationMs: number;
  readonly faults: ReadonlySet<FaultName>;
  readonly mutants: ReadonlySet<string>;
  readonly scenario?: Scenario;
  readonly clients?: number;
  /** Protocol options (NodeContext.options) and workload options. */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly workloadOptions?: Readonly<Record<string, unknown>>;
  /** The liveness bound: `livenessOps` new operations within `livenessMs` after healing. */
  readonly livenessMs?: number;
  readonly livenessOps?: number;
  /** Search budget of the workload's checks. */
  readonly checkSteps?: number;
  readonly trace?: TraceSink;
  readonly report?: Report;
}

export const DEFAULT_LIVENESS_MS = 20_000;
export const DEFAULT_LIVENESS_OPS = 20;
export const DEFAULT_CHECK_STEPS = 5_000_000;
export const DEFAULT_CLIENTS = 5;

export interface RunViolation extends Violation {
  readonly protocol: string;
  readonly replay: string;
}

export interface RunResult {
  readonly protocol: string;
  readonly seed: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly violation: RunViolation | null;
  /** Fault, message and protocol-event counters of this run. */
  readonly counts: Readonly<Record<string, number>>;
  readonly workload: Readonly<Record<string, number>>;
  readonly verdicts: readonly WorkloadVerdict[];
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The one-line command that replays a run. */
export function replayCommand(c: Pick<RunConfig, 'spec' | 'seed' | 'nodes' | 'faults' | 'mutants' | 'scenario' | 'durationMs' | 'clients' | 'livenessMs' | 'options'>): string {
  const parts = ['synod sim', `--protocol ${c.spec.name}`, `--seed ${c.seed}`, `--nodes ${c.nodes}`, `--faults ${formatFaults(c.faults)}`];
  if (c.mutants.size > 0) parts.push(`--mutant ${[...c.mutants].sort().join(',')}`);
  if (c.scenario !== undefined) parts.push(`--scenario ${c.scenario.name}`);
  if (c.options !== undefined) parts.push(...formatProtocolOptions(c.options));
  parts.push(`--duration ${formatDuration(c.durationMs)}`);
  // Settings the CLI can change, named only when they differ from its defaults.
  if (c.clients !== undefined && c.clients !== DEFAULT_CLIENTS) parts.push(`--clients ${c.clients}`);
  if (c.livenessMs !== undefined && c.livenessMs !== DEFAULT_LIVENESS_MS) parts.push(`--liveness ${formatDuration(c.livenessMs)}`);
  return parts.join(' ');
}

/** Builds the simulation of a run without running it (the playground drives it by hand). */
export function createRun(config: RunConfig): { sim: Simulation; start: () => void; stopFaults: () => void; operator: Operator | null } {
  const sim = new Simulation({
    spec: config.spec, seed: config.seed, nodes: config.nodes, mutants: config.mutants, options: { ...config.scenario?.options, ...config.options }, tornWrites: config.faults.has('torn-write'),
  });
  if (config.trace !== undefined) sim.subscribe(config.trace);
  if (config.report !== undefined) {
    const report = config.report;
    sim.subscribe((e) => report.observe(e, config.seed), report.types);
  }
  let active = true;
  const faults = config.scenario === undefined ? config.faults : new Set((config.scenario.faults ?? []).filter((f) => config.faults.has(f)));
  const nemesis = new Nemesis(sim, sim.faultRng, faults);
  const activities = new Set([...faults].filter((f): f is OperatorActivity => isOperatorActivity(f)));
  const operator = config.spec.operator !== undefined && activities.size > 0 ? config.spec.operator(operatorControl(sim), activities) : null;
  const start = (): void => {
    sim.phase('safety');
    nemesis.start();
    operator?.start();
    if (config.scenario !== undefined) config.scenario.setup(scriptControl(sim, () => active));
  };
  const stopFaults = (): void => {
    active = false;
    nemesis.stop();
    operator?.settle();
  };
  return { sim, start, stopFaults, operator };
}

function operatorControl(sim: Simulation): OperatorControl {
  return {
    members: sim.members,
    rng: sim.operatorRng,
    now: () => sim.now(),
    at: (t, action) => sim.at(t, action),
    views: () => sim.views(),
    status: (n) => sim.status(n),
    operate: (n, call) => sim.operate(n, call),
    count: (key) => sim.countOperator(key),
  };
}

/** A scenario's view of the simulation: its timed actions stop when the liveness phase begins. */
function scriptControl(sim: Simulation, active: () => boolean): ScenarioControl {
  return {
    members: sim.members,
    rng: sim.rng,
    now: () => sim.now(),
    at: (t, action) => sim.at(t, () => active() && action()),
    watch: (action) => sim.watch((e) => (active() ? action(e) : 'done')),
    crash: (n) => sim.crash(n),
    restart: (n) => sim.restart(n),
    pause: (n) => sim.pause(n),
    resume: (n) => sim.resume(n),
    partition: (g) => sim.partition(g),
    heal: () => sim.heal(),
    setLinkFaults: (n, loss, dup) => sim.setLinkFaults(n, loss, dup),
    views: () => sim.views(),
  };
}

export function runSeed(config: RunConfig): RunResult {
  const { sim, start, stopFaults, operator } = createRun(config);
  const factory = resolveWorkload(config.spec.name, config.spec.workload);
  const workload = factory({ clients: config.clients ?? DEFAULT_CLIENTS, options: config.workloadOptions ?? {} });
  sim.attachWorkload(workload);
  start();
  sim.runUntil(config.durationMs);
  if (sim.violation === null) {
    // Liveness: heal everything, then the cluster must make progress within the bound.
    stopFaults();
    sim.phase('liveness');
    sim.healAll();
    const base = workload.completed();
    const want = config.livenessOps ?? DEFAULT_LIVENESS_OPS;
    const bound = config.livenessMs ?? DEFAULT_LIVENESS_MS;
    // With an operator, the cluster must also be back in its full shape (e.g. every node a voter again).
    sim.runUntil(config.durationMs + bound, () => workload.completed() >= base + want && (operator === null || operator.unsettled() === null));
    const done = workload.completed() - base;
    if (done < want) sim.fail('liveness', `only ${done} of ${want} client operations completed within ${formatDuration(bound)} after every fault was healed`);
    const missing = operator?.unsettled() ?? null;
    if (missing !== null) sim.fail('liveness', `the cluster did not return to its full shape within ${formatDuration(bound)} after every fault was healed: ${missing}`);
  }
  workload.stop();
  sim.phase('end');
  let verdicts: readonly WorkloadVerdict[] = [];
  if (sim.violation === null) {
    verdicts = workload.finish({ maxSteps: config.checkSteps ?? DEFAULT_CHECK_STEPS });
    for (const v of verdicts) if (v.result === 'violation') sim.fail(v.check, v.message);
  }
  const v = sim.violation;
  const counts: Record<string, number> = {};
  for (const [k, n] of [...sim.counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) counts[k] = n;
  return {
    protocol: config.spec.name,
    seed: config.seed,
    events: sim.events,
    simulatedMs: sim.now(),
    violation: v === null ? null : { ...v, protocol: config.spec.name, replay: replayCommand(config) },
    counts,
    workload: workload.stats(),
    verdicts,
  };
}

export { FAULT_NAMES };
