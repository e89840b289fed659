// Builds a 3PC node: the coordinator on members[0], a participant on every
// other member (and on members[0] too with option coordinatorIsParticipant).

import type { NodeContext } from '../../sim/protocol.js';
import { CommitNode } from '../node.js';
import { readCommitOptions } from '../options.js';
import { ThreePcCoordinator } from './coordinator.js';
import type { ThreePcMessage, ThreePcWrite } from './messages.js';
import { ThreePcParticipant } from './participant.js';

export type ThreePcNode = CommitNode<ThreePcMessage, ThreePcWrite>;

export function buildThreePcNode(ctx: NodeContext, durable: readonly ThreePcWrite[] = []): ThreePcNode {
  const opts = readCommitOptions(ctx.members, ctx.options);
  const node = new CommitNode<ThreePcMessage, ThreePcWrite>(ctx.id, '3pc');
  if (ctx.id === opts.coordinator) {
    const c = new ThreePcCoordinator(node.io, opts, ctx.mutants);
    c.recover(durable);
    node.addRole(c);
    node.handleRequests(c);
  }
  if (opts.participants.includes(ctx.id)) {
    const p = new ThreePcParticipant(node.io, opts, ctx.rng.fork('vote'), ctx.mutants);
    p.recover(durable);
    node.addRole(p);
  }
  node.recovered(durable);
  return node;
}
