// The commit protocols' sections of the simulator's summary, built from the
// trace: how many transactions were decided, which stayed in doubt (a
// participant voted yes and did not know the outcome) and for how long, and
// how many were decided while the coordinator was down; messages per
// committed transaction; and, asked with `--report messages`, the
// normal-case cost table beside Gray & Lamport's figures.

import type { Report, ReportSection } from '../sim/report.js';
import type { TraceEvent } from '../sim/trace.js';
import { commitCostTable, formatCostTable } from './costs.js';

interface Seed {
  seed: number;
  /** tx -> participant -> time of its yes vote */
  readonly yes: Map<string, Map<number, number>>;
  /** tx -> participant -> time it learned the outcome */
  readonly learned: Map<string, Map<number, number>>;
  readonly outcome: Map<string, string>;
  readonly sends: Map<string, number>;
  readonly coordinatorDown: [number, number][];
  downSince: number | null;
  safetyEnd: number | null;
}

interface Totals {
  voted: number;
  committed: number;
  aborted: number;
  inDoubtAtSafetyEnd: number;
  longestAtSafetyEnd: number;
  inDoubtAtEnd: number;
  longestAtEnd: number;
  periods: number[];
  decidedWhileDown: number;
  /** Participant-transactions in doubt when the coordinator went down. */
  inDoubtAtOutage: number;
  /** ... of which learned the outcome only after it came back (or never). */
  blockedUntilReturn: number;
  longestBlockedMs: number;
  committedMessages: number;
  committedTxs: number;
}

function fresh(seed: number): Seed {
  return { seed, yes: new Map(), learned: new Map(), outcome: new Map(), sends: new Map(), coordinatorDown: [], downSince: null, safetyEnd: null };
}

function put(m: Map<string, Map<number, number>>, tx: string, node: number, t: number): void {
  let inner = m.get(tx);
  if (inner === undefined) m.set(tx, (inner = new Map()));
  if (!inner.has(node)) inner.set(node, t);
}

