// Builds a Paxos Commit node: the TM (initial leader) on members[0]; an
// acceptor on each of the first 2F+1 members; an RM on every other member
// (and on members[0] with option coordinatorIsParticipant); a leader on every
// node, able to take a transaction over when the TM is silent.

import type { NodeContext } from '../../sim/protocol.js';
import { CommitNode } from '../node.js';
import { acceptorsOf, readCommitOptions } from '../options.js';
import { PaxosCommitAcceptor } from './acceptor.js';
import { PaxosCommitLeader } from './leader.js';
import type { PaxosCommitMessage, PaxosCommitWrite } from './messages.js';
import { PaxosCommitRm } from './rm.js';

export type PaxosCommitNode = CommitNode<PaxosCommitMessage, PaxosCommitWrite>;

export function buildPaxosCommitNode(ctx: NodeContext, durable: readonly PaxosCommitWrite[] = []): PaxosCommitNode {
  const opts = readCommitOptions(ctx.members, ctx.options);
  const acceptors = acceptorsOf(ctx.members, opts.faultTolerance);
  const node = new CommitNode<PaxosCommitMessage, PaxosCommitWrite>(ctx.id, 'paxos-commit');
  const leader = new PaxosCommitLeader(node.io, opts, ctx.members, acceptors, ctx.rng.fork('leader'), ctx.mutants);
  leader.recover(durable);
  node.addRole(leader);
  if (ctx.id === opts.coordinator) node.handleRequests(leader);
  if (acceptors.includes(ctx.id)) {
    const a = new PaxosCommitAcceptor(node.io, opts, ctx.members);
    a.recover(durable);
    node.addRole(a);
  }
  if (opts.participants.includes(ctx.id)) {
    const rm = new PaxosCommitRm(node.io, opts, acceptors, leader, ctx.rng.fork('vote'), ctx.mutants);
    rm.recover(durable);
    node.addRole(rm);
  }
  node.recovered(durable);
  return node;
}
