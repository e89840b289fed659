// A session: one etcd lease kept alive for as long as its owner runs, as in
// etcd's clientv3/concurrency. Locks and elections attach their keys to it, so
// a process that dies or stops renewing loses them when the lease expires.
//
// "Lost" is decided on the client's own monotonic clock, conservatively: a
// keep-alive renews the lease at the server when it arrives, which is after
// it was sent, so the lease lives at least until send time + TTL. The session
// counts its lease valid only until (send time of the last confirmed renewal)
// + TTL, and reports it lost at that moment if no later renewal was confirmed.
// This holds if the client's clock does not run slower than the server's by
// more than the margin; it says nothing about pauses of the process itself
// (see docs/coordination.md: fencing tokens).

import { EventEmitter } from 'node:events';
import type { EtcdClient } from '../server/client.js';
import { CoordError, SessionClosedError, SessionLostError } from './errors.js';
import { leaseGrant, leaseHex, leaseRevoke, toRevision } from './etcd-ops.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface SessionOptions {
  /** Lease TTL in seconds (etcd's concurrency package defaults to 60). The server may raise it to its minimum. */
  readonly ttlSeconds?: number;
}

export const DEFAULT_TTL_SECONDS = 60;
/** Renewals in flight on one stream without an answer; beyond it the stream is considered stuck. */
const MAX_UNANSWERED = 8;

export interface SessionEvents {
  lost: [SessionLostError];
}

export class Session extends EventEmitter<SessionEvents> {
  /** Lease ID, decimal (as the etcd API carries it). */
  readonly leaseId: string;
  /** Lease ID as lower-case hex, as it appears in lock and election keys. */
  readonly leaseIdHex: string;
  /** The TTL the server granted. */
  readonly ttlSeconds: number;
  private readonly controller = new AbortController();
  private validUntil: number;
  private stream: Any = null;
  private endpointIndex = 0;
  private sentAt: number[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Keys attached by locks and elections of this process, so two of them never share one. */
  private readonly claimed = new Set<string>();

  private constructor(readonly client: EtcdClient, leaseId: string, ttlSeconds: number, grantSentAt: number) {
    super();
    this.leaseId = leaseId;
    this.leaseIdHex = leaseHex(leaseId);
    this.ttlSeconds = ttlSeconds;
    this.validUntil = grantSentAt + ttlSeconds * 1000;
  }

  /** Grants a lease and starts keeping it alive. */
  static async create(client: EtcdClient, opts: SessionOptions = {}): Promise<Session> {
    const ttl = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1) throw new CoordError(`ttlSeconds must be a whole number >= 1, got ${ttl}`);
    const sent = performance.now();
    const grant = await leaseGrant(client, ttl);
    const s = new Session(client, grant.id, grant.ttlSeconds, sent);
    s.start();
    return s;
  }

  /** Aborts when the session ends: reason SessionLostError (lease gone) or SessionClosedError (closed). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.signal.aborted && this.signal.reason instanceof SessionLostError;
  }

  /** Milliseconds (monotonic clock, performance.now()) until which the lease is known to be alive. */
  get validUntilMs(): number {
    return this.validUntil;
  }

  /** Reserves `key` for one lock or election of this session; false if it is already in use. */
  claim(key: string): boolean {
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }

  unclaim(key: string): void {
    this.claimed.delete(key);
  }

  private start(): void {
    const intervalMs = Math.max(100, (this.ttlSeconds * 1000) / 3);
    this.renewTimer = setInterval(() => this.renew(), intervalMs);
    this.armExpiry();
    this.renew();
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const ms = Math.max(0, this.validUntil - performance.now());
    this.expiryTimer = setTimeout(() => {
      if (performance.now() >= this.validUntil) this.end(new SessionLostError(`lease ${this.leaseIdHex}: no renewal confirmed within its TTL of ${this.ttlSeconds}s`));
      else this.armExpiry();
    }, ms);
  }

  private renew(): void {
    if (this.signal.aborted) return;
    if (this.sentAt.length >= MAX_UNANSWERED) this.dropStream();
    this.stream ??= this.openStream();
    this.sentAt.push(performance.now());
    this.stream.write({ ID: this.leaseId });
  }

  private openStream(): Any {
    const endpoint = this.client.endpoints[this.endpointIndex % this.client.endpoints.length] as string;
    const stream = this.client.streamAt(endpoint, 'Lease', 'LeaseKeepAlive');
    stream.on('data', (res: Any) => {
      if (stream !== this.stream) return;
      const sent = this.sentAt.shift();
      const ttl = toRevision(res.TTL, 'TTL');
      if (ttl <= 0) return this.end(new SessionLostError(`lease ${this.leaseIdHex} expired or was revoked`));
      if (sent !== undefined && sent + ttl * 1000 > this.validUntil) {
        this.validUntil = sent + ttl * 1000;
        this.armExpiry();
      }
    });
    // A failed stream is replaced at the next renewal, on the next endpoint.
    stream.on('error', () => {
      if (stream === this.stream) this.dropStream();
    });
    stream.on('end', () => {
      if (stream === this.stream) this.dropStream();
    });
    return stream;
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = null;
    this.sentAt = [];
    this.endpointIndex++;
    s?.cancel();
  }

  private end(reason: SessionLostError | SessionClosedError): void {
    if (this.signal.aborted) return;
    clearInterval(this.renewTimer);
    clearTimeout(this.expiryTimer);
    const s = this.stream;
    this.stream = null;
    s?.cancel();
    this.controller.abort(reason);
    if (reason instanceof SessionLostError) {
      // The server may still count the lease alive (we could not confirm it in
      // time); revoke it so nobody waits on keys we no longer stand behind.
      leaseRevoke(this.client, this.leaseId).catch(() => undefined);
      this.emit('lost', reason);
    }
  }

  /**
   * Stops renewing and revokes the lease, deleting every key attached to it.
   * Resolves true if the revoke was confirmed; false if it failed (the lease
   * then expires after its TTL) or the session was already lost.
   */
  async close(): Promise<boolean> {
    if (this.signal.aborted) return false;
    this.end(new SessionClosedError(`session ${this.leaseIdHex} closed`));
    try {
      await leaseRevoke(this.client, this.leaseId);
      return true;
    } catch {
      return false;
    }
  }
}
