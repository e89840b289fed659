// etcd's Maintenance service on a member: Snapshot (streams the member's
// key-value state as a synod snapshot file, see snapshot-file.ts), HashKV and
// Hash, Alarm and Defragment. Status lives with the KV handlers
// (kv-service.ts), MoveLeader with membership (membership/handlers.ts).

import type { EtcdHandlers, ServerStreamCall } from './grpc/handlers.js';
import type * as T from './grpc/etcd-types.js';
import { AlarmAction } from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { int64ToNumber } from './grpc/handlers.js';
import { kvErrorToGrpc, type Header } from './etcd-map.js';
import type { RunningMember } from './member.js';
import { encodeSnapshotFile, SnapshotFileError } from './snapshot-file.js';

/** etcd's snapshotSendBufferSize: the blob of each Snapshot message. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

/**
 * Sends `content` in chunks with etcd's remaining_bytes countdown, then the
 * SHA-256 digest as the last message (as etcd's server does; etcdctl writes it
 * at the end of the file). Waits for the client when its buffer is full.
 */
export async function streamSnapshot(call: ServerStreamCall<T.SnapshotResponse>, content: Buffer, digest: Buffer, header: Header): Promise<void> {
  let sent = 0;
  while (sent < content.length) {
    if (call.cancelled) return;
    const blob = content.subarray(sent, Math.min(content.length, sent + SNAPSHOT_CHUNK_BYTES));
    sent += blob.length;
    const first = sent === blob.length;
    const ok = call.write({ ...(first ? { header } : {}), remaining_bytes: content.length - sent, blob });
    if (!ok) await call.drained();
  }
  if (!call.cancelled) call.write({ remaining_bytes: 0, blob: digest });
}

export function maintenanceHandlers(member: RunningMember): Pick<EtcdHandlers, 'snapshot' | 'alarm' | 'defragment' | 'hashKV' | 'hash'> {
  const cfg = member.config;
  const header = (): Header => ({ cluster_id: cfg.clusterId, member_id: cfg.memberId, revision: member.node.sm.revision, raft_term: member.node.log.status().term });
  return {
    // Served from this member's applied state, as etcd serves its own backend: not a linearizable read.
    snapshot: async (_req, call) => {
      let file;
      try {
        file = encodeSnapshotFile(member.node.sm.snapshot(), { memberId: cfg.memberId, clusterId: cfg.clusterId });
      } catch (err) {
        if (err instanceof SnapshotFileError) throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `synod: ${err.message}`);
        throw err;
      }
      await streamSnapshot(call, file.content, file.digest, header());
    },
    // Served from this member's applied state, as etcd does: compare members at one revision (etcdctl endpoint hashkv --rev).
    hashKV: (req) => {
      const r = member.node.sm.hashKV(int64ToNumber(req.revision, 'revision'));
      if (!r.ok) throw kvErrorToGrpc(r.error);
      return { header: header(), hash: r.hash, compact_revision: r.compactRevision, hash_revision: r.hashRevision };
    },
    // etcd hashes its whole backend file here; synod hashes the key-value state it holds now, as HashKV at the current revision.
    hash: () => {
      const r = member.node.sm.hashKV(0);
      if (!r.ok) throw kvErrorToGrpc(r.error);
      return { header: header(), hash: r.hash };
    },
    // synod raises no alarms: it has no storage quota (NOSPACE) and no background corruption check (CORRUPT).
    alarm: (req) => {
      switch (req.action) {
        case AlarmAction.GET:
        case AlarmAction.DEACTIVATE:
          return { header: header(), alarms: [] };
        case AlarmAction.ACTIVATE:
          throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'synod: alarms cannot be raised; synod has no storage quota (NOSPACE) and no corruption check (CORRUPT) that would raise one');
        default:
          throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, `synod: unknown alarm action ${req.action}`);
      }
    },
    // A member's state is compacted into its write-ahead log's snapshots and the
    // store drops compacted versions at once: there are no free pages to reclaim.
    defragment: () => ({ header: header() }),
  };
}
