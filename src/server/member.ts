// One synod member in a real process: the write-ahead log, the protocol core
// and the key-value node driven by a NodeHost, the peer transport, the etcd v3
// gRPC API, and /metrics and /health.

import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ClientId, type NodeId } from '../core/ids.js';
import type { ProtocolEvent } from '../core/replicated-log.js';
import type { KvOp, KvReply, KvRequest } from '../kv/api.js';
import type { KvResult } from '../kv/command.js';
import type { KvLogSnapshot } from '../kv/snapshot.js';
import { kvCommandBytes } from '../kv/codec.js';
import { KvNode } from '../kv/adapter.js';
import { readOf } from '../kv/ops.js';
import { EncodedCommandLog, encodedCommandBytes, type EncodedCommand } from '../kv/encoded-log.js';
import { TcpTransport } from '../net/tcp-transport.js';
import type { MemberConfig } from './config.js';
import { bindProtocol, type Membership } from './protocols.js';
import { memberSnapshotCodec, openMemberStorage } from './member-storage.js';
import { Forwarder, NotConnectedError, servePeerFrames, type PeerFrame, type RequestPacking } from './forwarding.js';
import { decodePut, encodePut } from '../kv/put-codec.js';
import { NodeHost } from './host.js';
import { Metrics, httpEndpoints, serveMetrics } from './metrics.js';
import { EtcdGrpcServer } from './grpc/index.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { kvErrorToGrpc, type Header } from './etcd-map.js';
import { SERVER_VERSION, etcdHandlers } from './kv-service.js';
import { attachMembership, clusterHandlers, initialPeers, isMembershipFrame, joinsEmpty, memberConfigAtStart, memberIdFromData, type MembershipFrame } from './membership/index.js';
import { WatchHub, type WatchLimits } from './watch.js';
import { LeaseService, type LeaseFrame } from './lease-service.js';
import { maintenanceHandlers } from './maintenance.js';
import { compactThrough, startAutoCompaction } from './auto-compact.js';
import { AuthGate, authHandlers, withAdminChecks } from './auth.js';
import { healthHandlers } from './health.js';
import { lockElectionHandlers } from './lock-election.js';

// The member is written against the ReplicatedLog interface: W and M stay opaque here.
type W = unknown;
type M = { readonly type: string };
/** Peer frames of the key-value server: the generic ones and the members' client URLs. */
type MemberInfo = { readonly type: 'member-info'; readonly name: string; readonly clientUrls: readonly string[] };
type Frame = PeerFrame<M, KvRequest, KvReply> | MemberInfo | LeaseFrame | MembershipFrame;

export interface MemberOptions {
  /** Apply entries to a snapshot and compact the log every this many entries. */
  readonly snapshotEveryEntries?: number;
  /** Default timeout of a client request when the call has no deadline. */
  readonly requestTimeoutMs?: number;
  /** Limits of etcd Watch on this member. */
  readonly watch?: Partial<WatchLimits>;
  /** Called once the member has stopped because it was removed from the cluster. */
  readonly onRemoved?: () => void;
}

export interface RunningMember {
  readonly config: MemberConfig;
  readonly node: KvNode<W, M>;
  readonly host: NodeHost<M, W, KvRequest, KvReply>;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly metricsPort: number | null;
  /** etcd Watch, served from this member's applied state. */
  readonly watches: WatchHub;
  /** Checks of each RPC against the replicated users, roles and permissions. */
  readonly auth: AuthGate;
  /** The state store's file size and the part of it in use (Maintenance.Status's dbSize, dbSizeInUse). */
  storeSizes(): { fileBytes: number; usedBytes: number };
  /** Runs `op` through the cluster (forwarded to the leader when needed). */
  submit(op: KvOp, timeoutMs: number): Promise<KvResult>;
  /** Client URLs each member announced, by member id. */
  clientUrls(id: NodeId): readonly string[];
  /** The voters and learners in force. */
  membership(): Membership;
  stop(): Promise<void>;
}

