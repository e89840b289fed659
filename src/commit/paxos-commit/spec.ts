// Paxos Commit as the simulator runs it.

import type { Invariant, ProtocolSpec } from '../../sim/protocol.js';
import { commitInvariants } from '../invariants.js';
import { CommitReport } from '../report.js';
import { acceptorCrash, commitScenarios } from '../scenarios.js';
import { MUTANT_FORGET_PREPARED } from '../two-phase/participant.js';
import type { CommitReply, CommitRequest } from '../types.js';
import { transactionWorkload } from '../workload.js';
import { InstanceChosenOnceInvariant } from './invariants.js';
import { MUTANT_IGNORE_PROMISE } from './leader.js';
import type { PaxosCommitMessage, PaxosCommitWrite } from './messages.js';
import { buildPaxosCommitNode } from './node.js';

export function paxosCommitInvariants(): readonly Invariant[] {
  return [...commitInvariants(), new InstanceChosenOnceInvariant()];
}

export const paxosCommit: ProtocolSpec<PaxosCommitMessage, PaxosCommitWrite, CommitRequest, CommitReply> = {
  name: 'paxos-commit',
  description: 'Gray & Lamport Paxos Commit: one Paxos instance per RM over 2F+1 acceptors (TM on node 0, acceptors on nodes 0..2F; option faster for Faster Paxos Commit)',
  mutants: {
    [MUTANT_IGNORE_PROMISE]: 'a leader taking over proposes aborted even for an instance a promise reports a value for (breaks consensus and atomicity)',
    [MUTANT_FORGET_PREPARED]: 'an RM loses its prepared vote on crash and rolls back (breaks atomicity)',
  },
  workload: transactionWorkload,
  tickMs: 10,
  create: (ctx) => buildPaxosCommitNode(ctx),
  recover: (ctx, durable) => buildPaxosCommitNode(ctx, durable),
  scenarios: [...commitScenarios, acceptorCrash],
  report: (requested) => new CommitReport(requested),
  invariants: () => paxosCommitInvariants(),
};
