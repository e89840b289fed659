// Raft §6 and thesis §4: configurations, their changes, and quorum decisions in
// a single or joint configuration. A decision in C_old,new needs a majority of
// C_new and a majority of C_old.

import { assert } from '../core/assert.js';
import type { NodeId } from '../core/ids.js';
import { majority, tallyVotes, type VoteResult } from '../core/quorum.js';
import type { ConfChange, ConfChangeOp, ConfState } from './types.js';

const sorted = (s: Iterable<NodeId>): NodeId[] => [...s].sort((a, b) => a - b);

export function isJoint(c: ConfState): boolean {
  return c.outgoing.length > 0;
}

export function isVoter(c: ConfState, id: NodeId): boolean {
  return c.voters.includes(id) || c.outgoing.includes(id);
}

export function isLearner(c: ConfState, id: NodeId): boolean {
  return c.learners.includes(id) || c.learnersNext.includes(id);
}

/** Every member, voters first, each once. */
export function members(c: ConfState): NodeId[] {
  return sorted(new Set([...c.voters, ...c.outgoing, ...c.learners, ...c.learnersNext]));
}

export function confEquals(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly NodeId[], y: readonly NodeId[]): boolean => x.length === y.length && sorted(x).every((v, i) => v === sorted(y)[i]);
  return eq(a.voters, b.voters) && eq(a.outgoing, b.outgoing) && eq(a.learners, b.learners) && eq(a.learnersNext, b.learnersNext);
}

/** Whether a 'change' may apply in one step: at most one voter added or removed (thesis §4.1). */
export function isSimpleChange(c: ConfState, ops: readonly ConfChangeOp[]): boolean {
  const voters = new Set(c.voters);
  let voterDelta = 0;
  for (const op of ops) {
    const wasVoter = voters.has(op.node);
    if (op.type === 'add-voter' && !wasVoter) {
      voterDelta++;
      voters.add(op.node);
    } else if (op.type !== 'add-voter' && wasVoter) {
      voterDelta++;
      voters.delete(op.node);
    }
  }
  return voterDelta <= 1;
}

/** The host's context, as a field only when there is one (exactOptionalPropertyTypes). */
const contextOf = (context: string | undefined): { context?: string } => (context === undefined ? {} : { context });

/**
 * The configuration after `change`, or an error message when the change is
 * not allowed from `c` (bad input from a client, not a bug).
 */
export function applyConfChange(c: ConfState, change: ConfChange): ConfState | string {
  switch (change.type) {
    case 'bootstrap':
      return change.conf;
    case 'leave-joint':
      if (!isJoint(c)) return 'not in a joint configuration';
      return { voters: c.voters, outgoing: [], learners: sorted(new Set([...c.learners, ...c.learnersNext])), learnersNext: [], ...contextOf(c.context) };
    case 'change': {
      if (isJoint(c)) return 'a joint configuration must be left before another change';
      if (change.ops.length === 0) return 'empty configuration change';
      const joint = change.joint || !isSimpleChange(c, change.ops);
      const voters = new Set(c.voters);
      const learners = new Set(c.learners);
      const learnersNext = new Set<NodeId>();
      for (const op of change.ops) {
        voters.delete(op.node);
        learners.delete(op.node);
        learnersNext.delete(op.node);
        if (op.type === 'add-voter') voters.add(op.node);
        // A voter of C_old demoted in a joint change keeps voting in C_old until the joint configuration is left.
        else if (op.type === 'add-learner') (joint && c.voters.includes(op.node) ? learnersNext : learners).add(op.node);
      }
      if (voters.size === 0) return 'a configuration needs at least one voter';
      return {
        voters: sorted(voters),
        outgoing: joint ? sorted(c.voters) : [],
        learners: sorted(learners),
        learnersNext: sorted(learnersNext),
        ...contextOf(change.context ?? c.context),
      };
    }
  }
}

/**
 * The highest index stored on a quorum (Raft §5.3), given each voter's match
 * index. In a joint configuration, the lower of the two majorities' values.
 */
export function committedIndex(c: ConfState, match: (id: NodeId) => number): number {
  const one = (voters: readonly NodeId[]): number => {
    if (voters.length === 1) return match(voters[0] as NodeId);
    // quorumValue without its defensive copy: this runs on every acknowledgement.
    const values = voters.map(match).sort((a, b) => b - a);
    return values[majority(voters.length) - 1] as number;
  };
  // Invariant: a configuration that decides anything has voters.
  assert(c.voters.length > 0, 'commit in a configuration without voters');
  const incoming = one(c.voters);
  return isJoint(c) ? Math.min(incoming, one(c.outgoing)) : incoming;
}

/** Raft §5.2 vote counting over a single or joint configuration. */
export function voteResult(c: ConfState, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const one = (voters: readonly NodeId[]): VoteResult => {
    let granted = 0;
    let rejected = 0;
    for (const v of voters) {
      const r = votes.get(v);
      if (r === true) granted++;
      else if (r === false) rejected++;
    }
    return tallyVotes(granted, rejected, voters.length);
  };
  const a = one(c.voters);
  if (!isJoint(c)) return a;
  const b = one(c.outgoing);
  if (a === 'won' && b === 'won') return 'won';
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

/** Whether the nodes in `active` (plus this one) form a quorum: CheckQuorum (thesis §6.2). */
export function hasQuorum(c: ConfState, active: (id: NodeId) => boolean): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const v of [...c.voters, ...c.outgoing]) if (active(v)) votes.set(v, true);
  return voteResult(c, votes) === 'won';
}
