// The normal-case cost of committing one transaction, measured by running
// the protocol cores in the small deterministic cluster (src/commit/cluster.ts)
// with no failure: messages that cross the network, message delays until the
// last RM knows the outcome, and forced (synchronous) disk writes. The layout
// is Gray & Lamport's (§6, "co-located"): the TM on an RM's node and the
// acceptors on RM nodes (on extra nodes when 2F+1 > N).

import { Cluster } from './cluster.js';
import { buildPaxosCommitNode } from './paxos-commit/node.js';
import { buildThreePcNode } from './three-phase/node.js';
import { buildTwoPcNode } from './two-phase/node.js';

export interface CommitCost {
  readonly protocol: string;
  readonly n: number;
  readonly f: number | null;
  readonly messages: number;
  readonly delays: number;
  readonly forcedWrites: number;
  readonly outcome: string;
}

export type CostedProtocol = '2pc' | '3pc' | 'paxos-commit' | 'faster-paxos-commit';

/** Gray & Lamport's example (§6: 5 RMs, F = 1, co-located processes): messages per commit. */
export const GRAY_LAMPORT_EXAMPLE: Readonly<Record<string, number>> = { '2pc': 12, 'paxos-commit': 17, 'faster-paxos-commit': 20 };

/**
 * Closed forms that give the paper's example figures (our reading of §6, with
 * phase 2a sent to F+1 acceptors and 2b bundled per acceptor): 2PC 3(N-1),
 * Paxos Commit (N-1)(F+3)+F, Faster Paxos Commit (N-1)(2F+3).
 */
export function expectedMessages(protocol: CostedProtocol, n: number, f: number): number | null {
  switch (protocol) {
    case '2pc':
      return 3 * (n - 1);
    case 'paxos-commit':
      return (n - 1) * (f + 3) + f;
    case 'faster-paxos-commit':
      return (n - 1) * (2 * f + 3);
    case '3pc':
      return 5 * (n - 1);
  }
}

export function measureCommitCost(protocol: CostedProtocol, n: number, f: number): CommitCost {
  const paxos = protocol === 'paxos-commit' || protocol === 'faster-paxos-commit';
  const size = paxos ? Math.max(n, 2 * f + 1) : n;
  const options: Record<string, unknown> = {
    noProbability: 0, coordinatorIsParticipant: true, participants: n, faultTolerance: paxos ? f : 0, faster: protocol === 'faster-paxos-commit',
  };
  const build = protocol === '2pc' ? buildTwoPcNode : protocol === '3pc' ? buildThreePcNode : buildPaxosCommitNode;
  // The three node types differ only in their message and write types; the cluster needs neither.
  const c = new Cluster({ create: build, recover: build } as never, { size, options }) as Cluster<{ type: string }, unknown>;
  c.begin('t');
  c.runUntil(() => c.decided.filter((d) => d.role === 'participant').length >= n, 100);
  const rm = c.decided.filter((d) => d.role === 'participant');
  return {
    protocol,
    n,
    f: paxos ? f : null,
    messages: c.sent.length,
    delays: Math.max(0, ...rm.map((d) => d.depth)),
    forcedWrites: c.forcedWrites,
    outcome: rm.length === n && rm.every((d) => d.outcome === 'commit') ? 'commit' : 'incomplete',
  };
}

/** The table of the message report: N = 3, 5, 10 and F = 1, 2. */
export function commitCostTable(ns: readonly number[] = [3, 5, 10], fs: readonly number[] = [1, 2]): CommitCost[] {
  const rows: CommitCost[] = [];
  for (const n of ns) {
    rows.push(measureCommitCost('2pc', n, 0));
    rows.push(measureCommitCost('3pc', n, 0));
    for (const f of fs) {
      rows.push(measureCommitCost('paxos-commit', n, f));
      rows.push(measureCommitCost('faster-paxos-commit', n, f));
    }
  }
  return rows;
}

export function formatCostTable(rows: readonly CommitCost[]): string[] {
  const lines = ['protocol              N   F  messages (formula)  delays  forced writes'];
  for (const r of rows) {
    const expect = expectedMessages(r.protocol as CostedProtocol, r.n, r.f ?? 0);
    const paper = r.n === 5 && (r.f ?? 1) === 1 ? GRAY_LAMPORT_EXAMPLE[r.protocol] : undefined;
    const note = paper !== undefined ? `  [Gray & Lamport: ${paper}]` : '';
    lines.push(`${r.protocol.padEnd(21)} ${String(r.n).padStart(2)}  ${r.f === null ? '-' : String(r.f)}  ${String(r.messages).padStart(8)} (${expect ?? '?'})${' '.repeat(Math.max(1, 9 - String(expect ?? '?').length))}${String(r.delays).padStart(6)}  ${String(r.forcedWrites).padStart(13)}${r.outcome === 'commit' ? '' : '  INCOMPLETE'}${note}`);
  }
  return lines;
}
