// Builds a 2PC node: the coordinator on members[0], a participant on every
// other member (and on members[0] too with option coordinatorIsParticipant).

import type { NodeContext } from '../../sim/protocol.js';
import { CommitNode } from '../node.js';
import { readCommitOptions } from '../options.js';
import { TwoPcCoordinator } from './coordinator.js';
import type { TwoPcMessage, TwoPcWrite } from './messages.js';
import { TwoPcParticipant } from './participant.js';

export type TwoPcNode = CommitNode<TwoPcMessage, TwoPcWrite>;

export function buildTwoPcNode(ctx: NodeContext, durable: readonly TwoPcWrite[] = []): TwoPcNode {
  const opts = readCommitOptions(ctx.members, ctx.options);
  const node = new CommitNode<TwoPcMessage, TwoPcWrite>(ctx.id, '2pc');
  if (ctx.id === opts.coordinator) {
    const c = new TwoPcCoordinator(node.io, opts, ctx.mutants);
    c.recover(durable);
    node.addRole(c);
    node.handleRequests(c);
  }
  if (opts.participants.includes(ctx.id)) {
    const p = new TwoPcParticipant(node.io, opts, ctx.rng.fork('vote'), ctx.mutants);
    p.recover(durable);
    node.addRole(p);
  }
  node.recovered(durable);
  return node;
}
