// The Raft core alone: a 3-node cluster in one process, in-memory delivery and
// instant persistence. Committed entries per second with 1 and with 256
// concurrent proposers, and the p50 commit latency in rounds (a round: every
// node takes its ready() batch, then every message sent is delivered).
// Median of several runs. Run: npm run bench -- raft   (or node dist/bench/raft.bench.js)

import { LogIndex, NodeId } from '../src/core/ids.js';
import { Prng } from '../src/core/prng.js';
import { RaftNode } from '../src/raft/index.js';
import type { RaftMessage } from '../src/raft/types.js';

type Cmd = number;
const RUNS = Number(process.env['RAFT_BENCH_RUNS'] ?? 5);
const RUN_MS = Number(process.env['RAFT_BENCH_MS'] ?? 1500);

interface RunResult {
  readonly commitsPerSec: number;
  readonly p50Rounds: number;
  readonly p99Rounds: number;
}

function cluster(): RaftNode<Cmd, null>[] {
  const ids = [NodeId(1), NodeId(2), NodeId(3)];
  const rng = new Prng(42);
  return ids.map((id) =>
    RaftNode.create<Cmd, null>({ id, peers: ids, rng: rng.fork(`n${id}`), electionTimeoutTicks: 10, commandBytes: () => 8, commitEvents: false, maxInflightMsgs: 512 }),
  );
}

function run(proposers: number): RunResult {
  const nodes = cluster();
  const byId = new Map(nodes.map((n) => [n.id as number, n]));
  let inbox: { from: number; to: number; msg: RaftMessage<Cmd> }[] = [];
  let round = 0;
  const proposedAt: number[] = [];
  const compactedAt = new Map<number, number>();
  const applied = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let outstanding = 0;
  let committed = 0;
  const leader = nodes[0] as RaftNode<Cmd, null>;

  const doRound = (): void => {
    round++;
    for (const n of nodes) {
      const fx = n.ready();
      if (fx === null) continue;
      for (const e of fx.sendNow) inbox.push({ from: n.id, to: e.to, msg: e.msg });
      for (const e of fx.sendAfterPersist) inbox.push({ from: n.id, to: e.to, msg: e.msg });
      for (const o of fx.outputs) {
        if (o.type !== 'committed') continue;
        applied.set(n.id, (o.entries[o.entries.length - 1] as { index: number }).index);
        if (n !== leader) continue;
        for (const e of o.entries) {
          if (e.command === null) continue;
          latencies.push(round - (proposedAt[e.command] ?? round));
          outstanding--;
          committed++;
        }
      }
      n.advance();
      // Compact like a real host would, so that the log does not grow without bound.
      const upTo = applied.get(n.id) ?? 0;
      if (upTo - (compactedAt.get(n.id) ?? 0) >= 10_000) {
        n.compact(LogIndex(upTo), null);
        compactedAt.set(n.id, upTo);
      }
    }
    const batch = inbox;
    inbox = [];
    for (const m of batch) byId.get(m.to)?.step(NodeId(m.from), m.msg);
    if (round % 8 === 0) for (const n of nodes) n.tick();
  };

  while (leader.status().role !== 'leader') {
    leader.tick();
    doRound();
  }
  for (let i = 0; i < 10; i++) doRound();

  const started = performance.now();
  let measuredFrom = -1;
  let t0 = started;
  while (performance.now() - started < RUN_MS) {
    while (outstanding < proposers) {
      const r = leader.propose(next);
      if (!r.ok) break;
      proposedAt[next] = round + 1;
      next++;
      outstanding++;
    }
    doRound();
    // Warm up for the first fifth of the run.
    if (measuredFrom < 0 && performance.now() - started > RUN_MS / 5) {
      measuredFrom = committed;
      latencies.length = 0;
      t0 = performance.now();
    }
  }
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    commitsPerSec: (committed - measuredFrom) / secs,
    p50Rounds: latencies[Math.floor(latencies.length / 2)] ?? NaN,
    p99Rounds: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const results: Record<string, { commitsPerSec: number; p50Rounds: number; p99Rounds: number }> = {};
for (const p of [1, 256]) {
  const runs: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(run(p));
  const r = { commitsPerSec: Math.round(median(runs.map((x) => x.commitsPerSec))), p50Rounds: median(runs.map((x) => x.p50Rounds)), p99Rounds: median(runs.map((x) => x.p99Rounds)) };
  results[`proposers_${p}`] = r;
  console.log(`raft core, 3 nodes, ${String(p).padStart(3)} proposer(s): ${r.commitsPerSec.toLocaleString('en-US')} commits/s, p50 ${r.p50Rounds} rounds, p99 ${r.p99Rounds} rounds (median of ${RUNS} runs of ${RUN_MS} ms)`);
}
console.log(JSON.stringify({ bench: 'raft', runs: RUNS, runMs: RUN_MS, ...results }));
