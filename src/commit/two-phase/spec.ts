// 2PC as the simulator runs it.

import type { ProtocolSpec } from '../../sim/protocol.js';
import { commitInvariants } from '../invariants.js';
import { CommitReport } from '../report.js';
import { commitScenarios } from '../scenarios.js';
import type { CommitReply, CommitRequest } from '../types.js';
import { transactionWorkload } from '../workload.js';
import { MUTANT_COMMIT_WITHOUT_ALL_VOTES } from './coordinator.js';
import type { TwoPcMessage, TwoPcWrite } from './messages.js';
import { buildTwoPcNode } from './node.js';
import { MUTANT_FORGET_PREPARED } from './participant.js';

export const twoPhaseCommit: ProtocolSpec<TwoPcMessage, TwoPcWrite, CommitRequest, CommitReply> = {
  name: '2pc',
  description: 'Two-phase commit with presumed abort and the cooperative termination protocol (coordinator on node 0)',
  mutants: {
    [MUTANT_COMMIT_WITHOUT_ALL_VOTES]: 'the coordinator commits on a majority of yes votes (breaks validity and atomicity)',
    [MUTANT_FORGET_PREPARED]: 'a participant loses its prepared state on crash and rolls the transaction back (breaks atomicity)',
  },
  workload: transactionWorkload,
  tickMs: 10,
  create: (ctx) => buildTwoPcNode(ctx),
  recover: (ctx, durable) => buildTwoPcNode(ctx, durable),
  scenarios: commitScenarios,
  report: (requested) => new CommitReport(requested),
  invariants: () => commitInvariants(),
};
