// The membership changes of etcd's Cluster service, checked against the
// configuration in force and turned into one Raft configuration change
// (src/raft/membership.ts) that carries the directory after it. Each change
// adds, removes or re-asserts one member, so every one is a single-step
// change (at most one voter added or removed: Raft thesis §4.1).

import type { NodeId } from '../../core/ids.js';
import { isLearner, isVoter, members } from '../../raft/membership.js';
import type { ConfChangeOp, ConfState } from '../../raft/types.js';
import { ConfigError, deriveId, parseUrls } from '../config.js';
import { findMember, MAX_MEMBERS, withMember, withoutMember, type Directory, type DirectoryMember } from './directory.js';

export type MemberChange =
  | { readonly type: 'add'; readonly peerUrls: readonly string[]; readonly learner: boolean }
  | { readonly type: 'remove'; readonly id: NodeId }
  | { readonly type: 'update'; readonly id: NodeId; readonly peerUrls: readonly string[] }
  | { readonly type: 'promote'; readonly id: NodeId }
  /** A started member records its --name (etcd's publish): until then MemberList shows it unstarted. */
  | { readonly type: 'publish'; readonly id: NodeId; readonly name: string };

/** Why a change is refused; `code` picks the gRPC status (etcd's where etcd has one). */
export type RefusalCode = 'not-found' | 'exists' | 'bad-urls' | 'not-learner' | 'learner-not-ready' | 'too-many' | 'too-many-learners' | 'invalid' | 'not-enough-started' | 'unhealthy';

/** etcd's default limit on learners at once (--max-learners): a learner is a member on its way to voting. */
export const MAX_LEARNERS = 1;

export interface Refusal {
  readonly ok: false;
  readonly code: RefusalCode;
  readonly message: string;
}

export interface Plan {
  readonly ok: true;
  readonly ops: readonly ConfChangeOp[];
  readonly directory: Directory;
  /** The member the change is about, as it is after the change (null once removed). */
  readonly member: DirectoryMember | null;
}

/** What the planner needs to know besides the configuration and the directory. */
export interface PlanContext {
  readonly token: string;
  /** At the leader: a member's match index (null when unknown), and the commit index. */
  readonly match: (id: NodeId) => number | null;
  readonly commitIndex: number;
  /**
   * etcd's --strict-reconfig-check: whether the leader reaches a member now
   * (itself included). When given, a change that would leave the voters without
   * a quorum the leader reaches is refused; when absent, nothing is checked.
   */
  readonly reachable?: (id: NodeId) => boolean;
  /** etcd's --max-learners: learners at once (absent: MAX_LEARNERS). */
  readonly maxLearners?: number;
}

const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });

/**
 * The strict reconfiguration check: do the voters after a change include a
 * majority the leader reaches? A new voter has not started yet, so it does not
 * count until it connects. Without it, adding a voter to a three-member
 * cluster with one member down makes a four-voter cluster that needs three of
 * the two reachable members, and every write stops (etcd's ErrNotEnoughStartedMembers).
 */
function quorumReachable(votersAfter: readonly NodeId[], reachable: (id: NodeId) => boolean): boolean {
  const up = votersAfter.filter(reachable).length;
  return up >= Math.floor(votersAfter.length / 2) + 1;
}

const NOT_ENOUGH_STARTED = 'etcdserver: re-configuration failed due to not enough started members';
const UNHEALTHY = 'etcdserver: unhealthy cluster';

/** etcd promotes a learner only once its log is within 10% of the leader's (etcd's isLearnerReady). */
const LEARNER_READY_RATIO = 0.9;

/** Peer URLs normalised to origins, or a refusal naming the bad one. */
function origins(urls: readonly string[]): string[] | Refusal {
  if (urls.length === 0) return refuse('bad-urls', 'etcdserver: given member URLs are invalid (no peer URL)');
  try {
    return [...new Set(parseUrls('peer-urls', urls.join(','), true).map((u) => u.origin))].sort();
  } catch (err) {
    if (err instanceof ConfigError) return refuse('bad-urls', `etcdserver: given member URLs are invalid (${err.message})`);
    throw err;
  }
}

function urlsTaken(d: Directory, urls: readonly string[], except: NodeId | null): boolean {
  return d.members.some((m) => m.id !== except && m.peerUrls.some((u) => urls.includes(u)));
}