/** Longest first: the in-doubt periods a histogram would show. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export class CommitReport implements Report {
  private current: Seed | null = null;
  private readonly totals: Totals = {
    voted: 0, committed: 0, aborted: 0, inDoubtAtSafetyEnd: 0, longestAtSafetyEnd: 0, inDoubtAtEnd: 0, longestAtEnd: 0,
    periods: [], decidedWhileDown: 0, inDoubtAtOutage: 0, blockedUntilReturn: 0, longestBlockedMs: 0, committedMessages: 0, committedTxs: 0,
  };

  constructor(private readonly names: ReadonlySet<string>) {}

  observe(e: TraceEvent, seed: number): void {
    if (this.current === null || this.current.seed !== seed) this.current = fresh(seed);
    const s = this.current;
    switch (e.type) {
      case 'protocol':
        this.onProtocol(s, e.node, e.t, e.event.kind, e.event.detail ?? {});
        return;
      case 'send': {
        const tx = (e.msg as { tx?: unknown }).tx;
        if (typeof tx === 'string') s.sends.set(tx, (s.sends.get(tx) ?? 0) + 1);
        return;
      }
      case 'crash':
        if (e.node === 0 && s.downSince === null) s.downSince = e.t;
        return;
      case 'restart':
        if (e.node === 0 && s.downSince !== null) {
          s.coordinatorDown.push([s.downSince, e.t]);
          s.downSince = null;
        }
        return;
      case 'phase':
        if (e.phase === 'liveness') s.safetyEnd = e.t;
        if (e.phase === 'end') this.finish(s, e.t);
        return;
      default:
        return;
    }
  }

  sections(): readonly ReportSection[] {
    const t = this.totals;
    const periods = t.periods.slice().sort((a, b) => a - b);
    const long = periods.filter((p) => p >= 1000).length;
    const out: ReportSection[] = [
      {
        title: 'transactions',
        lines: [
          `${t.voted} voted on; ${t.committed} committed, ${t.aborted} aborted (as the participants learned them)`,
          `in doubt when the faults stopped: ${t.inDoubtAtSafetyEnd} participant-transactions (longest ${Math.round(t.longestAtSafetyEnd)} ms)`,
          `in doubt at the end of the run: ${t.inDoubtAtEnd} (longest ${Math.round(t.longestAtEnd)} ms)`,
          `in-doubt periods (yes vote to outcome): median ${Math.round(percentile(periods, 0.5))} ms, p99 ${Math.round(percentile(periods, 0.99))} ms, max ${Math.round(periods[periods.length - 1] ?? 0)} ms; ${long} of ${periods.length} lasted 1 s or more`,
          `outcomes learned by participants while the coordinator (node 0) was down: ${t.decidedWhileDown} transactions`,
          `in doubt when the coordinator went down: ${t.inDoubtAtOutage} participant-transactions; ${t.blockedUntilReturn} of them learned the outcome only after it came back or never (longest in doubt ${Math.round(t.longestBlockedMs)} ms)`,
        ],
        data: { ...t, periods: undefined, inDoubtMedianMs: percentile(periods, 0.5), inDoubtP99Ms: percentile(periods, 0.99), inDoubtMaxMs: periods[periods.length - 1] ?? 0, inDoubtOver1s: long },
      },
      {
        title: 'messages per committed transaction (this run, faults included)',
        lines: [t.committedTxs === 0 ? 'no committed transaction' : `${(t.committedMessages / t.committedTxs).toFixed(2)} messages on average over ${t.committedTxs} committed transactions`],
        data: { committedTransactions: t.committedTxs, messages: t.committedMessages },
      },
    ];
    if (this.names.has('messages')) {
      const rows = commitCostTable();
      out.push({
        title: 'normal-case cost per committed transaction (co-located, as Gray & Lamport §6; delays from the TM, add 1 for the BeginCommit of a remote initiator)',
        lines: formatCostTable(rows),
        data: { rows },
      });
    }
    return out;
  }

  private onProtocol(s: Seed, node: number, t: number, kind: string, d: Readonly<Record<string, unknown>>): void {
    const tx = typeof d['tx'] === 'string' ? d['tx'] : null;
    if (tx === null) return;
    if (kind === 'voted' && d['vote'] === 'yes') put(s.yes, tx, node, t);
    if (kind === 'decided' && d['role'] === 'participant') {
      put(s.learned, tx, node, t);
      if (!s.outcome.has(tx)) s.outcome.set(tx, String(d['outcome']));
    }
  }

  /** Which in-doubt periods spanned a coordinator outage, and which of those outlasted it. */
  private outages(voters: ReadonlyMap<number, number>, learned: ReadonlyMap<number, number>, down: readonly [number, number][], end: number): void {
    const t = this.totals;
    for (const [node, at] of voters) {
      const when = learned.get(node) ?? end;
      const outage = down.find(([a, b]) => at <= a && when > a && a < b);
      if (outage === undefined) continue;
      t.inDoubtAtOutage++;
      if (when >= outage[1]) {
        t.blockedUntilReturn++;
        t.longestBlockedMs = Math.max(t.longestBlockedMs, when - at);
      }
    }
  }

  private finish(s: Seed, end: number): void {
    const t = this.totals;
    const down = s.downSince === null ? s.coordinatorDown : [...s.coordinatorDown, [s.downSince, end] as [number, number]];
    const safetyEnd = s.safetyEnd ?? end;
    for (const [tx, voters] of s.yes) {
      t.voted++;
      const learned = s.learned.get(tx) ?? new Map<number, number>();
      for (const [node, at] of voters) {
        const when = learned.get(node);
        if (when === undefined) {
          t.inDoubtAtEnd++;
          t.longestAtEnd = Math.max(t.longestAtEnd, end - at);
        } else {
          t.periods.push(when - at);
        }
        if (at <= safetyEnd && (when === undefined || when > safetyEnd)) {
          t.inDoubtAtSafetyEnd++;
          t.longestAtSafetyEnd = Math.max(t.longestAtSafetyEnd, safetyEnd - at);
        }
      }
      this.outages(voters, learned, down, end);
      const times = [...learned.values()];
      if (times.some((x) => down.some(([a, b]) => x > a && x < b))) t.decidedWhileDown++;
    }
    for (const [tx, o] of s.outcome) {
      if (o === 'commit') {
        t.committed++;
        t.committedTxs++;
        t.committedMessages += s.sends.get(tx) ?? 0;
      } else {
        t.aborted++;
      }
    }
  }
}