function urlHostPort(u: URL): { host: string; port: number } {
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

export async function startMember(cfg: MemberConfig, logger: Logger, opts: MemberOptions = {}): Promise<RunningMember> {
  // The WAL and the LMDB state store (src/server/member-storage.ts).
  const storage = await openMemberStorage(cfg.dataDir, logger);
  const { recovered } = storage;
  cfg = memberIdFromData(cfg, recovered, logger);
  const binding = bindProtocol<EncodedCommand, KvLogSnapshot>({
    protocol: cfg.protocol, id: cfg.memberId, members: joinsEmpty(cfg, recovered.length) ? [] : [...cfg.members.keys()], electionTicks: cfg.electionTicks,
    commandBytes: (c) => encodedCommandBytes(c, kvCommandBytes), snapshotCodec: memberSnapshotCodec, materializeSnapshot: storage.materialize,
  }, recovered);
  const { fold } = binding;
  storage.checkRecovered(fold);
  // A member of a running cluster takes its cluster id from its log or a peer (src/server/membership/).
  cfg = await memberConfigAtStart(cfg, binding.log, logger);
  // Commands are encoded once where proposed: the WAL and the peers copy bytes (src/kv/encoded-log.ts).
  const log = new EncodedCommandLog(binding.log);
  // The state lives in LMDB: the log keeps snapshot markers, materialized when sent (docs/storage.md).
  const nodeOpts = { snapshotEveryEntries: opts.snapshotEveryEntries ?? 10_000, stateMachine: storage.sm, snapshotMarkers: true };
  const node: KvNode<W, M> = recovered.length === 0 ? new KvNode(log, nodeOpts) : KvNode.recover(log, nodeOpts);
  /** etcd's ResponseHeader of this member at `revision`. */
  const headerAt = (revision: number): Header => ({ cluster_id: cfg.clusterId, member_id: cfg.memberId, revision, raft_term: log.status().term });
  const watches = new WatchHub(node.sm, headerAt, opts.watch);
  node.sm.setChangeListener((revision, events) => watches.onChanges(revision, events), () => watches.watching);
  logger.info({ member: cfg.name, id: cfg.memberId.toString(16), protocol: cfg.protocol, recoveredWrites: recovered.length }, 'starting member');

  const metrics = new Metrics();
  const peers = new Map<NodeId, { host: string; port: number }>();
  for (const [id, addr] of initialPeers(cfg, binding.log)) peers.set(id, addr);
  // The membership runtime comes after the transport, which asks it about removed members.
  let removals: { isRemoved(id: NodeId): boolean; removedByPeer(peer: NodeId): void } | null = null;
  const transport = new TcpTransport<Frame>({
    id: cfg.memberId, clusterId: cfg.clusterId.toString(16), listen: urlHostPort(cfg.listenPeerUrls[0] as URL), peers, logger: logger.child({ part: 'net' }),
    ...(cfg.peerTls === undefined ? {} : { tls: cfg.peerTls }),
    // Every frame holds plain data (commands travel encoded): the faster plain encoding (src/net/codec.ts).
    plainData: true,
    isRemoved: (id) => removals?.isRemoved(id) ?? false,
    onRemovedByPeer: (peer) => removals?.removedByPeer(peer),
  });
  const forwarder = new Forwarder<M, KvRequest, KvReply, MemberInfo | LeaseFrame | MembershipFrame>(transport, undefined, putPacking);
  const { runtime: membership, hostNode } = attachMembership({ cfg, node, log: binding.log, transport, peers, logger, stopMember: () => void stop().then(() => opts.onRemoved?.()) });
  removals = membership;
  let leader: NodeId | null = null;
  const onEvent = (e: ProtocolEvent): void => {
    const status = log.status();
    if (status.leader !== leader) {
      if (leader !== null || status.leader !== null) metrics.leaderChanges.inc();
      leader = status.leader;
      logger.info({ leader: leader?.toString(16) ?? null, term: status.term, role: status.role }, leader === null ? 'no leader' : 'leader elected');
    }
    if (e.kind === 'snapshot-installed' || e.kind === 'restore') logger.info({ event: e.kind, detail: e.detail }, 'snapshot installed');
  };
  const host = new NodeHost<M, W, KvRequest, KvReply>(hostNode, {
    persist: async (writes) => {
      const end = metrics.fsyncDuration.startTimer();
      await storage.persist(fold, writes);
      end();
      metrics.batchWrites.observe(writes.length);
    },
    send: (to, msg) => {
      try {
        transport.send(to, { type: 'protocol', msg: binding.outgoing(msg) });
      } catch (err) {
        logger.warn({ to: to.toString(16), err: (err as Error).message }, 'cannot send to peer');
      }
    },
    event: onEvent,
  }, { tickMs: cfg.tickMs });
  host.onFatal = (err) => {
    logger.fatal({ err: err.message }, 'cannot make writes durable; stopping (no acknowledged write is lost)');
    process.exitCode = 1;
    void stop();
  };

  // Created once `submit` exists; lease frames arriving before that are dropped (the asking peer times out).
  let leases: LeaseService | null = null;
  const clientUrlsById = new Map<NodeId, readonly string[]>([[cfg.memberId, cfg.advertiseClientUrls.map((u) => u.origin)]]);
  servePeerFrames(transport, forwarder, host, (from, frame) => {
    if (frame.type === 'member-info') clientUrlsById.set(from, frame.clientUrls);
    else if (isMembershipFrame(frame)) membership.onFrame(from, frame);
    else leases?.onFrame(from, frame);
  }, putPacking);
  await transport.start();
  const announce = (): void => {
    for (const id of peers.keys()) {
      try {
        transport.send(id, { type: 'member-info', name: cfg.name, clientUrls: cfg.advertiseClientUrls.map((u) => u.origin) });
      } catch { /* the peer is unknown to the transport: nothing to announce */ }
    }
  };
  announce();
  const announcer = setInterval(announce, 5000);
  host.start();
  membership.start();

  const client = ClientId(`${cfg.memberId.toString(16)}.${randomInt(0, 2 ** 47).toString(36)}`);
  let seq = 1;
  // A request answered 'not-leader' had no effect, so it is safe to try again:
  // at the leader named, or here after a pause while an election runs.
  const submit = async (op: KvOp, timeoutMs: number): Promise<KvResult> => {
    const req: KvRequest = { client, seq: seq++, op };
    const deadline = Date.now() + timeoutMs;
    metrics.proposalsPending.inc();
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) throw new GrpcError(GrpcStatus.UNAVAILABLE, 'etcdserver: no leader');
        // A write on a member that follows a known leader goes straight there: asking the local node
        // first would only cost an event-loop turn to hear 'not-leader'. Reads stay (read index, Raft §6.4).
        const status = log.status();
        const direct = status.role !== 'leader' && status.leader !== null && status.leader !== cfg.memberId && readOf(op) === null;
        let reply = direct ? await forwarder.forward(status.leader, req, left).catch(notConnected) : await host.request(req, left);
        if (!reply.ok && reply.error === 'not-leader' && reply.leader !== null && reply.leader !== cfg.memberId) {
          try {
            reply = await forwarder.forward(reply.leader, req, left);
          } catch (err) {
            if (!(err instanceof NotConnectedError)) throw err;
          }
        }
        if (reply.ok || reply.error !== 'not-leader') return resultOf(reply);
        await new Promise((r) => setTimeout(r, cfg.tickMs));
      }
    } catch (err) {
      metrics.proposalsFailed.inc();
      if (err instanceof GrpcError) throw err;
      throw new GrpcError(GrpcStatus.UNAVAILABLE, `etcdserver: ${(err as Error).message}`);
    } finally {
      metrics.proposalsPending.dec();
    }
  };

  const auth = new AuthGate(() => node.sm.auth);
  const running: RunningMember = {
    config: cfg, node, host, clientPort: 0, peerPort: transport.address().port, metricsPort: null, watches, submit, auth,
    storeSizes: () => storage.backend.sizes(),
    clientUrls: (id) => clientUrlsById.get(id) ?? [],
    membership: () => binding.membership(),
    stop: async () => stop(),
  };
  leases = new LeaseService({
    sm: node.sm, auth, status: () => log.status(), submit, timeoutMs: opts.requestTimeoutMs ?? 5000,
    sendPeer: (to, frame) => transport.send(to, frame),
    header: headerAt,
    // etcd's minimum TTL: one and a half election timeouts, so a lease outlives an election.
    minTtlSeconds: Math.ceil((1.5 * cfg.electionTicks * cfg.tickMs) / 1000),
  });
  leases.start();
  const stopAutoCompaction = cfg.autoCompaction ? startAutoCompaction(cfg.autoCompaction, {
    revision: () => node.sm.revision, compactRevision: () => node.sm.compactRevision, isLeader: () => log.status().role === 'leader',
    compact: compactThrough(submit, opts.requestTimeoutMs ?? 5000), logger: logger.child({ part: 'compactor' }),
  }) : null;
  const httpApi = httpEndpoints(metrics, () => {
    const s = log.status();
    return s.leader === null ? { ok: false, reason: 'no leader' } : { ok: true, reason: '' };
  }, SERVER_VERSION);
  const memberHeader = (): Header => headerAt(node.sm.revision);
  const grpc = new EtcdGrpcServer(withAdminChecks({ ...etcdHandlers(running, opts.requestTimeoutMs ?? 5000), ...leases.handlers(), ...maintenanceHandlers(running),
    ...clusterHandlers({
      runtime: membership, membership: () => binding.membership(), clientUrls: (id) => clientUrlsById.get(id) ?? [], timeoutMs: opts.requestTimeoutMs ?? 5000,
      header: memberHeader,
    }),
    ...authHandlers({
      gate: auth, store: () => node.sm.auth, header: memberHeader, timeoutMs: opts.requestTimeoutMs ?? 5000, tokenTtlMs: (cfg.authTokenTtlSeconds ?? 300) * 1000,
      submit: (request, user, timeoutMs) => submit({ f: 'etcd', request, ...(user === undefined ? {} : { user }) }, timeoutMs),
    }),
    ...healthHandlers({ healthy: () => log.status().leader !== null }),
    ...lockElectionHandlers({
      submit, watches, auth, timeoutMs: opts.requestTimeoutMs ?? 5000,
      header: headerAt,
    }),
  }, auth), {
    ...(cfg.grpcKeepalive === undefined ? {} : { keepalive: cfg.grpcKeepalive }),
    ...(cfg.clientTls === undefined ? { http1: httpApi } : { tls: cfg.clientTls }),
  });
  const clientAddr = urlHostPort(cfg.listenClientUrls[0] as URL);
  if (cfg.clientTls !== undefined) logger.info({ clientCertAuth: cfg.clientTls.clientCertAuth }, 'client URLs served over TLS');
  let metricsServer: Server | null = null;
  let metricsPort: number | null;
  let updateGauges: ReturnType<typeof setInterval> | undefined;
  let stopped: Promise<void> | null = null;
  let addr: AddressInfo;
  try {
    addr = await grpc.listen(clientAddr.port, clientAddr.host);
    metricsPort = await startMetrics();
  } catch (err) {
    // A port already taken (say): stop what runs already, or the process would go on without its client port.
    await stop();
    throw err;
  }
  Object.assign(running, { clientPort: addr.port, metricsPort });
  logger.info({ client: `${clientAddr.host}:${addr.port}`, peer: `${urlHostPort(cfg.listenPeerUrls[0] as URL).host}:${running.peerPort}`, metricsPort }, 'serving');

  async function startMetrics(): Promise<number | null> {
    const metricsUrl = cfg.listenMetricsUrls[0];
    updateGauges = setInterval(() => {
      const s = log.status();
      metrics.hasLeader.set(s.leader === null ? 0 : 1);
      metrics.isLeader.set(s.role === 'leader' ? 1 : 0);
      metrics.proposalsCommitted.set(s.commitIndex);
      metrics.proposalsApplied.set(node.sm.appliedIndex);
      metrics.applyLag.set(s.commitIndex - node.sm.appliedIndex);
    }, 1000);
    if (metricsUrl === undefined) return null;
    const m = urlHostPort(metricsUrl);
    const served = await serveMetrics(httpApi, m.host, m.port);
    metricsServer = served.server;
    return served.address.port;
  }

  function stop(): Promise<void> {
    stopped ??= (async () => {
      clearInterval(announcer);
      if (updateGauges !== undefined) clearInterval(updateGauges);
      forwarder.stop();
      membership.stop();
      watches.close();
      leases?.stop();
      stopAutoCompaction?.();
      await grpc.close();
      await host.stop();
      await transport.stop();
      await storage.close();
      metricsServer?.close();
      logger.info('stopped');
    })();
    return stopped;
  }
  return running;
}