/** The configuration change that carries out `change`, or why it cannot be. */
export function planChange(change: MemberChange, conf: ConfState, dir: Directory, ctx: PlanContext): Plan | Refusal {
  const current = members(conf);
  switch (change.type) {
    case 'add': {
      const urls = origins(change.peerUrls);
      if (!Array.isArray(urls)) return urls;
      // The id a member started with these --initial-advertise-peer-urls derives (config.ts).
      const id = deriveId(ctx.token, ...urls);
      if (current.includes(id) || findMember(dir, id) !== undefined) return refuse('exists', 'etcdserver: member ID already exist');
      if (urlsTaken(dir, urls, null)) return refuse('exists', 'etcdserver: Peer URLs already exists');
      if (current.length >= MAX_MEMBERS) return refuse('too-many', `synod: a cluster has at most ${MAX_MEMBERS} members`);
      if (change.learner && learners(conf).length >= (ctx.maxLearners ?? MAX_LEARNERS)) return refuse('too-many-learners', 'etcdserver: too many learner members in cluster');
      if (!change.learner && ctx.reachable !== undefined && !quorumReachable([...voters(conf), id], ctx.reachable)) return refuse('not-enough-started', NOT_ENOUGH_STARTED);
      const member = { id, name: '', peerUrls: urls };
      return { ok: true, ops: [{ type: change.learner ? 'add-learner' : 'add-voter', node: id }], directory: withMember(dir, member), member };
    }
    case 'remove': {
      if (!current.includes(change.id)) return refuse('not-found', 'etcdserver: member not found');
      if (isVoter(conf, change.id) && ctx.reachable !== undefined && !quorumReachable(voters(conf).filter((v) => v !== change.id), ctx.reachable)) {
        return refuse('unhealthy', UNHEALTHY);
      }
      return { ok: true, ops: [{ type: 'remove', node: change.id }], directory: withoutMember(dir, change.id), member: null };
    }
    case 'update': {
      const urls = origins(change.peerUrls);
      if (!Array.isArray(urls)) return urls;
      if (!current.includes(change.id)) return refuse('not-found', 'etcdserver: member not found');
      if (urlsTaken(dir, urls, change.id)) return refuse('exists', 'etcdserver: Peer URLs already exists');
      const member = { id: change.id, name: findMember(dir, change.id)?.name ?? '', peerUrls: urls };
      return { ok: true, ops: [reassert(conf, change.id)], directory: withMember(dir, member), member };
    }
    case 'promote': {
      if (!current.includes(change.id)) return refuse('not-found', 'etcdserver: member not found');
      if (!isLearner(conf, change.id)) return refuse('not-learner', 'etcdserver: can only promote a learner member');
      const match = ctx.match(change.id);
      if (match === null || match === 0 || match < LEARNER_READY_RATIO * ctx.commitIndex) {
        return refuse('learner-not-ready', 'etcdserver: can only promote a learner member which is in sync with leader');
      }
      if (ctx.reachable !== undefined && !quorumReachable([...voters(conf), change.id], ctx.reachable)) return refuse('not-enough-started', NOT_ENOUGH_STARTED);
      const member = findMember(dir, change.id) ?? { id: change.id, name: '', peerUrls: [] };
      return { ok: true, ops: [{ type: 'add-voter', node: change.id }], directory: dir, member };
    }
    case 'publish': {
      if (!current.includes(change.id)) return refuse('not-found', 'etcdserver: member not found');
      const known = findMember(dir, change.id);
      const member = { id: change.id, name: change.name, peerUrls: known?.peerUrls ?? [] };
      return { ok: true, ops: [reassert(conf, change.id)], directory: withMember(dir, member), member };
    }
  }
}

function learners(conf: ConfState): NodeId[] {
  return [...new Set([...conf.learners, ...conf.learnersNext])];
}

/** The voters of a configuration (both halves of a joint one). */
function voters(conf: ConfState): NodeId[] {
  return [...new Set([...conf.voters, ...conf.outgoing])];
}

/** An operation that leaves the member's role as it is: the change only carries a new directory. */
function reassert(conf: ConfState, id: NodeId): ConfChangeOp {
  return { type: isVoter(conf, id) ? 'add-voter' : 'add-learner', node: id };
}
