// `snapshot restore`: seeds a fresh member's data directory from a snapshot
// file, so that a new cluster started with `synod node` on those directories
// serves the same keys, values, revisions and leases. The memberships come from
// the restore flags (the new cluster), not from the snapshot.
//
// A restored directory is what a member's own write-ahead log would hold after
// it had installed the snapshot (Raft §7): a snapshot write at the snapshot's
// applied index, carrying the new configuration, and (Raft) a hard state with
// term 1, no vote, and that index committed. It is written by the same code
// path a running member uses to persist a snapshot (persistAndCompact over the
// protocol's fold), so at start-up the member recovers it as any snapshot: the
// log hands the state machine a 'restore' of it, and elections start from it.
// Every member of the new cluster must be restored from the same file.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LogIndex, Slot, Term, type NodeId } from '../core/ids.js';
import type { KvCommand } from '../kv/command.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../kv/codec.js';
import type { KvSnapshot } from '../kv/snapshot.js';
import type { RaftWrite } from '../raft/types.js';
import type { MultiWrite } from '../paxos/multi/types.js';
import { openDurableLog } from '../storage/open-durable-log.js';
import type { MemberConfig, ProtocolName } from './config.js';
import { persistAndCompact } from './durable-fold.js';
import { bindProtocol } from './protocols.js';

export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

/** The state as a restored log holds it: at `index`, with no client sessions. */
function restoredState(snap: KvSnapshot, index: number): KvSnapshot {
  return { ...snap, sessions: [], meta: { ...snap.meta, appliedIndex: index, chain: '' } };
}

/**
 * The durable writes of a member that has just installed `snap` as the whole
 * log of a cluster of `members`. The snapshot keeps its applied index as the
 * log position (at least 1, where the bootstrap entry of an empty log would be).
 */
export function restoreWrites(protocol: ProtocolName, members: readonly NodeId[], snap: KvSnapshot): unknown[] {
  const index = Math.max(1, snap.meta.appliedIndex);
  const voters = [...members].sort((a, b) => a - b);
  const data = restoredState(snap, index);
  switch (protocol) {
    case 'raft': {
      const writes: RaftWrite<KvCommand, KvSnapshot>[] = [
        { type: 'snapshot', snapshot: { meta: { index: LogIndex(index), term: Term(1), conf: { voters, outgoing: [], learners: [], learnersNext: [] } }, data } },
        { type: 'hard-state', term: Term(1), vote: null, commit: LogIndex(index) },
      ];
      return writes;
    }
    case 'multipaxos': {
      const writes: MultiWrite<KvCommand, KvSnapshot>[] = [
        { type: 'snapshot', index: Slot(index), snapshot: data, configs: [{ from: Slot(index + 1), members: voters }] },
      ];
      return writes;
    }
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

/**
 * Writes `cfg.dataDir` for member `cfg.name` of the cluster `cfg.members`.
 * Refuses a data directory that exists and is not empty (as etcdctl does):
 * restoring over a member's data would lose it.
 */
export async function restoreDataDir(cfg: MemberConfig, snap: KvSnapshot, logger: Logger): Promise<{ index: number }> {
  if (!(await isEmptyOrMissing(cfg.dataDir))) throw new RestoreError(`data-dir '${cfg.dataDir}' exists and is not empty; restore into a new directory`);
  const { log: durable, recovered } = await openDurableLog<unknown>(join(cfg.dataDir, 'wal'));
  try {
    if (recovered.length > 0) throw new RestoreError(`data-dir '${cfg.dataDir}' already holds a write-ahead log`);
    // The protocol's own fold, as the member builds it (bindProtocol), so the summary is the one a member writes.
    const { fold } = bindProtocol<KvCommand, KvSnapshot>({
      protocol: cfg.protocol, id: cfg.memberId, members: [...cfg.members.keys()], electionTicks: cfg.electionTicks,
      commandBytes: kvCommandBytes, snapshotCodec: kvSnapshotTextCodec,
    }, []);
    await persistAndCompact(durable, fold, restoreWrites(cfg.protocol, [...cfg.members.keys()], snap), logger);
  } finally {
    await durable.close();
  }
  return { index: Math.max(1, snap.meta.appliedIndex) };
}
