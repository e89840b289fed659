// Membership at runtime, as a member wires it in (src/server/member.ts): the
// joining member's start, the node the host drives, the peer table, the peer
// frames and the Cluster service. See docs/etcd-api.md, "Membership at runtime".

import type { Logger } from 'pino';
import type { NodeId } from '../../core/ids.js';
import type { KvNode } from '../../kv/adapter.js';
import { members } from '../../raft/membership.js';
import { RaftNode } from '../../raft/node.js';
import type { PeerAddress } from '../../net/tcp-transport.js';
import type { MemberConfig } from '../config.js';
import type { RaftWrite } from '../../raft/types.js';
import { decodeDirectory, directoryOf } from './directory.js';
import { learnClusterId } from './join.js';
import { MembershipNode, type ConfLog } from './node.js';
import { MembershipRuntime, peerAddress, type PeerLinks } from './runtime.js';
import { TransferNode } from './transfer.js';
import { MultiPaxos } from '../../paxos/multi/multipaxos.js';

export { clusterHandlers } from './handlers.js';
export { isMembershipFrame, MembershipRuntime, type MembershipFrame } from './runtime.js';

/** Whether this start joins a running cluster with empty state (it must not bootstrap a log of its own). */
export function joinsEmpty(cfg: MemberConfig, recoveredWrites: number): boolean {
  if (cfg.initialClusterState !== 'existing') return false;
  if (cfg.protocol !== 'raft') throw new Error('--initial-cluster-state existing needs --protocol raft (Multi-Paxos members cannot be added at runtime yet)');
  return recoveredWrites === 0;
}

/** The Raft core under a member's log binding, or null on Multi-Paxos. */
function raftOf(log: unknown): ConfLog | null {
  return log instanceof RaftNode ? (log as ConfLog) : null;
}

/**
 * The configuration this member runs with. A member of a running cluster
 * takes the cluster id from its log's directory, or learns it from a peer;
 * and a member removed from the cluster refuses to start on its old data.
 */
export async function memberConfigAtStart(cfg: MemberConfig, log: unknown, logger: Logger): Promise<MemberConfig> {
  const raft = raftOf(log);
  if (raft === null) return cfg;
  const conf = raft.configuration();
  const dir = directoryOf(conf.context, cfg);
  if (!members(conf).includes(cfg.memberId) && dir.removed.includes(cfg.memberId)) {
    throw new Error(`member ${cfg.memberId.toString(16)} was removed from the cluster; to join again, add it with \`synod member add\` and start it with an empty --data-dir and --initial-cluster-state existing`);
  }
  if (conf.context !== undefined) return { ...cfg, clusterId: dir.cluster };
  if (cfg.initialClusterState === 'existing') return { ...cfg, clusterId: await learnClusterId(cfg, logger) };
  return cfg;
}

const sameUrls = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().every((u, i) => u === [...b].sort()[i]);

/** The directory in the latest configuration change among a member's durable writes (Raft). */
function latestContext(recovered: readonly unknown[]): string | undefined {
  let context: string | undefined;
  for (const w of recovered as readonly RaftWrite<unknown, unknown>[]) {
    if (w.type === 'snapshot') context = w.snapshot.meta.conf.context ?? context;
    else if (w.type === 'entries') for (const e of w.entries) if (e.type === 'conf' && e.change.type === 'change' && e.change.context !== undefined) context = e.change.context;
  }
  return context;
}

/**
 * A member restarted on new peer URLs after MemberUpdate keeps the id its data
 * belongs to (its --initial-advertise-peer-urls now derive another): the
 * directory in its own log names it by those URLs.
 */
export function memberIdFromData(cfg: MemberConfig, recovered: readonly unknown[], logger: Logger): MemberConfig {
  if (cfg.protocol !== 'raft' || recovered.length === 0) return cfg;
  const context = latestContext(recovered);
  if (context === undefined) return cfg;
  const own = decodeDirectory(context).members.find((m) => sameUrls(m.peerUrls, cfg.initialAdvertisePeerUrls.map((u) => u.origin)));
  if (own === undefined || own.id === cfg.memberId) return cfg;
  logger.info({ id: own.id.toString(16), derived: cfg.memberId.toString(16) }, 'this member\'s peer URLs were updated: keeping the id its data belongs to');
  return { ...cfg, memberId: own.id };
}

/** The transport's peers at start: the directory's members, and a joining member's --initial-cluster. */
export function initialPeers(cfg: MemberConfig, log: unknown): Map<NodeId, PeerAddress> {
  const out = new Map<NodeId, PeerAddress>();
  const raft = raftOf(log);
  const dir = directoryOf(raft?.configuration().context, cfg);
  for (const m of dir.members) if (m.id !== cfg.memberId && m.peerUrls[0] !== undefined) out.set(m.id, peerAddress(m.peerUrls[0]));
  const own = cfg.initialAdvertisePeerUrls.map((u) => u.origin);
  for (const [id, m] of cfg.members) {
    if (id === cfg.memberId || out.has(id) || dir.removed.includes(id) || sameUrls(m.peerUrls.map((u) => u.origin), own)) continue;
    out.set(id, peerAddress((m.peerUrls[0] as URL).origin));
  }
  return out;
}

export interface AttachOptions<W, M extends { readonly type: string }> {
  readonly cfg: MemberConfig;
  readonly node: KvNode<W, M>;
  /** The binding's log (the Raft core itself, not a wrapper of it). */
  readonly log: unknown;
  readonly transport: PeerLinks;
  readonly peers: Map<NodeId, PeerAddress>;
  readonly logger: Logger;
  readonly stopMember: () => void;
}

/** The runtime, and the node for the host to drive (on Multi-Paxos, the key-value node with MoveLeader only). */
export function attachMembership<W, M extends { readonly type: string }>(o: AttachOptions<W, M>): { runtime: MembershipRuntime; hostNode: TransferNode<W, M> | MembershipNode<W, M> } {
  const raft = raftOf(o.log);
  const runtime = new MembershipRuntime({ cfg: o.cfg, raft, transport: o.transport, peers: o.peers, logger: o.logger.child({ part: 'membership' }), tickMs: o.cfg.tickMs, stopMember: o.stopMember });
  if (raft === null) {
    // Multi-Paxos: no membership changes, but MoveLeader (the core's release).
    if (!(o.log instanceof MultiPaxos)) throw new Error('synod: a member runs on Raft or Multi-Paxos');
    const hostNode = new TransferNode<W, M>(o.node, o.log as MultiPaxos<unknown, unknown>, () => Date.now());
    runtime.transferNode = hostNode;
    return { runtime, hostNode };
  }
  const hostNode = new MembershipNode<W, M>(o.node, raft, runtime.hooks());
  runtime.node = hostNode as unknown as MembershipNode<unknown, { readonly type: string }>;
  return { runtime, hostNode };
}
