// What the picture shows of each node, per protocol, read from the node's
// view (the same views the invariants check). A few things the views do not
// carry yet (Raft's election timer, its votes, the leader's next/match index
// per follower) are read from the Raft core's fields, by name, through the
// layers that host it; when a field is missing the picture leaves it out.

import { fromUtf8 } from '../../src/kv/bytes.js';
import { decodeValue } from '../../src/kv/ops.js';
import type { KvStateMachine } from '../../src/kv/state-machine.js';
import type { Simulation } from '../../src/sim/simulation.js';

export interface LogCell {
  readonly index: number;
  /** Raft: the entry's term; null where the protocol has no term per entry. */
  readonly term: number | null;
  readonly committed: boolean;
}

export interface NodeDisplay {
  readonly id: number;
  readonly status: 'up' | 'down' | 'paused';
  readonly role: string;
  /** Term, ballot or promise, short. */
  readonly badge: string;
  /** 0..1 of the election timer run down, or null. */
  readonly timer: number | null;
  /** Raft: the node this one voted for in its term. */
  readonly votedFor: number | null;
  /** Raft candidate: the nodes that granted it their vote. */
  readonly votesGranted: readonly number[];
  readonly log: readonly LogCell[];
  readonly lastIndex: number;
  readonly commitIndex: number;
  /** Raft leader: next/match index per follower. */
  readonly progress: readonly { readonly node: number; readonly next: number; readonly match: number }[];
  readonly kv: Readonly<Record<string, unknown>> | null;
  /** Other lines (Paxos: learned value; commit: transactions). */
  readonly lines: readonly string[];
  /** Atomic commit: the latest transactions as this node sees them. */
  readonly txs: readonly { readonly tx: string; readonly state: string; readonly outcome: string | null; readonly inDoubt: boolean }[];
}

const LOG_CELLS = 10;

type Rec = Record<string, unknown>;

function rec(x: unknown): Rec | null {
  return typeof x === 'object' && x !== null ? (x as Rec) : null;
}

function num(x: unknown, fallback = 0): number {
  return typeof x === 'number' ? x : fallback;
}

function showBallot(b: unknown): string {
  const r = rec(b);
  return r === null ? '-' : `${num(r['round'])}.${num(r['node'])}`;
}

/** The Raft core under the simulator's wrappers (CachedView -> KvNode -> RaftNode). */
function raftCore(sim: Simulation, i: number): Rec | null {
  const outer = rec(sim.nodeAt(i));
  const kvNode = rec(outer?.['inner']) ?? outer;
  return rec(kvNode?.['log']);
}

function raftExtras(sim: Simulation, i: number, role: string): Pick<NodeDisplay, 'timer' | 'votesGranted' | 'progress'> {
  const core = raftCore(sim, i);
  if (core === null) return { timer: null, votesGranted: [], progress: [] };
  const elapsed = core['electionElapsed'];
  const timeout = core['randomizedElectionTimeout'];
  const timer = role !== 'leader' && typeof elapsed === 'number' && typeof timeout === 'number' && timeout > 0 ? Math.min(1, elapsed / timeout) : null;
  const votesGranted: number[] = [];
  const votes = core['votes'];
  if ((role === 'candidate' || role === 'precandidate') && votes instanceof Map) for (const [k, v] of votes) if (v === true) votesGranted.push(k as number);
  const progress: { node: number; next: number; match: number }[] = [];
  const pr = core['progress'];
  if (role === 'leader' && pr instanceof Map) {
    for (const [k, p] of pr) {
      const r = rec(p);
      if (r !== null && k !== i) progress.push({ node: k as number, next: num(r['next']), match: num(r['match']) });
    }
  }
  return { timer, votesGranted, progress };
}

const KV_SHOWN = 4;

/**
 * The key-value state: the view's `kv` when it shows keys (Raft shows 4),
 * else read from the node's state machine (Multi-Paxos's view shows none).
 */
function kvState(sim: Simulation, i: number, v: Rec): Rec | null {
  const shown = rec(v['kv']);
  if (shown !== null && (Object.keys(shown).length > 0 || num(v['keyCount']) === 0)) return shown;
  const outer = rec(sim.nodeAt(i));
  const sm = (rec(outer?.['inner']) ?? outer)?.['sm'] as KvStateMachine | undefined;
  if (sm === undefined || typeof sm.entries !== 'function') return shown;
  const out: Rec = {};
  for (const e of sm.entries(KV_SHOWN)) out[fromUtf8(e.key)] = decodeValue(e.value);
  return out;
}

