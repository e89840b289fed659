// Scripted fault schedules for the commit protocols (`synod sim --scenario`).
// Each waits for a moment in the trace (all yes votes cast, the coordinator's
// decision, a pre-commit leaving) and strikes there. Node 0 is the
// coordinator / TM; the participants are the other members.

import type { NodeId } from '../core/ids.js';
import type { Scenario, ScenarioControl } from '../sim/scenario.js';
import type { TraceEvent } from '../sim/trace.js';

/** Strike only once the cluster has warmed up (a few transactions done). */
const WARM_UP_MS = 300;
/** How long a crashed coordinator stays down. */
const COORDINATOR_DOWN_MS = 3000;
const PARTICIPANT_DOWN_MS = 1000;
const PARTITION_MS = 2000;

function protocolEvent(e: TraceEvent, kind: string): { node: number; detail: Readonly<Record<string, unknown>> } | null {
  if (e.type !== 'protocol' || e.event.kind !== kind) return null;
  return { node: e.node, detail: e.event.detail ?? {} };
}

/**
 * Runs `action` as an event of its own, right after the current one: a trace
 * event may come from inside a node's effects (its outputs), and a crash must
 * not pull the node away from under its own host.
 */
function soon(ctl: ScenarioControl, action: () => void): void {
  ctl.at(ctl.now(), action);
}

/** Calls `strike(tx)` when every participant has voted yes on one transaction. */
function whenAllVotedYes(ctl: ScenarioControl, strike: (tx: string, lastVoter: number) => void): void {
  const participants = ctl.members.length - 1;
  const yes = new Map<string, Set<number>>();
  ctl.watch((e) => {
    const p = protocolEvent(e, 'voted');
    if (p === null || ctl.now() < WARM_UP_MS || p.detail['vote'] !== 'yes' || p.node === 0) return 'continue';
    const tx = String(p.detail['tx']);
    let s = yes.get(tx);
    if (s === undefined) yes.set(tx, (s = new Set()));
    s.add(p.node);
    if (s.size < participants) return 'continue';
    strike(tx, p.node);
    return 'done';
  });
}

export const coordinatorCrashAfterVotes: Scenario = {
  name: 'coordinator-crash-after-votes',
  description: `every participant has voted yes on a transaction; the coordinator crashes before any vote reaches it, and stays down ${COORDINATOR_DOWN_MS / 1000} s`,
  setup(ctl) {
    const coordinator = ctl.members[0] as NodeId;
    whenAllVotedYes(ctl, () =>
      soon(ctl, () => {
        ctl.crash(coordinator);
        ctl.at(ctl.now() + COORDINATOR_DOWN_MS, () => ctl.restart(coordinator));
      }),
    );
  },
};

export const coordinatorCrashAfterDecision: Scenario = {
  name: 'coordinator-crash-after-decision',
  description: `the coordinator decides commit; only participant 1 hears it before the coordinator crashes (down ${COORDINATOR_DOWN_MS / 1000} s)`,
  setup(ctl) {
    const coordinator = ctl.members[0] as NodeId;
    const rest = ctl.members.slice(2);
    ctl.watch((e) => {
      const p = protocolEvent(e, 'decided');
      if (p === null || p.node !== 0 || ctl.now() < WARM_UP_MS || p.detail['outcome'] !== 'commit' || p.detail['role'] === 'participant') return 'continue';
      // The decisions to everyone but participant 1 are cut off with the crash.
      ctl.partition([[coordinator, ctl.members[1] as NodeId], rest]);
      soon(ctl, () => {
        ctl.crash(coordinator);
        ctl.at(ctl.now() + 100, () => ctl.heal());
        ctl.at(ctl.now() + COORDINATOR_DOWN_MS, () => ctl.restart(coordinator));
      });
      return 'done';
    });
  },
};

export const participantCrashPrepared: Scenario = {
  name: 'participant-crash-prepared',
  description: `a participant crashes right after its yes vote (prepared, in doubt) and restarts ${PARTICIPANT_DOWN_MS / 1000} s later`,
  setup(ctl) {
    whenAllVotedYes(ctl, (_tx, last) =>
      soon(ctl, () => {
        ctl.crash(last as NodeId);
        ctl.at(ctl.now() + PARTICIPANT_DOWN_MS, () => ctl.restart(last as NodeId));
      }),
    );
  },
};

export const partitionDuringPrecommit: Scenario = {
  name: 'partition-during-precommit',
  description: `as the coordinator sends its pre-commit (3PC) or decision (2PC, Paxos Commit), the network splits {0, 1} from the rest for ${PARTITION_MS / 1000} s`,
  setup(ctl) {
    const side = [ctl.members[0] as NodeId, ctl.members[1] as NodeId];
    ctl.watch((e) => {
      if (e.type !== 'send' || e.from !== 0 || ctl.now() < WARM_UP_MS) return 'continue';
      const type = (e.msg as { type?: unknown }).type;
      if (type !== 'pre-commit' && type !== 'decision') return 'continue';
      ctl.partition([side, ctl.members.slice(2)]);
      ctl.at(ctl.now() + PARTITION_MS, () => ctl.heal());
      return 'done';
    });
  },
};

export const acceptorCrash: Scenario = {
  name: 'acceptor-crash',
  description: 'the last of the 2F+1 acceptors (F = 1: node 2, also an RM) crashes at 0.5 s and restarts 2 s later; then node 1 does the same',
  setup(ctl) {
    const a = ctl.members[2] as NodeId;
    const b = ctl.members[1] as NodeId;
    ctl.at(500, () => ctl.crash(a));
    ctl.at(2500, () => ctl.restart(a));
    ctl.at(3500, () => ctl.crash(b));
    ctl.at(5500, () => ctl.restart(b));
  },
};

export const commitScenarios: readonly Scenario[] = [coordinatorCrashAfterVotes, coordinatorCrashAfterDecision, participantCrashPrepared, partitionDuringPrecommit];
