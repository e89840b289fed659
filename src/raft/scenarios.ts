// Scripted fault schedules for Raft in the simulator (`synod sim --protocol
// raft --scenario NAME`): they aim at the leader, where the subtle bugs live.

import type { NodeId } from '../core/ids.js';
import type { Scenario, ScenarioControl } from '../sim/scenario.js';
import { figure8Scenario } from './figure8.js';

function leaderOf(ctl: ScenarioControl): NodeId | null {
  const leaders = ctl.views().filter((v) => v.role === 'leader');
  leaders.sort((a, b) => Number(b['term']) - Number(a['term']));
  return leaders[0]?.id ?? null;
}

function every(ctl: ScenarioControl, periodMs: number, untilMs: number, action: (t: number) => void): void {
  for (let t = periodMs; t < untilMs; t += periodMs) ctl.at(t, () => action(t));
}

export const raftScenarios: readonly Scenario[] = [
  {
    name: 'leader-isolated',
    description: 'every 2 s the leader is cut off from the others for 1 s (it may keep believing it leads), then the network heals',
    setup(ctl) {
      every(ctl, 2000, 60_000, (t) => {
        const leader = leaderOf(ctl);
        if (leader === null) return;
        ctl.partition([[leader], ctl.members.filter((m) => m !== leader)]);
        ctl.at(t + 1000, () => ctl.heal());
      });
    },
  },
  {
    name: 'leader-minority',
    description: 'every 3 s the leader and one follower are cut off from the majority for 1.5 s; the follower keeps sending clients to the old leader',
    setup(ctl) {
      every(ctl, 3000, 60_000, (t) => {
        const leader = leaderOf(ctl);
        if (leader === null) return;
        const others = ctl.members.filter((m) => m !== leader);
        const buddy = ctl.rng.pick(others);
        ctl.partition([[leader, buddy], others.filter((m) => m !== buddy)]);
        ctl.at(t + 1500, () => ctl.heal());
      });
    },
  },
  {
    name: 'leader-paused',
    description: 'every 2 s the leader process is paused for 600 ms (longer than an election timeout) and resumes as if nothing happened',
    setup(ctl) {
      every(ctl, 2000, 60_000, (t) => {
        const leader = leaderOf(ctl);
        if (leader === null) return;
        ctl.pause(leader);
        ctl.at(t + 600, () => ctl.resume(leader));
      });
    },
  },
  {
    name: 'leader-churn',
    description: 'every 350 ms the leader crashes and restarts 100-300 ms later: many short terms with uncommitted tails (Figure 8 situations)',
    faults: ['loss', 'delay'],
    setup(ctl) {
      every(ctl, 350, 60_000, (t) => {
        const leader = leaderOf(ctl);
        if (leader === null) return;
        ctl.crash(leader);
        ctl.at(t + ctl.rng.int(100, 300), () => ctl.restart(leader));
      });
    },
  },
  figure8Scenario,
];
