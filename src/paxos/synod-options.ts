// Options of a single-decree Paxos node, read from the simulator's protocol
// options (or given directly by tests) and validated.

import { makeQuorums, quorumOptionsFrom, type Quorums } from './quorums.js';

export type LearnerMode = 'all' | 'distinguished';

export interface SynodOptions {
  /** A distinguished proposer (leader by heartbeats) with randomized back-off; false lets every node propose and retry at once. */
  readonly leader: boolean;
  /**
   * With `leader` on: the number of refused ballots a node tolerates while
   * proposing without a leader before it turns the distinguished proposer on
   * (0: a leader from the start). Shows the duel, then the cure, in one run.
   */
  readonly duelRounds: number;
  /** After a refused ballot the leader waits a random 1..backoffTicks ticks before the next one. */
  readonly backoffTicks: number;
  /** 'all': every acceptor tells every learner; 'distinguished': acceptors tell a few learners, who relay. */
  readonly learners: LearnerMode;
  readonly distinguishedLearners: number;
  readonly heartbeatTicks: number;
  /** No heartbeat for a random electionTicks..2*electionTicks: this node becomes the distinguished proposer. */
  readonly electionTicks: number;
  /** An attempt that has not finished after retryTicks is abandoned and retried. */
  readonly retryTicks: number;
  /** A node with waiting clients and no decision asks a proposer every askTicks. */
  readonly askTicks: number;
  readonly quorums: Quorums;
}

export class SynodOptionError extends Error {
  override readonly name = 'SynodOptionError';
}

function intOption(o: Readonly<Record<string, unknown>>, key: string, dflt: number, min: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SynodOptionError(`option ${key} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

export function synodOptions(members: number, o: Readonly<Record<string, unknown>> = {}): SynodOptions {
  const leader = o['leader'] ?? true;
  if (typeof leader !== 'boolean') throw new SynodOptionError(`option leader must be a boolean, got ${String(leader)}`);
  const learners = o['learners'] ?? 'all';
  if (learners !== 'all' && learners !== 'distinguished') throw new SynodOptionError(`option learners must be 'all' or 'distinguished', got ${String(learners)}`);
  const distinguishedLearners = intOption(o, 'distinguishedLearners', Math.min(2, members), 1);
  if (distinguishedLearners > members) throw new SynodOptionError(`distinguishedLearners ${distinguishedLearners} exceeds the ${members} members`);
  return {
    leader,
    duelRounds: intOption(o, 'duelRounds', 0, 0),
    backoffTicks: intOption(o, 'backoffTicks', 10, 1),
    learners,
    distinguishedLearners,
    heartbeatTicks: intOption(o, 'heartbeatTicks', 2, 1),
    electionTicks: intOption(o, 'electionTicks', 10, 2),
    retryTicks: intOption(o, 'retryTicks', 12, 2),
    askTicks: intOption(o, 'askTicks', 20, 1),
    quorums: makeQuorums(members, quorumOptionsFrom(o)),
  };
}
