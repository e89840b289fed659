// The reference protocol as the simulator sees it: 'register', a single-leader
// replicated key-value register serving the kv workload, with three mutants
// the simulator must catch and two scripted scenarios.

import type { NodeId, Term } from '../../core/ids.js';
import type { KvReply, KvRequest } from '../../kv/api.js';
import type { NodeContext, ProtocolSpec } from '../protocol.js';
import type { Report, ReportSection } from '../report.js';
import type { Scenario, ScenarioControl } from '../scenario.js';
import type { RegisterMessage, RegisterWrite } from './messages.js';
import { commitAgreement, electionSafety } from './invariants.js';
import { emptyDurable, RegisterNode, type RegisterOptions } from './node.js';

function intOption(ctx: NodeContext, name: string, fallback: number, min: number): number {
  const v = ctx.options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`register option ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function options(ctx: NodeContext): RegisterOptions {
  return {
    electionTicks: intOption(ctx, 'electionTicks', 10, 2),
    heartbeatTicks: intOption(ctx, 'heartbeatTicks', 3, 1),
    maxPending: intOption(ctx, 'maxPending', 256, 1),
  };
}

function recover(ctx: NodeContext, durable: readonly RegisterWrite[]): RegisterNode {
  const d = emptyDurable();
  let term: Term = d.term;
  let votedFor: NodeId | null = d.votedFor;
  let state = d.state;
  for (const w of durable) {
    if (w.type === 'hard') {
      term = w.term;
      votedFor = w.votedFor;
    } else {
      state = w.state;
    }
  }
  return new RegisterNode(ctx, options(ctx), ctx.rng, { term, votedFor, state });
}

function leaderOf(ctl: ScenarioControl): NodeId | null {
  const leader = ctl.views().filter((v) => v.role === 'leader').sort((a, b) => Number(b['term']) - Number(a['term']))[0];
  return leader === undefined ? null : leader.id;
}

const scenarios: readonly Scenario[] = [
  {
    name: 'leader-isolated',
    description: 'at 1 s the leader is cut off from the others for 2 s (it keeps believing it leads), then the network heals',
    setup(ctl) {
      ctl.at(1000, () => {
        const leader = leaderOf(ctl);
        if (leader === null) return;
        ctl.partition([[leader], ctl.members.filter((m) => m !== leader)]);
        ctl.at(3000, () => ctl.heal());
      });
    },
  },
  {
    name: 'leader-crash-loop',
    description: 'every second the current leader crashes and restarts 300 ms later',
    setup(ctl) {
      for (let t = 1000; t < 60_000; t += 1000) {
        ctl.at(t, () => {
          const leader = leaderOf(ctl);
          if (leader === null) return;
          ctl.crash(leader);
          ctl.at(t + 300, () => ctl.restart(leader));
        });
      }
    },
  },
];

/** Messages sent by type over every run (`synod sim --report messages`). */
function messageReport(requested: ReadonlySet<string>): Report {
  const sent = new Map<string, number>();
  if (!requested.has('messages')) return { types: [], observe: () => undefined, sections: () => [] };
  return {
    types: ['send'],
    observe(e) {
      if (e.type === 'send') {
        const type = (e.msg as { type: string }).type;
        sent.set(type, (sent.get(type) ?? 0) + 1);
      }
    },
    sections(): ReportSection[] {
      const rows = [...sent.entries()].sort((a, b) => b[1] - a[1]);
      return [{ title: 'messages sent by type', lines: rows.map(([t, c]) => `${t.padEnd(16)} ${c}`), data: Object.fromEntries(rows) }];
    },
  };
}

export const registerSpec: ProtocolSpec<RegisterMessage, RegisterWrite, KvRequest, KvReply> = {
  name: 'register',
  description: 'reference protocol: a single-leader replicated key-value register (Raft-style terms and votes, whole-state replication, majority-acked versions)',
  workload: 'kv',
  mutants: {
    'ack-before-quorum': 'the leader answers a client once its own disk has the version, before a majority does (acknowledged writes can be lost)',
    'stale-read': 'the leader answers reads from the last state it knows committed, without confirming it still leads (stale reads)',
    'unsafe-vote': 'voters skip the up-to-date check of Raft §5.4.1 (a leader can lack committed versions)',
  },
  tickMs: 10,
  create: (ctx) => new RegisterNode(ctx, options(ctx), ctx.rng, emptyDurable()),
  recover,
  invariants: () => [electionSafety(), commitAgreement()],
  scenarios,
  report: messageReport,
};