function logCells(last: number, commit: number, start: number, terms: readonly number[] | null): LogCell[] {
  const from = Math.max(1, last - LOG_CELLS + 1);
  const cells: LogCell[] = [];
  for (let i = from; i <= last; i++) {
    const t = terms === null ? null : (terms[i - start] ?? null);
    cells.push({ index: i, term: t, committed: i <= commit });
  }
  return cells;
}

const EMPTY: Omit<NodeDisplay, 'id' | 'status' | 'role' | 'badge'> = {
  timer: null, votedFor: null, votesGranted: [], log: [], lastIndex: 0, commitIndex: 0, progress: [], kv: null, lines: [], txs: [],
};

export function inspect(sim: Simulation, protocol: string): NodeDisplay[] {
  const views = sim.views();
  return views.map((raw, i) => {
    const v = raw as Rec;
    const status = sim.status(i);
    const role = String(v['role']);
    if (status === 'down') return { ...EMPTY, id: i, status, role: 'down', badge: '' };
    switch (protocol) {
      case 'raft':
        return raftDisplay(sim, i, v, status, role);
      case 'multipaxos':
        return multiPaxosDisplay(i, v, status, role, kvState(sim, i, v));
      case 'paxos':
        return paxosDisplay(i, v, status, role);
      default:
        return commitDisplay(i, v, status, role);
    }
  });
}

function raftDisplay(sim: Simulation, i: number, v: Rec, status: NodeDisplay['status'], role: string): NodeDisplay {
  const last = num(v['lastIndex']);
  const commit = num(v['commitIndex'], num(v['commit']));
  const terms = Array.isArray(v['logTerms']) ? (v['logTerms'] as number[]) : null;
  const vote = v['vote'];
  return {
    ...EMPTY,
    ...raftExtras(sim, i, role),
    id: i, status, role,
    badge: `term ${num(v['term'])}`,
    votedFor: typeof vote === 'number' ? vote : null,
    log: logCells(last, commit, num(v['logStart'], 1), terms),
    lastIndex: last,
    commitIndex: commit,
    kv: rec(v['kv']),
  };
}

function multiPaxosDisplay(i: number, v: Rec, status: NodeDisplay['status'], role: string, kv: Rec | null): NodeDisplay {
  const last = num(v['lastIndex']);
  const commit = num(v['commitIndex']);
  return {
    ...EMPTY,
    id: i, status, role,
    badge: `ballot ${showBallot(v['ballot'] ?? null)} · promised ${showBallot(v['promised'])}`,
    log: logCells(last, commit, 1, null),
    lastIndex: last,
    commitIndex: commit,
    kv,
  };
}

function paxosDisplay(i: number, v: Rec, status: NodeDisplay['status'], role: string): NodeDisplay {
  const learned = v['learned'];
  return {
    ...EMPTY,
    id: i, status, role,
    badge: `promised ${showBallot(v['promised'])}`,
    lines: [`ballot ${showBallot(v['ballot'])}`, `learned ${learned === null || learned === undefined ? '—' : String(learned)}`],
  };
}

function commitDisplay(i: number, v: Rec, status: NodeDisplay['status'], role: string): NodeDisplay {
  const part = Array.isArray(v['participant']) ? (v['participant'] as Rec[]) : [];
  const decisions = Array.isArray(v['decisions']) ? (v['decisions'] as Rec[]) : [];
  const accepted = Array.isArray(v['accepted']) ? (v['accepted'] as Rec[]) : null;
  const txs = part.slice(-3).map((t) => ({ tx: String(t['tx']), state: String(t['state']), outcome: t['outcome'] === null ? null : String(t['outcome']), inDoubt: t['inDoubt'] === true }));
  const lines: string[] = [];
  const d = decisions[decisions.length - 1];
  if (d !== undefined) lines.push(`decided ${String(d['tx'])}: ${String(d['outcome'])} (${String(d['role'])})`);
  if (accepted !== null && accepted.length > 0) {
    const a = accepted[accepted.length - 1] as Rec;
    lines.push(`acceptor: ${String(a['tx'])}/rm${String(a['rm'])} ${String(a['value'])} @${String(a['ballot'])}`);
  }
  return { ...EMPTY, id: i, status, role, badge: decisions.length > 0 ? `${decisions.length} decided` : '', lines, txs };
}
