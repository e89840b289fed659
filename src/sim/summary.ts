// The summary of one or many runs: totals, simulated seconds per wall second,
// counts of every fault, message fate and protocol event kind, the workload's
// counters, and every violation with its replay command. The wall-clock time
// is measured by the caller (the CLI), never here.

import type { ReportSection } from './report.js';
import type { RunResult, RunViolation } from './run.js';

export interface SummaryJson {
  readonly protocol: string;
  /** First and last seed run. */
  readonly seeds: readonly [number, number] | null;
  readonly runs: number;
  readonly events: number;
  readonly simulatedSeconds: number;
  readonly wallSeconds: number;
  readonly simulatedPerWallSecond: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly workload: Readonly<Record<string, number>>;
  readonly undecided: readonly { seed: number; check: string; reason: string }[];
  readonly violations: readonly RunViolation[];
  readonly sections: readonly ReportSection[];
}

/** Violations shown in the text summary; the JSON has them all. */
const MAX_SHOWN_VIOLATIONS = 50;

export class RunSummary {
  runs = 0;
  events = 0;
  private firstSeed: number | null = null;
  private lastSeed: number | null = null;
  simulatedMs = 0;
  private readonly counts = new Map<string, number>();
  private readonly workload = new Map<string, number>();
  readonly violations: RunViolation[] = [];
  readonly undecided: { seed: number; check: string; reason: string }[] = [];

  constructor(readonly protocol: string) {}

  add(r: RunResult): void {
    this.runs++;
    if (this.firstSeed === null) this.firstSeed = r.seed;
    this.lastSeed = r.seed;
    this.events += r.events;
    this.simulatedMs += r.simulatedMs;
    for (const [k, n] of Object.entries(r.counts)) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
    for (const [k, n] of Object.entries(r.workload)) this.workload.set(k, (this.workload.get(k) ?? 0) + n);
    if (r.violation !== null) this.violations.push(r.violation);
    for (const v of r.verdicts) if (v.result === 'unknown') this.undecided.push({ seed: r.seed, check: v.check, reason: v.reason });
  }

  toJson(wallMs: number, sections: readonly ReportSection[] = []): SummaryJson {
    return {
      protocol: this.protocol,
      seeds: this.firstSeed === null ? null : [this.firstSeed, this.lastSeed as number],
      runs: this.runs,
      events: this.events,
      simulatedSeconds: this.simulatedMs / 1000,
      wallSeconds: wallMs / 1000,
      simulatedPerWallSecond: wallMs > 0 ? Math.round(this.simulatedMs / wallMs) : 0,
      counts: sorted(this.counts),
      workload: sorted(this.workload),
      undecided: this.undecided,
      violations: this.violations,
      sections,
    };
  }

  format(wallMs: number, sections: readonly ReportSection[] = []): string {
    const j = this.toJson(wallMs, sections);
    const lines: string[] = [];
    const seeds = j.seeds === null ? '' : j.seeds[0] === j.seeds[1] ? ` (seed ${j.seeds[0]})` : ` (seeds ${j.seeds[0]}..${j.seeds[1]})`;
    lines.push(`${j.protocol}: ${j.runs} run${j.runs === 1 ? '' : 's'}${seeds}, ${j.events} events, ${j.simulatedSeconds.toFixed(1)} simulated s in ${j.wallSeconds.toFixed(2)} wall s (${j.simulatedPerWallSecond} simulated s per wall s)`);
    lines.push(...group('faults', j.counts, (k) => FAULT_KEYS.some((f) => k === f || k.startsWith(`${f}:`))));
    lines.push(...group('network', j.counts, (k) => NET_KEYS.some((f) => k === f || k.startsWith(`${f}:`))));
    lines.push(...group('protocol events', j.counts, (k) => k.startsWith('event:'), (k) => k.slice('event:'.length)));
    // Operator activity (src/sim/operator.ts): only for runs that had one.
    if (Object.keys(j.counts).some((k) => k.startsWith('operator:'))) lines.push(...group('operator', j.counts, (k) => k.startsWith('operator:'), (k) => k.slice('operator:'.length)));
    lines.push(...group('workload', j.workload, () => true));
    for (const s of sections) {
      lines.push(`${s.title}:`);
      for (const l of s.lines) lines.push(`  ${l}`);
    }
    for (const u of j.undecided) lines.push(`undecided: seed ${u.seed}: ${u.check}: ${u.reason}`);
    if (j.violations.length === 0) {
      lines.push('no violations');
    } else {
      lines.push(`${j.violations.length} violation${j.violations.length === 1 ? '' : 's'}:`);
      for (const v of j.violations.slice(0, MAX_SHOWN_VIOLATIONS)) {
        lines.push(`  seed ${v.seed}, event ${v.event} (${(v.timeMs / 1000).toFixed(3)} s): ${v.invariant}: ${firstLine(v.message)}`);
        lines.push(`    replay: ${v.replay}`);
      }
      if (j.violations.length > MAX_SHOWN_VIOLATIONS) lines.push(`  ... and ${j.violations.length - MAX_SHOWN_VIOLATIONS} more (see --json)`);
    }
    return lines.join('\n');
  }
}

const FAULT_KEYS = ['crash', 'restart', 'pause', 'resume', 'partition', 'heal', 'torn-write', 'slow-disk', 'network-change'];
const NET_KEYS = ['send', 'deliver', 'drop', 'duplicate', 'request', 'request-lost'];

function sorted(m: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) as number;
  return out;
}

function group(title: string, counts: Readonly<Record<string, number>>, keep: (k: string) => boolean, label: (k: string) => string = (k) => k): string[] {
  const items = Object.entries(counts).filter(([k]) => keep(k));
  if (items.length === 0) return [`${title}: none`];
  return [`${title}: ${items.map(([k, n]) => `${label(k)} ${n}`).join(', ')}`];
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : `${s.slice(0, i)} ...`;
}
