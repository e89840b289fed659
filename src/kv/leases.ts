// Leases (etcd's lessor, the replicated half): which leases exist, their
// granted TTL, and which keys are attached to each. Expiry is not here: time
// is the server's. The leader keeps an expiry clock per lease (refreshed by
// LeaseKeepAlive, and reset for every lease when it becomes leader, as etcd
// does) and proposes a lease-revoke when one runs out.

import { assert } from '../core/assert.js';

/** What a backend and a snapshot keep of a lease; attachments are derived from the keys. */
export interface LeaseRecord {
  readonly id: number;
  readonly ttl: number;
}

/** etcd's MaxLeaseTTL, seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

export class LeaseTable {
  private readonly leases = new Map<number, LeaseRecord>();
  private readonly attached = new Map<number, Set<string>>();

  has(id: number): boolean {
    return this.leases.has(id);
  }

  get(id: number): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  get size(): number {
    return this.leases.size;
  }

  /** `id` 0: the first free id from `suggested` up (the grant's log index: unique and the same on every replica). */
  pickId(id: number, suggested: number): number {
    if (id !== 0) return id;
    let pick = Math.max(1, suggested);
    while (this.leases.has(pick)) pick++;
    return pick;
  }

  grant(lease: LeaseRecord): void {
    assert(!this.leases.has(lease.id), 'leases: grant of an existing lease');
    this.leases.set(lease.id, lease);
    this.attached.set(lease.id, new Set());
  }

  /** Ends a lease; returns its keys in ascending order (the caller deletes them). */
  revoke(id: number): string[] {
    const keys = this.attached.get(id);
    assert(keys !== undefined && this.leases.has(id), 'leases: revoke of a missing lease');
    this.leases.delete(id);
    this.attached.delete(id);
    return [...keys].sort();
  }

  keysOf(id: number): string[] {
    return [...(this.attached.get(id) ?? [])].sort();
  }

  /** A key's live version moved from lease `from` to lease `to` (0: none). */
  move(key: string, from: number, to: number): void {
    if (from === to) return;
    if (from !== 0) this.attached.get(from)?.delete(key);
    if (to !== 0) this.attached.get(to)?.add(key);
  }

  records(): LeaseRecord[] {
    return [...this.leases.values()].sort((a, b) => a.id - b.id);
  }

  /** Rebuilds from stored records and the live keys' leases. */
  load(records: readonly LeaseRecord[], liveKeys: Iterable<readonly [string, number]>): void {
    this.leases.clear();
    this.attached.clear();
    for (const r of records) this.grant(r);
    for (const [key, lease] of liveKeys) if (lease !== 0) this.attached.get(lease)?.add(key);
  }
}
