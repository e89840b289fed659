// The leader's lease expiry clock (etcd's lessor, the timed half; the leases
// themselves are replicated state in src/kv/leases.ts). Only the leader's
// clock decides expiry, and it does so by proposing a lease-revoke through the
// log, so every member deletes the same keys at the same revision. A member
// that becomes leader starts every lease afresh at its full TTL (etcd's
// Promote): it never expires a lease at once for time it could not observe.
// Time is passed in (milliseconds), so the clock is deterministic in tests.

export interface LeaseInfo {
  readonly id: number;
  readonly ttl: number;
}

export class LeaseClock {
  /** Lease id → when it expires (ms), on the leader. */
  private readonly expiry = new Map<number, number>();
  private leading = false;
  /** Leases whose revoke has been proposed and not yet applied. */
  private readonly revoking = new Set<number>();

  get isLeading(): boolean {
    return this.leading;
  }

  /**
   * Brings the clock in line with the replicated leases and this member's
   * role: leases granted since are added at their full TTL, revoked ones
   * dropped; on becoming leader every lease restarts at its full TTL.
   */
  sync(leases: readonly LeaseInfo[], leader: boolean, nowMs: number): void {
    const became = leader && !this.leading;
    this.leading = leader;
    if (!leader) {
      this.expiry.clear();
      this.revoking.clear();
      return;
    }
    const live = new Set<number>();
    for (const l of leases) {
      live.add(l.id);
      if (became || !this.expiry.has(l.id)) this.expiry.set(l.id, nowMs + l.ttl * 1000);
    }
    for (const id of this.expiry.keys()) if (!live.has(id)) this.expiry.delete(id);
    for (const id of this.revoking) if (!live.has(id)) this.revoking.delete(id);
  }

  /** LeaseKeepAlive at the leader: the TTL granted again, or 0 when the lease is gone or already expired. */
  renew(lease: LeaseInfo | undefined, nowMs: number): number {
    if (!this.leading || lease === undefined) return 0;
    const at = this.expiry.get(lease.id);
    if (at !== undefined && at <= nowMs) return 0;
    this.expiry.set(lease.id, nowMs + lease.ttl * 1000);
    return lease.ttl;
  }

  /** Seconds left (rounded up), as LeaseTimeToLive reports it; -1 when unknown here. */
  remaining(lease: LeaseInfo | undefined, nowMs: number): number {
    if (!this.leading || lease === undefined) return -1;
    const at = this.expiry.get(lease.id) ?? nowMs + lease.ttl * 1000;
    return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }

  /** Expired leases not yet being revoked, at most `max`, soonest first; marked as being revoked. */
  takeExpired(nowMs: number, max: number): number[] {
    if (!this.leading) return [];
    const due = [...this.expiry].filter(([id, at]) => at <= nowMs && !this.revoking.has(id)).sort((a, b) => a[1] - b[1]).slice(0, max).map(([id]) => id);
    for (const id of due) this.revoking.add(id);
    return due;
  }

  /** A revoke proposal failed (leadership moved, timeout): try again on a later pass. */
  revokeFailed(id: number): void {
    this.revoking.delete(id);
  }

  get revokesInFlight(): number {
    return this.revoking.size;
  }
}