/** Forwarded puts travel in the compact put form (src/kv/put-codec.ts), as they will be proposed. */
const putPacking: RequestPacking<KvRequest> = {
  pack: (req) => (req.op.f === 'etcd' && req.op.request.type === 'put' && req.op.user === undefined && req.op.internal === undefined ? encodePut({ client: req.client, seq: req.seq, op: req.op.request }) : null),
  unpack: (bytes) => {
    const cmd = decodePut(bytes);
    return { client: cmd.client, seq: cmd.seq, op: { f: 'etcd', request: cmd.op } };
  },
};

/** A forward that found no connection to the leader is answered as 'not-leader', so the caller tries again. */
function notConnected(err: unknown): KvReply {
  if (err instanceof NotConnectedError) return { ok: false, error: 'not-leader', leader: null };
  throw err;
}

/** A node's reply as a store result, or the gRPC error etcd would answer. */
function resultOf(reply: KvReply): KvResult {
  if (reply.ok) {
    if ('result' in reply) {
      if (!reply.result.ok) throw kvErrorToGrpc(reply.result.error);
      return reply.result;
    }
    throw new GrpcError(GrpcStatus.INTERNAL, 'synod: the store answered a simple op where an etcd request was sent');
  }
  switch (reply.error) {
    case 'not-leader': throw new GrpcError(GrpcStatus.UNAVAILABLE, 'etcdserver: no leader');
    case 'unknown': throw new GrpcError(GrpcStatus.UNAVAILABLE, 'etcdserver: leader changed (the request may or may not have taken effect)');
    case 'busy': throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: too many requests');
    case 'rejected': throw kvErrorToGrpc({ code: reply.code, message: reply.message });
    case 'cas-mismatch': throw new GrpcError(GrpcStatus.INTERNAL, 'synod: unexpected cas reply to an etcd request');
  }
}
