// 3PC as the simulator runs it.

import type { ProtocolSpec } from '../../sim/protocol.js';
import { commitInvariants } from '../invariants.js';
import { CommitReport } from '../report.js';
import { commitScenarios } from '../scenarios.js';
import { MUTANT_COMMIT_WITHOUT_ALL_VOTES } from '../two-phase/coordinator.js';
import { MUTANT_FORGET_PREPARED } from '../two-phase/participant.js';
import type { CommitReply, CommitRequest } from '../types.js';
import { transactionWorkload } from '../workload.js';
import type { ThreePcMessage, ThreePcWrite } from './messages.js';
import { buildThreePcNode } from './node.js';

export const threePhaseCommit: ProtocolSpec<ThreePcMessage, ThreePcWrite, CommitRequest, CommitReply> = {
  name: '3pc',
  description: "Skeen's three-phase commit with the termination protocol (coordinator on node 0); non-blocking under crashes, unsafe under partitions",
  mutants: {
    [MUTANT_COMMIT_WITHOUT_ALL_VOTES]: 'the coordinator pre-commits on a majority of yes votes (breaks validity and atomicity)',
    [MUTANT_FORGET_PREPARED]: 'a participant loses its uncertain/pre-committed state on crash and rolls back (breaks atomicity)',
  },
  workload: transactionWorkload,
  tickMs: 10,
  create: (ctx) => buildThreePcNode(ctx),
  recover: (ctx, durable) => buildThreePcNode(ctx, durable),
  scenarios: commitScenarios,
  report: (requested) => new CommitReport(requested),
  invariants: () => commitInvariants(),
};
