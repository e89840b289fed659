// Options of the commit protocols, read from NodeContext.options and checked.
// Bad options are a usage error (RangeError with the option's name), never an
// assertion: they come from the user.

import { NodeId } from '../core/ids.js';

export interface CommitOptions {
  /** The coordinator / transaction manager: members[0]. */
  readonly coordinator: NodeId;
  /** The resource managers: members[1..], or every member when `coordinatorIsParticipant`. */
  readonly participants: readonly NodeId[];
  /** Probability that a participant votes no (chosen by its seeded stream). */
  readonly noProbability: number;
  /** Participants that always vote no (tests). */
  readonly noVoters: ReadonlySet<number>;
  /** Coordinator: ticks to wait for every vote before deciding abort. */
  readonly voteTimeoutTicks: number;
  /** Participant in doubt: ticks between two inquiries about the outcome. */
  readonly inquiryTicks: number;
  /** 3PC: ticks a termination round lasts before the next participant takes over. */
  readonly terminationTicks: number;
  /** Paxos Commit: F, the number of acceptor failures tolerated (2F+1 acceptors). */
  readonly faultTolerance: number;
  /** Paxos Commit: RMs send their ballot-0 accept to F+1 acceptors ('quorum', the paper's count) or to all 2F+1. */
  readonly phase2aTargets: 'quorum' | 'all';
  /** Faster Paxos Commit: acceptors send accepted (phase 2b) to the RMs too. */
  readonly faster: boolean;
  /** Paxos Commit: ticks the leader waits for a choice before running phase 1 itself. */
  readonly leaderTimeoutTicks: number;
  /** Limit on transactions a node keeps; reaching it is an error, never a silent drop. */
  readonly maxTransactions: number;
}

function num(o: Readonly<Record<string, unknown>>, key: string, dflt: number, min: number, max: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`option ${key} must be a number in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function bool(o: Readonly<Record<string, unknown>>, key: string, dflt: boolean): boolean {
  const v = o[key] ?? dflt;
  if (typeof v !== 'boolean') throw new RangeError(`option ${key} must be true or false, got ${String(v)}`);
  return v;
}

export function readCommitOptions(members: readonly NodeId[], o: Readonly<Record<string, unknown>>): CommitOptions {
  if (members.length < 2) throw new RangeError(`a commit protocol needs at least 2 members, got ${members.length}`);
  const coordinator = members[0] as NodeId;
  const coordinatorIsParticipant = bool(o, 'coordinatorIsParticipant', false);
  const all = coordinatorIsParticipant ? members.slice() : members.slice(1);
  // Option participants: only the first k of them are RMs; the other members host acceptors only (Paxos Commit).
  const count = num(o, 'participants', all.length, 1, all.length);
  const participants = all.slice(0, count);
  const noVotersRaw = o['noVoters'] ?? [];
  if (!Array.isArray(noVotersRaw) || !noVotersRaw.every((x) => typeof x === 'number')) {
    throw new RangeError('option noVoters must be a list of node ids');
  }
  const faultTolerance = num(o, 'faultTolerance', 1, 0, 16);
  if (!Number.isInteger(faultTolerance)) throw new RangeError(`option faultTolerance must be an integer, got ${faultTolerance}`);
  const targets = o['phase2aTargets'] ?? 'quorum';
  if (targets !== 'quorum' && targets !== 'all') throw new RangeError(`option phase2aTargets must be 'quorum' or 'all', got ${String(targets)}`);
  return {
    coordinator,
    participants,
    noProbability: num(o, 'noProbability', 0.05, 0, 1),
    noVoters: new Set(noVotersRaw.map((x: number) => NodeId(x))),
    voteTimeoutTicks: num(o, 'voteTimeoutTicks', 20, 1, 1e6),
    inquiryTicks: num(o, 'inquiryTicks', 20, 1, 1e6),
    terminationTicks: num(o, 'terminationTicks', 20, 2, 1e6),
    faultTolerance,
    phase2aTargets: targets,
    faster: bool(o, 'faster', false),
    leaderTimeoutTicks: num(o, 'leaderTimeoutTicks', 20, 1, 1e6),
    maxTransactions: num(o, 'maxTransactions', 100_000, 1, 1e7),
  };
}

/** Paxos Commit: the 2F+1 acceptors live on the first 2F+1 members (the TM's node first). */
export function acceptorsOf(members: readonly NodeId[], f: number): readonly NodeId[] {
  if (2 * f + 1 > members.length) {
    throw new RangeError(`option faultTolerance F=${f} needs 2F+1 = ${2 * f + 1} acceptors, but there are only ${members.length} members (acceptors live on members)`);
  }
  return members.slice(0, 2 * f + 1);
}
