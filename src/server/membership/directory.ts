// The member directory: who the members are by name and where they listen for
// peers. Raft's configuration knows only ids; the directory travels with it as
// the configuration's context (src/raft/types.ts ConfState.context): every
// configuration change the server proposes carries the whole directory after
// the change, so the latest configuration (kept in snapshots and sent with
// InstallSnapshot) always says how to reach every member. A cluster that has
// made no change yet has no context: its directory is the --initial-cluster
// every bootstrapped member was started with.

import type { NodeId } from '../../core/ids.js';
import { NodeId as toNodeId } from '../../core/ids.js';
import type { MemberConfig } from '../config.js';

export interface DirectoryMember {
  readonly id: NodeId;
  /** '' until the member, started, publishes its --name (as etcd's "unstarted" members). */
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export interface Directory {
  /** The cluster id every member reports (fixed when the cluster was bootstrapped). */
  readonly cluster: NodeId;
  readonly members: readonly DirectoryMember[];
  /** Ids removed from the cluster (a removed member refuses to start again on its old data). */
  readonly removed: readonly NodeId[];
}

const FORMAT = 1;
/** A limit on the directory, so that a configuration entry stays small. */
export const MAX_MEMBERS = 64;
export const MAX_REMOVED_REMEMBERED = 1024;

export function encodeDirectory(d: Directory): string {
  return JSON.stringify({ v: FORMAT, cluster: d.cluster, members: d.members, removed: d.removed });
}

function isMember(m: unknown): m is DirectoryMember {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return Number.isSafeInteger(r['id']) && typeof r['name'] === 'string' && Array.isArray(r['peerUrls']) && r['peerUrls'].every((u) => typeof u === 'string');
}

/** The directory in a configuration's context; throws naming what is wrong (a context synod did not write). */
export function decodeDirectory(text: string): Directory {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`member directory: not JSON (${(e as Error).message})`, { cause: e });
  }
  const r = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
  if (r['v'] !== FORMAT) throw new Error(`member directory: format ${String(r['v'])}, expected ${FORMAT}`);
  const members = r['members'];
  const removed = r['removed'];
  if (!Number.isSafeInteger(r['cluster']) || !Array.isArray(members) || !members.every(isMember) || !Array.isArray(removed) || !removed.every((x) => Number.isSafeInteger(x))) {
    throw new Error('member directory: missing or malformed cluster, members or removed');
  }
  return { cluster: toNodeId(r['cluster'] as number), members, removed: removed as NodeId[] };
}

/** The directory of a cluster that has made no change yet: its --initial-cluster. */
export function initialDirectory(cfg: MemberConfig): Directory {
  const members = [...cfg.members].map(([id, m]) => ({ id, name: m.name, peerUrls: m.peerUrls.map((u) => u.origin) })).sort((a, b) => a.id - b.id);
  return { cluster: cfg.clusterId, members, removed: [] };
}

/** The directory attached to a configuration, or the initial one when none is. */
export function directoryOf(context: string | undefined, cfg: MemberConfig): Directory {
  return context === undefined ? initialDirectory(cfg) : decodeDirectory(context);
}

export function findMember(d: Directory, id: NodeId): DirectoryMember | undefined {
  return d.members.find((m) => m.id === id);
}

/** The directory with `member` added or replaced (and no longer listed as removed). */
export function withMember(d: Directory, member: DirectoryMember): Directory {
  const members = [...d.members.filter((m) => m.id !== member.id), member].sort((a, b) => a.id - b.id);
  return { cluster: d.cluster, members, removed: d.removed.filter((id) => id !== member.id) };
}

/** The directory without `id`, which is remembered as removed (the oldest forgotten beyond the limit). */
export function withoutMember(d: Directory, id: NodeId): Directory {
  const removed = [...d.removed.filter((x) => x !== id), id];
  return { cluster: d.cluster, members: d.members.filter((m) => m.id !== id), removed: removed.slice(-MAX_REMOVED_REMEMBERED) };
}
