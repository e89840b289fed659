// Single-decree Paxos ('paxos') as the simulator sees it: one SynodNode per
// member, the 'decree' workload, the Paxos invariants and mutants, a
// 'dueling-proposers' scenario and a report of messages and duels.

import type { NodeContext, ProtocolSpec } from '../sim/protocol.js';
import type { Report, ReportSection } from '../sim/report.js';
import type { Scenario } from '../sim/scenario.js';
import { decreeWorkload } from './decree-workload.js';
import { paxosInvariants } from './invariants.js';
import { PAXOS_MUTANT_DESCRIPTIONS } from './mutants.js';
import { SynodNode, type DecreeReply, type DecreeRequest, type SynodNodeMessage, type SynodNodeWrite } from './synod-node.js';

/**
 * Simulated runs start leaderless (every node that holds a value runs ballots
 * and retries at once) and turn the distinguished proposer on after 8 refused
 * ballots: every run exercises the duel and the cure. Run options override.
 */
export const PAXOS_SIM_DEFAULTS: Readonly<Record<string, unknown>> = { duelRounds: 8 };

function withDefaults(ctx: NodeContext): NodeContext {
  return { ...ctx, options: { ...PAXOS_SIM_DEFAULTS, ...ctx.options } };
}

/** A scenario with the protocol options it needs (the simulator merges them under the run's own). */
export type PaxosScenario = Scenario & { readonly options: Readonly<Record<string, unknown>> };

export const duelingProposers: PaxosScenario = {
  name: 'dueling-proposers',
  description:
    'no faults; every client proposes at time 0 to a random node, so several proposers compete. Each node proposes leaderless and retries ' +
    'at once (ballots climb, nothing is chosen) until it has seen 60 refused ballots (its option duelRounds; runs without the scenario use 8); then a distinguished proposer is elected by heartbeats ' +
    'and retries after a random back-off, which ends the duel. Read the report: ballots before the first decision, and when it came.',
  faults: [],
  options: { duelRounds: 60 },
  setup() {
    // Nothing to script: the duel comes from the workload (every client proposes at
    // time 0) and the options above; the report shows how long it lasted.
  },
};

/** Messages sent by type, and per run: ballots started before the first decision and its time. */
function paxosReport(): Report {
  const sent = new Map<string, number>();
  const runs = new Map<number, { ballots: number; chosenAtMs: number | null }>();
  return {
    observe(e, seed) {
      if (e.type === 'send') {
        const type = (e.msg as { type: string }).type;
        sent.set(type, (sent.get(type) ?? 0) + 1);
        return;
      }
      if (e.type !== 'protocol') return;
      const r = runs.get(seed) ?? { ballots: 0, chosenAtMs: null };
      runs.set(seed, r);
      if (e.event.kind === 'ballot' && r.chosenAtMs === null) r.ballots++;
      if (e.event.kind === 'chosen' && r.chosenAtMs === null) r.chosenAtMs = e.t;
    },
    sections(): ReportSection[] {
      const rows = [...sent.entries()].sort((a, b) => b[1] - a[1]);
      const all = [...runs.values()];
      const decided = all.filter((r) => r.chosenAtMs !== null);
      const ballots = all.map((r) => r.ballots).sort((a, b) => a - b);
      const times = decided.map((r) => r.chosenAtMs as number).sort((a, b) => a - b);
      const median = (xs: number[]) => (xs.length === 0 ? null : (xs[Math.floor(xs.length / 2)] as number));
      const duel = {
        runs: all.length,
        decided: decided.length,
        medianBallotsBeforeDecision: median(ballots),
        maxBallotsBeforeDecision: ballots[ballots.length - 1] ?? null,
        medianFirstDecisionMs: median(times),
        maxFirstDecisionMs: times[times.length - 1] ?? null,
      };
      return [
        { title: 'messages sent by type', lines: rows.map(([t, c]) => `${t.padEnd(16)} ${c}`), data: Object.fromEntries(rows) },
        { title: 'dueling proposers', lines: Object.entries(duel).map(([k, v]) => `${k.padEnd(28)} ${String(v)}`), data: duel },
      ];
    },
  };
}

export const paxosSpec: ProtocolSpec<SynodNodeMessage, SynodNodeWrite, DecreeRequest, DecreeReply> = {
  name: 'paxos',
  description: 'single-decree Paxos (the Synod protocol): proposer, acceptor and learner on every node; leaderless until proposers duel, then a distinguished proposer with back-off',
  workload: decreeWorkload,
  mutants: PAXOS_MUTANT_DESCRIPTIONS,
  tickMs: 10,
  create: (ctx) => new SynodNode(withDefaults(ctx)),
  recover: (ctx, durable) => new SynodNode(withDefaults(ctx), durable),
  invariants: () => paxosInvariants(),
  scenarios: [duelingProposers],
  report: paxosReport,
};
