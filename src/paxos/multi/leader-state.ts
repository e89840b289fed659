// What a Multi-Paxos proposer keeps while it campaigns (phase 1 for every slot
// from `fromSlot` on) and while it leads (phase 2 per slot, reads, lease).

import type { NodeId, Slot } from '../../core/ids.js';
import { compareBallots, type Ballot } from '../ballot.js';
import type { Quorums } from '../quorums.js';
import { SlotMap } from './slot-map.js';
import type { AcceptedEntry, ConfigEpoch, SlotValue } from './types.js';

/** Phase 1 in progress. It must win a phase-1 quorum in EVERY configuration governing the slots the leader may propose. */
export class Candidacy<C> {
  /** Acceptors whose report is complete (every page received). */
  readonly complete = new Set<NodeId>();
  /** The highest-ballot proposal reported for each slot (P2c). */
  readonly reports = new Map<number, AcceptedEntry<C>>();

  constructor(
    readonly ballot: Ballot,
    readonly fromSlot: Slot,
    readonly configs: readonly ConfigEpoch[],
    readonly startedAt: number,
  ) {}

  members(): NodeId[] {
    return [...new Set(this.configs.flatMap((c) => c.members))];
  }

  merge(accepted: readonly AcceptedEntry<C>[]): void {
    for (const e of accepted) {
      if (e.slot < this.fromSlot) continue;
      const had = this.reports.get(e.slot);
      if (had === undefined || compareBallots(e.ballot, had.ballot) > 0) this.reports.set(e.slot, e);
    }
  }

  won(quorums: (c: ConfigEpoch) => Quorums): boolean {
    return this.configs.every((c) => c.members.filter((m) => this.complete.has(m)).length >= quorums(c).phase1);
  }
}

export interface InFlight<C> {
  readonly value: SlotValue<C>;
  /** Acceptors that accepted this slot under the leader's ballot (a handful: an array beats a Set). */
  readonly acks: NodeId[];
  sentAt: number;
}

export interface PendingRead {
  readonly ctx: number;
  readonly index: Slot;
  /** Confirmed once a phase-2 quorum acknowledged a heartbeat with this sequence number or later. */
  readonly seq: number;
}

/** Limits of a leader's queues. */
export const MAX_PENDING_READS = 10_000;

export class Leadership<C> {
  /** Slots whose value phase 1 fixed (reported, or a no-op for a gap), not yet sent. */
  readonly reproposals = new Map<number, SlotValue<C>>();
  readonly inflight = new SlotMap<InFlight<C>>();
  readonly reads: PendingRead[] = [];
  /** Highest heartbeat sequence number each acceptor acknowledged. */
  readonly acked = new Map<NodeId, number>();
  readonly heartbeatSentAt = new Map<number, number>();
  seq = 0;
  leaseUntil = -1;
  /** Reads are only answered once every slot phase 1 found is chosen (they may hold writes already acknowledged). */
  readonly readyFloor: Slot;

  constructor(
    readonly ballot: Ballot,
    /** The first slot of each configuration that phase 1 covered. */
    readonly prepared: ReadonlySet<number>,
    public nextSlot: Slot,
    readyFloor: Slot,
  ) {
    this.readyFloor = readyFloor;
  }

  /** The highest heartbeat sequence number acknowledged by a phase-2 quorum of every configuration (this node counts as acked). */
  confirmedSeq(self: NodeId, configs: readonly ConfigEpoch[], quorums: (c: ConfigEpoch) => Quorums): number {
    let confirmed = this.seq;
    for (const c of configs) {
      const seqs = c.members.map((m) => (m === self ? this.seq : (this.acked.get(m) ?? 0))).sort((a, b) => b - a);
      confirmed = Math.min(confirmed, seqs[quorums(c).phase2 - 1] ?? 0);
    }
    return confirmed;
  }

  /** Confirms heartbeats, extends the lease by `leaseTicks` from the confirmed heartbeat, and returns the reads now answerable. */
  confirm(self: NodeId, configs: readonly ConfigEpoch[], quorums: (c: ConfigEpoch) => Quorums, leaseTicks: number): PendingRead[] {
    const confirmed = this.confirmedSeq(self, configs, quorums);
    const sentAt = this.heartbeatSentAt.get(confirmed);
    if (sentAt !== undefined) this.leaseUntil = Math.max(this.leaseUntil, sentAt + leaseTicks);
    for (const s of [...this.heartbeatSentAt.keys()]) if (s < confirmed) this.heartbeatSentAt.delete(s);
    let served = 0;
    while (served < this.reads.length && (this.reads[served]?.seq ?? Infinity) <= confirmed) served++;
    return this.reads.splice(0, served);
  }

  /** Slots in flight sent at least `resendTicks` ago, in slot order, in batches of `maxBatch`. */
  stale(now: number, resendTicks: number, maxBatch: number): [number, InFlight<C>][][] {
    const all = this.inflight.entries().filter(([, f]) => now - f.sentAt >= resendTicks);
    const out: [number, InFlight<C>][][] = [];
    for (let i = 0; i < all.length; i += maxBatch) out.push(all.slice(i, i + maxBatch));
    return out;
  }
}
