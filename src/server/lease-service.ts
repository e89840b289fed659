// etcd's Lease service on a member: LeaseGrant, LeaseRevoke, LeaseTimeToLive,
// LeaseLeases go through the log (src/kv holds the leases and their keys);
// LeaseKeepAlive and the remaining TTL are answered from the leader's expiry
// clock (lease-clock.ts), reached over the peer connection from a follower,
// as etcd forwards LeaseRenew to its leader. Expiry is proposed by the leader
// as a lease-revoke, so every member deletes the same keys at one revision.

import type { NodeId } from '../core/ids.js';
import type { KvOp } from '../kv/api.js';
import { ERROR_MESSAGES } from '../kv/command.js';
import type { KvResponse, KvResult } from '../kv/command.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type * as T from './grpc/etcd-types.js';
import type { BidiCall, CallContext, EtcdHandlers } from './grpc/handlers.js';
import { int64ToNumber } from './grpc/handlers.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { kvErrorToGrpc, type Header } from './etcd-map.js';
import { LeaseClock, type LeaseInfo } from './lease-clock.js';
import type { AuthGate } from './auth.js';

/** Peer frames between a follower and the leader's clock. `ttl` null: the peer is not the leader. */
export type LeaseFrame =
  | { readonly type: 'lease-clock'; readonly id: number; readonly lease: number; readonly renew: boolean }
  | { readonly type: 'lease-clock-reply'; readonly id: number; readonly ttl: number | null };

export interface LeaseDeps {
  readonly sm: KvStateMachine;
  /** Permission checks (revoke: write on the lease's keys; time-to-live with keys: read). */
  readonly auth?: AuthGate;
  status(): { readonly role: string; readonly leader: NodeId | null };
  submit(op: KvOp, timeoutMs: number): Promise<KvResult>;
  /** Sends a frame to a peer; throws when the peer is unknown. */
  sendPeer(to: NodeId, frame: LeaseFrame): void;
  header(revision: number): Header;
  /** etcd's minimum TTL (seconds): long enough to survive an election. */
  readonly minTtlSeconds: number;
  readonly timeoutMs: number;
}

const TICK_MS = 100;
/** Lease revokes proposed at once by the leader (etcd limits revokes per second likewise). */
const MAX_REVOKES_IN_FLIGHT = 16;
/** Clock queries waiting for the leader's answer. */
const MAX_PENDING_QUERIES = 10_000;

function responseOf<R extends KvResponse['type']>(r: KvResult, type: R): Extract<KvResponse, { type: R }> {
  if (!r.ok) throw kvErrorToGrpc(r.error);
  if (r.response.type !== type) throw new GrpcError(GrpcStatus.INTERNAL, `synod: expected a ${type} response, got ${r.response.type}`);
  return r.response as Extract<KvResponse, { type: R }>;
}

