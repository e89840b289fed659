// The Multi-Paxos core alone, in the shape of bench/raft.bench.ts: a 3-node
// cluster in one process, in-memory delivery and instant persistence.
// Committed entries per second with 1 and with 256 concurrent proposers, and
// the p50/p99 commit latency in rounds (a round: every node takes its ready()
// batch, then every message sent is delivered). Median of several runs.
// Run: npm run bench -- multipaxos   (or node dist/bench/multipaxos.bench.js)

import { NodeId } from '../src/core/ids.js';
import { Prng } from '../src/core/prng.js';
import { MultiPaxos } from '../src/paxos/multi/multipaxos.js';
import type { MultiMessage } from '../src/paxos/multi/types.js';

type Cmd = number;
type Node = MultiPaxos<Cmd, null>;
const RUNS = Number(process.env['MULTIPAXOS_BENCH_RUNS'] ?? 5);
const RUN_MS = Number(process.env['MULTIPAXOS_BENCH_MS'] ?? 1500);
/** A window and batch wide enough for 256 proposers; digests (for the simulator's invariants) off. */
const OPTIONS = { alpha: 256, window: 256, maxBatch: 256, maxQueue: 100_000, trackDigests: false, electionTicks: 10 };

interface RunResult {
  readonly commitsPerSec: number;
  readonly p50Rounds: number;
  readonly p99Rounds: number;
}

function cluster(): Node[] {
  const ids = [NodeId(1), NodeId(2), NodeId(3)];
  const rng = new Prng(42);
  return ids.map((id) => MultiPaxos.create<Cmd, null>({ id, members: ids, rng: rng.fork(`n${id}`), options: OPTIONS }));
}

function run(proposers: number): RunResult {
  const nodes = cluster();
  const byId = new Map(nodes.map((n) => [n.id as number, n]));
  let inbox: { from: number; to: number; msg: MultiMessage<Cmd, null> }[] = [];
  let round = 0;
  const proposedAt = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let outstanding = 0;
  let committed = 0;
  const leader = nodes[0] as Node;

  const doRound = (): void => {
    round++;
    for (const n of nodes) {
      const fx = n.ready();
      if (fx === null) continue;
      for (const e of fx.sendNow) inbox.push({ from: n.id, to: e.to, msg: e.msg });
      for (const e of fx.sendAfterPersist) inbox.push({ from: n.id, to: e.to, msg: e.msg });
      if (n === leader) {
        for (const o of fx.outputs) {
          if (o.type !== 'committed') continue;
          for (const e of o.entries) {
            if (e.command === null) continue;
            latencies.push(round - (proposedAt.get(e.command) ?? round));
            proposedAt.delete(e.command);
            outstanding--;
            committed++;
          }
        }
      }
      n.advance();
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
      proposedAt.set(next, round + 1);
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
const PROPOSERS = (process.env['MULTIPAXOS_BENCH_PROPOSERS'] ?? '1,256').split(',').map(Number);
for (const p of PROPOSERS) {
  const runs: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(run(p));
  const r = { commitsPerSec: Math.round(median(runs.map((x) => x.commitsPerSec))), p50Rounds: median(runs.map((x) => x.p50Rounds)), p99Rounds: median(runs.map((x) => x.p99Rounds)) };
  results[`proposers_${p}`] = r;
  console.log(`multi-paxos core, 3 nodes, ${String(p).padStart(3)} proposer(s): ${r.commitsPerSec.toLocaleString('en-US')} commits/s, p50 ${r.p50Rounds} rounds, p99 ${r.p99Rounds} rounds (median of ${RUNS} runs of ${RUN_MS} ms)`);
}
console.log(JSON.stringify({ bench: 'multipaxos', runs: RUNS, runMs: RUN_MS, options: OPTIONS, ...results }));
