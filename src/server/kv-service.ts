// The etcd v3 handlers of a member: KV (Range, Put, DeleteRange, Txn, Compact),
// Watch (src/server/watch.ts), Maintenance.Status (Snapshot, Alarm and
// Defragment: maintenance.ts), Cluster.MemberList. Everything else
// answers UNIMPLEMENTED from the wire layer.

import type { EtcdHandlers, CallContext } from './grpc/handlers.js';
import type * as T from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus, longToNumber } from './grpc/index.js';
import type { KvResult, KvResponse } from '../kv/command.js';
import { deleteOf, deleteOut, kvErrorToGrpc, putOf, putOut, rangeOf, rangeOut, txnOf, txnOut, type Header } from './etcd-map.js';
import type { RunningMember } from './member.js';
import { serveWatch } from './watch.js';

export const SERVER_VERSION = '3.5.0';

function timeoutOf(ctx: CallContext, fallbackMs: number): number {
  if (ctx.deadline === Infinity) return fallbackMs;
  const left = Math.floor(ctx.deadline - performance.now());
  if (left <= 0) throw new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'context deadline exceeded');
  return left;
}

function responseOf<R extends KvResponse['type']>(r: KvResult, type: R): Extract<KvResponse, { type: R }> {
  if (!r.ok) throw kvErrorToGrpc(r.error);
  if (r.response.type !== type) throw new GrpcError(GrpcStatus.INTERNAL, `synod: expected a ${type} response, got ${r.response.type}`);
  return r.response as Extract<KvResponse, { type: R }>;
}

export function etcdHandlers(member: RunningMember, timeoutMs: number): EtcdHandlers {
  const auth = member.auth;
  // Writes name their user; the state machine checks them where they apply (src/kv/state-machine.ts).
  const as = (ctx: CallContext): { user?: string } => auth.userField(ctx);
  const log = member.node.log;
  const cfg = member.config;
  const header = (revision: number): Header => ({ cluster_id: cfg.clusterId, member_id: cfg.memberId, revision, raft_term: log.status().term });

  return {
    range: async (req, ctx) => {
      const range = rangeOf(req);
      if (req.serializable) {
        // Served from this member's applied state without asking the leader (etcd's serializable read).
        if (auth.enabled) auth.read(ctx, range.key, range.rangeEnd);
        const r = member.node.sm.range(range);
        return rangeOut(responseOf(r, 'range'), header(r.revision));
      }
      const r = await member.submit({ f: 'etcd', request: { type: 'range', ...range } }, timeoutOf(ctx, timeoutMs));
      // Checked once the read index is applied here: against the rules in force when the read is served.
      if (auth.enabled) auth.read(ctx, range.key, range.rangeEnd);
      return rangeOut(responseOf(r, 'range'), header(r.revision));
    },
    put: async (req, ctx) => {
      const p = putOf(req);
      // Built field by field: one object shape per put, not a spread's (src/kv/mvcc.ts, Writer.add).
      const request = { type: 'put', key: p.key, value: p.value, lease: p.lease ?? 0, prevKv: p.prevKv === true, ignoreValue: p.ignoreValue === true, ignoreLease: p.ignoreLease === true } as const;
      const r = await member.submit(auth.enabled ? { f: 'etcd', request, ...as(ctx) } : { f: 'etcd', request }, timeoutOf(ctx, timeoutMs));
      return putOut(responseOf(r, 'put'), header(r.revision));
    },
    deleteRange: async (req, ctx) => {
      const request = { type: 'delete-range', ...deleteOf(req) } as const;
      const r = await member.submit({ f: 'etcd', request, ...as(ctx) }, timeoutOf(ctx, timeoutMs));
      return deleteOut(responseOf(r, 'delete-range'), header(r.revision));
    },
    txn: async (req, ctx) => {
      const request = { type: 'txn', ...txnOf(req) } as const;
      const r = await member.submit({ f: 'etcd', request, ...as(ctx) }, timeoutOf(ctx, timeoutMs));
      return txnOut(responseOf(r, 'txn'), header(r.revision));
    },
    compact: async (req, ctx) => {
      const r = await member.submit({ f: 'etcd', request: { type: 'compact', revision: longToNumber(req.revision) }, ...as(ctx) }, timeoutOf(ctx, timeoutMs));
      responseOf(r, 'compact');
      return { header: header(r.revision) };
    },
    // A watch needs read permission on its range (refused watches are canceled with the reason, as etcd does).
    watch: (call) => serveWatch(member.watches, call, (create) => {
      if (!auth.enabled) return null;
      try {
        auth.read(call, create.key, create.rangeEnd.length === 0 ? undefined : create.rangeEnd);
        return null;
      } catch (err) {
        if (err instanceof GrpcError) return err.message;
        throw err;
      }
    }),
    status: () => {
      const s = log.status();
      const sizes = member.storeSizes();
      const conf = member.membership();
      return {
        header: header(member.node.sm.revision),
        version: SERVER_VERSION,
        dbSize: sizes.fileBytes,
        dbSizeInUse: sizes.usedBytes,
        leader: s.leader ?? 0,
        raftIndex: s.commitIndex,
        raftTerm: s.term,
        raftAppliedIndex: member.node.sm.appliedIndex,
        errors: s.leader === null ? ['etcdserver: no leader'] : [],
        isLearner: conf.learners.includes(cfg.memberId),
        storageVersion: SERVER_VERSION,
      };
    },
    memberList: () => {
      const conf = member.membership();
      const list: T.Member[] = [...conf.voters, ...conf.learners].sort((a, b) => a - b).map((id) => {
        const known = cfg.members.get(id);
        return {
          ID: id,
          name: known?.name ?? '',
          peerURLs: known?.peerUrls.map((u) => u.origin) ?? [],
          clientURLs: [...member.clientUrls(id)],
          isLearner: conf.learners.includes(id),
        };
      });
      return { header: header(member.node.sm.revision), members: list };
    },
  };
}