export class LeaseService {
  readonly clock = new LeaseClock();
  private readonly pending = new Map<number, (ttl: number | null) => void>();
  private nextQuery = 1;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: LeaseDeps) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    for (const settle of this.pending.values()) settle(null);
    this.pending.clear();
  }

  /** Syncs the clock with the replicated leases and proposes the revoke of expired ones (leader only). */
  tick(now = performance.now()): void {
    const leader = this.deps.status().role === 'leader';
    this.clock.sync(leader ? this.deps.sm.leases() : [], leader, now);
    const room = MAX_REVOKES_IN_FLIGHT - this.clock.revokesInFlight;
    for (const id of this.clock.takeExpired(now, Math.max(0, room))) {
      this.deps.submit({ f: 'etcd', request: { type: 'lease-revoke', id }, internal: true }, this.deps.timeoutMs).then(
        () => undefined,
        () => this.clock.revokeFailed(id),
      );
    }
  }

  private lease(id: number): LeaseInfo | undefined {
    const r = this.deps.sm.read({ type: 'lease-time-to-live', id });
    return r.ok && r.response.type === 'lease-time-to-live' ? { id, ttl: r.response.grantedTtl } : undefined;
  }

  /** The leader's answer here (null: this member is not the leader). */
  private local(lease: number, renew: boolean): number | null {
    if (this.deps.status().role !== 'leader') return null;
    // Just elected and not yet synced: start the clock now (every lease at its full TTL).
    if (!this.clock.isLeading) this.clock.sync(this.deps.sm.leases(), true, performance.now());
    const info = this.lease(lease);
    return renew ? this.clock.renew(info, performance.now()) : this.clock.remaining(info, performance.now());
  }

  /** Renews a lease (or reads its remaining TTL) at the leader, wherever that is. */
  async query(lease: number, renew: boolean): Promise<number> {
    const here = this.local(lease, renew);
    if (here !== null) return here;
    const leader = this.deps.status().leader;
    if (leader === null) throw new GrpcError(GrpcStatus.UNAVAILABLE, 'etcdserver: no leader');
    if (this.pending.size >= MAX_PENDING_QUERIES) throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: too many requests');
    const id = this.nextQuery++;
    const ttl = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => settle(null), this.deps.timeoutMs);
      const settle = (v: number | null): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(v);
      };
      this.pending.set(id, settle);
      try {
        this.deps.sendPeer(leader, { type: 'lease-clock', id, lease, renew });
      } catch {
        settle(null);
      }
    });
    if (ttl === null) throw new GrpcError(GrpcStatus.UNAVAILABLE, 'etcdserver: leader changed or unreachable');
    return ttl;
  }

  /** A lease frame from a peer. */
  onFrame(from: NodeId, f: LeaseFrame): void {
    if (f.type === 'lease-clock-reply') return this.pending.get(f.id)?.(f.ttl);
    const ttl = this.local(f.lease, f.renew);
    try {
      this.deps.sendPeer(from, { type: 'lease-clock-reply', id: f.id, ttl });
    } catch { /* the peer left: it times out */ }
  }

  /** The user a lease write names for the check where it applies (none with auth off or no token). */
  private as(ctx: CallContext): { user?: string } {
    return this.deps.auth?.userField(ctx) ?? {};
  }

  handlers(): Pick<EtcdHandlers, 'leaseGrant' | 'leaseRevoke' | 'leaseTimeToLive' | 'leaseLeases' | 'leaseKeepAlive'> {
    const { submit, header, timeoutMs, minTtlSeconds } = this.deps;
    return {
      leaseGrant: async (req, ctx) => {
        const ttl = Math.max(int64ToNumber(req.TTL, 'TTL'), minTtlSeconds);
        const r = await submit({ f: 'etcd', request: { type: 'lease-grant', id: int64ToNumber(req.ID, 'ID'), ttl }, ...this.as(ctx) }, timeoutMs);
        const g = responseOf(r, 'lease-grant');
        return { header: header(r.revision), ID: g.id, TTL: g.ttl };
      },
      leaseRevoke: async (req, ctx) => {
        const id = int64ToNumber(req.ID, 'ID');
        // Revoking deletes the lease's keys: the state machine checks write permission on each (src/kv/state-machine.ts).
        const r = await submit({ f: 'etcd', request: { type: 'lease-revoke', id }, ...this.as(ctx) }, timeoutMs);
        responseOf(r, 'lease-revoke');
        return { header: header(r.revision) };
      },
      leaseTimeToLive: async (req, ctx) => {
        const id = int64ToNumber(req.ID, 'ID');
        let r: KvResult;
        try {
          r = await submit({ f: 'etcd', request: { type: 'lease-time-to-live', id, keys: req.keys } }, timeoutMs);
        } catch (err) {
          // etcd answers an unknown (expired) lease with TTL -1 rather than an error.
          if (err instanceof GrpcError && err.message === ERROR_MESSAGES['lease-not-found']) return { header: header(this.deps.sm.revision), ID: id, TTL: -1 };
          throw err;
        }
        const t = responseOf(r, 'lease-time-to-live');
        if (this.deps.auth?.enabled === true) for (const key of t.keys) this.deps.auth.read(ctx, key);
        const left = await this.query(id, false);
        return { header: header(r.revision), ID: id, TTL: left < 0 ? t.grantedTtl : left, grantedTTL: t.grantedTtl, keys: [...t.keys] };
      },
      leaseLeases: async () => {
        const r = await submit({ f: 'etcd', request: { type: 'lease-leases' } }, timeoutMs);
        return { header: header(r.revision), leases: responseOf(r, 'lease-leases').leases.map((l) => ({ ID: l.id })) };
      },
      leaseKeepAlive: (call) => this.keepAlive(call),
    };
  }

  /** LeaseKeepAlive: each request renews at the leader; TTL 0 answers a lease that is gone. */
  private async keepAlive(call: BidiCall<T.LeaseKeepAliveRequest, T.LeaseKeepAliveResponse>): Promise<void> {
    for await (const req of call.requests) {
      const id = int64ToNumber(req.ID, 'ID');
      const ttl = await this.query(id, true);
      if (!call.write({ header: this.deps.header(this.deps.sm.revision), ID: id, TTL: ttl })) await call.drained();
      if (call.cancelled) return;
    }
  }
}
