// Raft elections in the simulator, beside the Raft paper's Figure 16: five
// nodes, election timeouts of 150-300 ms (15 ticks of 10 ms, randomized in
// [T, 2T)), the leader crashed again and again; the time from each crash to
// the next leader that the other nodes follow. Network latency is the
// simulator's default (sub-millisecond on a LAN-like link).
//
//   npm run bench -- raft-election      (CRASHES=1000 by default)
//
// Also: with PreVote and CheckQuorum on, isolating and healing one follower
// must cause no leader change.

import { Simulation } from '../src/sim/simulation.js';
import { raftSpec } from '../src/raft/sim.js';

const CRASHES = Number(process.env['CRASHES'] ?? 1000);

function leaderOf(sim: Simulation): number | null {
  const leaders = sim.views().filter((v) => v.role === 'leader' && sim.status(v.id as number) === 'up');
  // The leader the others follow: highest term among self-declared leaders.
  leaders.sort((a, b) => (b['term'] as number) - (a['term'] as number));
  return leaders.length > 0 ? (leaders[0]?.id as number) : null;
}

function followedBy(sim: Simulation, leader: number): boolean {
  const up = sim.views().filter((v) => sim.status(v.id as number) === 'up');
  const following = up.filter((v) => v['leader'] === leader).length;
  return following >= 3; // a majority of five knows it
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

function measureElections(): number[] {
  const times: number[] = [];
  let seed = 1;
  while (times.length < CRASHES) {
    const sim = new Simulation({ spec: raftSpec, seed: seed++, nodes: 5 });
    sim.runUntil(3000, () => false);
    for (let round = 0; round < 50 && times.length < CRASHES; round++) {
      const old = leaderOf(sim);
      if (old === null || !followedBy(sim, old)) {
        sim.runUntil(sim.now() + 1000);
        continue;
      }
      const t0 = sim.now();
      sim.crash(old);
      let next: number | null = null;
      sim.runUntil(t0 + 10_000, () => {
        const l = leaderOf(sim);
        if (l !== null && l !== old && followedBy(sim, l)) next = l;
        return next !== null;
      });
      if (next !== null) times.push(sim.now() - t0);
      sim.restart(old);
      // Random settling time, so crashes do not fall in step with the heartbeat.
      sim.runUntil(sim.now() + 500 + (round * 37) % 300);
    }
  }
  return times.sort((a, b) => a - b);
}

function isolateFollower(seeds: number): { runs: number; leaderChanges: number } {
  let changes = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const sim = new Simulation({ spec: raftSpec, seed, nodes: 5 });
    sim.runUntil(3000);
    const leader = leaderOf(sim);
    if (leader === null) continue;
    const termBefore = sim.views().find((v) => v.id === leader)?.['term'];
    const follower = (leader + 1) % 5;
    sim.partition([[follower], [0, 1, 2, 3, 4].filter((n) => n !== follower)]);
    sim.runUntil(sim.now() + 3000);
    sim.heal();
    sim.runUntil(sim.now() + 3000);
    const after = leaderOf(sim);
    const term = sim.views().find((v) => v.id === after)?.['term'];
    if (after !== leader || term !== termBefore) changes++;
  }
  return { runs: seeds, leaderChanges: changes };
}

const t0 = performance.now();
const times = measureElections();
const wallS = (performance.now() - t0) / 1000;
const median = percentile(times, 0.5);
const p99 = percentile(times, 0.99);
const within = (ms: number): number => times.filter((t) => t <= ms).length / times.length;
console.log(`raft elections: ${times.length} leader crashes, 5 nodes, timeouts 150-300 ms (simulated; ${wallS.toFixed(1)} s wall)`);
console.log(`  time to a new leader: median ${median.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms`);
console.log(`  within 300 ms: ${(100 * within(300)).toFixed(1)}%, within 500 ms: ${(100 * within(500)).toFixed(1)}%, within 1 s: ${(100 * within(1000)).toFixed(1)}%`);
console.log('  (the setting of the Raft paper\'s Figure 16, 150-300 ms curve; compare the shapes of the distributions)');
const iso = isolateFollower(100);
console.log(`isolate one follower 3 s, then heal (PreVote + CheckQuorum on): ${iso.leaderChanges} leader changes in ${iso.runs} runs`);
console.log(JSON.stringify({ bench: 'raft-election', crashes: times.length, median_ms: median, p99_ms: p99, max_ms: times.at(-1), isolateFollower: iso }));
