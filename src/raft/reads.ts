// Raft §8 / thesis §6.4: linearizable reads without writing to the log.
//
// ReadIndex: the leader records its commit index, confirms it is still the
// leader with a heartbeat round answered by a quorum, then the read may be
// served once the state machine has applied that index. A leader must first
// have committed an entry of its own term (until then its commit index may be
// behind). Reads between two ready() calls share one heartbeat round.
//
// Lease reads (readOnly: 'lease'): with CheckQuorum, a follower that has heard
// from the leader ignores votes for an election timeout. A heartbeat round sent
// at tick t and answered by a quorum therefore guarantees no other leader before
// t + electionTimeout on the followers' clocks; the leader serves reads without a
// round until t + electionTimeout - leaseMarginTicks on its own clock. This is
// safe only if clocks drift by less than leaseMarginTicks per election timeout.

import type { LogIndex} from '../core/ids.js';
import { type NodeId } from '../core/ids.js';
import { committedIndex } from './membership.js';
import { Election } from './election.js';
import type { ReadIndexResponse } from './types.js';

export abstract class Reads<C, S> extends Election<C, S> {
  /** Tick at which the last quorum-confirmed read round was sent (lease start). */
  private leaseStartTick = -Infinity;
  protected readRoundWanted = false;

  readIndex(ctx: number): void {
    if (this.role === 'leader') {
      this.leaderRead(this.id, ctx);
    } else if (this.lead !== null) {
      if (this.forwardedReads.length >= this.opts.maxPendingReads) {
        this.outOutputs.push({ type: 'read-failed', ctx, leader: this.lead });
        return;
      }
      this.forwardedReads.push({ ctx, deadlineTick: this.now + this.opts.electionTimeoutTicks });
      this.send(this.lead, { type: 'ReadIndexRequest', term: this.term, ctx });
    } else {
      this.outOutputs.push({ type: 'read-failed', ctx, leader: null });
    }
  }

  protected leaderRead(from: NodeId, ctx: number): void {
    if (this.pendingReads.length + this.heldReads.length >= this.opts.maxPendingReads) {
      this.failRead(from, ctx);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Raft §8: not yet committed an entry of this term; hold the read until then.
      this.heldReads.push({ from, ctx });
      return;
    }
    const index = this.log.committed;
    const alone = this.conf.voters.length === 1 && this.conf.outgoing.length === 0;
    // Mutant 'stale-read': serve without confirming leadership.
    if (alone || this.opts.mutants.has('stale-read') || this.leaseValid()) {
      this.answerRead(from, ctx, index);
      return;
    }
    this.pendingReads.push({ from, ctx, index, round: this.readRound + 1 });
    this.readRoundWanted = true;
  }

  private leaseValid(): boolean {
    if (this.opts.readOnly !== 'lease' || this.leadTransferee !== null) return false;
    return this.leaseStartTick + this.opts.electionTimeoutTicks - this.opts.leaseMarginTicks > this.now;
  }

  private answerRead(from: NodeId, ctx: number, index: LogIndex): void {
    if (from === this.id) this.outOutputs.push({ type: 'read-ready', ctx, index });
    else this.send(from, { type: 'ReadIndexResponse', term: this.term, ctx, index });
  }

  protected override bcastHeartbeat(): void {
    this.readRoundWanted = false;
    super.bcastHeartbeat();
  }

  /** Called when a read round may have been confirmed or this leader's first entry committed. */
  protected override onReadsMayProceed(): void {
    if (this.role !== 'leader') return;
    if (this.heldReads.length > 0 && this.log.term(this.log.committed) === this.term) {
      const held = this.heldReads;
      this.heldReads = [];
      for (const r of held) this.leaderRead(r.from, r.ctx);
    }
    const confirmed = committedIndex(this.conf, (id) => (id === this.id ? this.readRoundSent : (this.progress.get(id)?.readRound ?? 0)));
    const sentAt = this.readRoundTick.get(confirmed);
    if (sentAt !== undefined) {
      this.leaseStartTick = Math.max(this.leaseStartTick, sentAt);
      for (const r of this.readRoundTick.keys()) if (r < confirmed) this.readRoundTick.delete(r);
    }
    let k = 0;
    while (k < this.pendingReads.length && (this.pendingReads[k]?.round ?? Infinity) <= confirmed) k++;
    if (k === 0) return;
    const done = this.pendingReads.splice(0, k);
    for (const r of done) this.answerRead(r.from, r.ctx, r.index);
  }

  protected handleReadIndexRequest(from: NodeId, ctx: number): void {
    if (this.role === 'leader') this.leaderRead(from, ctx);
    else this.send(from, { type: 'ReadIndexResponse', term: this.term, ctx, index: null });
  }

  protected handleReadIndexResponse(m: ReadIndexResponse): void {
    const i = this.forwardedReads.findIndex((r) => r.ctx === m.ctx);
    if (i < 0) return;
    this.forwardedReads.splice(i, 1);
    if (m.index === null) this.outOutputs.push({ type: 'read-failed', ctx: m.ctx, leader: this.lead });
    else this.outOutputs.push({ type: 'read-ready', ctx: m.ctx, index: m.index });
  }

  protected override clearLeaderState(): void {
    super.clearLeaderState();
    this.leaseStartTick = -Infinity;
    this.readRoundWanted = false;
  }
}
