// etcd's Cluster service on a member: MemberAdd, MemberRemove, MemberUpdate,
// MemberPromote (Raft only) and MemberList, with etcd's error messages; and
// Maintenance.MoveLeader, which needs the same Raft core.

import type { NodeId } from '../../core/ids.js';
import { NodeId as toNodeId } from '../../core/ids.js';
import type { CallContext, EtcdHandlers } from '../grpc/handlers.js';
import { int64ToNumber } from '../grpc/handlers.js';
import type * as T from '../grpc/etcd-types.js';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../grpc/index.js';
import type { Header } from '../etcd-map.js';
import type { Membership } from '../protocols.js';
import type { MemberChange } from './changes.js';
import { findMember, type Directory } from './directory.js';
import type { ChangeOutcome, TransferOutcome } from './node.js';
import type { MembershipRuntime } from './runtime.js';

export interface ClusterServiceOptions {
  readonly runtime: MembershipRuntime;
  readonly header: () => Header;
  /** Voters and learners in force. */
  readonly membership: () => Membership;
  /** The client URLs a member announced. */
  readonly clientUrls: (id: NodeId) => readonly string[];
  readonly timeoutMs: number;
}

const TRANSFER_STATUS: Readonly<Record<Exclude<TransferOutcome, { ok: true }>['code'], GrpcStatusCode>> = {
  'not-leader': GrpcStatus.FAILED_PRECONDITION,
  'bad-transferee': GrpcStatus.FAILED_PRECONDITION,
  timeout: GrpcStatus.UNAVAILABLE,
};

const STATUS: Readonly<Record<Exclude<ChangeOutcome, { ok: true }>['code'], GrpcStatusCode>> = {
  'not-leader': GrpcStatus.UNAVAILABLE,
  unknown: GrpcStatus.UNAVAILABLE,
  busy: GrpcStatus.RESOURCE_EXHAUSTED,
  timeout: GrpcStatus.DEADLINE_EXCEEDED,
  'not-found': GrpcStatus.NOT_FOUND,
  exists: GrpcStatus.FAILED_PRECONDITION,
  'bad-urls': GrpcStatus.INVALID_ARGUMENT,
  'not-learner': GrpcStatus.FAILED_PRECONDITION,
  'learner-not-ready': GrpcStatus.FAILED_PRECONDITION,
  'too-many': GrpcStatus.FAILED_PRECONDITION,
  'too-many-learners': GrpcStatus.FAILED_PRECONDITION,
  invalid: GrpcStatus.FAILED_PRECONDITION,
  'not-enough-started': GrpcStatus.FAILED_PRECONDITION,
  unhealthy: GrpcStatus.UNAVAILABLE,
};

function timeoutOf(ctx: CallContext, fallbackMs: number): number {
  if (ctx.deadline === Infinity) return fallbackMs;
  const left = Math.floor(ctx.deadline - performance.now());
  if (left <= 0) throw new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'context deadline exceeded');
  return left;
}

function memberId(value: T.MemberRemoveRequest['ID']): NodeId {
  const n = int64ToNumber(value, 'member ID');
  if (n <= 0) throw new GrpcError(GrpcStatus.NOT_FOUND, 'etcdserver: member not found');
  return toNodeId(n);
}

export function clusterHandlers(o: ClusterServiceOptions): EtcdHandlers {
  const list = (dir: Directory, m: Membership): T.Member[] => [...new Set([...m.voters, ...m.learners])].sort((a, b) => a - b).map((id) => {
    const known = findMember(dir, id);
    return { ID: id, name: known?.name ?? '', peerURLs: [...(known?.peerUrls ?? [])], clientURLs: [...o.clientUrls(id)], isLearner: m.learners.includes(id) };
  });
  const current = (): T.Member[] => list(o.runtime.directory(), o.membership());

  const run = async (change: MemberChange, ctx: CallContext): Promise<Extract<ChangeOutcome, { ok: true }>> => {
    const outcome = await o.runtime.change(change, timeoutOf(ctx, o.timeoutMs));
    if (!outcome.ok) throw new GrpcError(STATUS[outcome.code], outcome.message);
    return outcome;
  };
  // The members as the change left them (this member may not have applied it yet when the leader answered).
  const after = (outcome: Extract<ChangeOutcome, { ok: true }>): T.Member[] =>
    list(outcome.directory, { voters: [...outcome.conf.voters, ...outcome.conf.outgoing], learners: [...outcome.conf.learners, ...outcome.conf.learnersNext] });

  return {
    memberList: () => ({ header: o.header(), members: current() }),
    memberAdd: async (req, ctx) => {
      const outcome = await run({ type: 'add', peerUrls: [...req.peerURLs], learner: req.isLearner }, ctx);
      const m = outcome.member;
      const member: T.Member = m === null ? {} : { ID: m.id, name: m.name, peerURLs: [...m.peerUrls], clientURLs: [], isLearner: req.isLearner };
      return { header: o.header(), member, members: after(outcome) };
    },
    memberRemove: async (req, ctx) => ({ header: o.header(), members: after(await run({ type: 'remove', id: memberId(req.ID) }, ctx)) }),
    memberUpdate: async (req, ctx) => ({ header: o.header(), members: after(await run({ type: 'update', id: memberId(req.ID), peerUrls: [...req.peerURLs] }, ctx)) }),
    // Maintenance.MoveLeader: answered by the leader once the target leads (etcd's codes and messages).
    moveLeader: async (req, ctx) => {
      const to = int64ToNumber(req.targetID, 'targetID');
      if (to <= 0) throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'etcdserver: bad leader transferee');
      const outcome = await o.runtime.moveLeader(toNodeId(to), timeoutOf(ctx, o.timeoutMs));
      if (!outcome.ok) throw new GrpcError(TRANSFER_STATUS[outcome.code], outcome.message);
      return { header: o.header() };
    },
    memberPromote: async (req, ctx) => ({ header: o.header(), members: after(await run({ type: 'promote', id: memberId(req.ID) }, ctx)) }),
  };
}
