// The state every Raft node keeps (Raft Figure 2), its output buffers and the
// transitions shared by all roles. The protocol is layered on top of this
// class: replication.ts (log replication, commit, snapshots, membership),
// election.ts (elections, PreVote, CheckQuorum, transfer) and node.ts (the
// public ReplicatedLog API, ReadIndex).

import type { Envelope } from '../core/effects.js';
import { LogIndex, Term, type NodeId } from '../core/ids.js';
import type { LogOutput } from '../core/replicated-log.js';
import { RaftLog } from './log.js';
import { isLearner, isVoter } from './membership.js';
import type { ResolvedOptions } from './options.js';
import type { Progress } from './progress.js';
import type { ConfState, Entry, RaftMessage, RaftRole, RaftWrite, Snapshot } from './types.js';

/** A linearizable read waiting at the leader for its heartbeat round (Raft §8). */
export interface PendingRead {
  /** The node that asked: this node, or a follower that forwarded it. */
  readonly from: NodeId;
  readonly ctx: number;
  readonly index: LogIndex;
  readonly round: number;
}

/** A read forwarded to the leader, failed if no answer comes within an election timeout. */
export interface ForwardedRead {
  readonly ctx: number;
  readonly deadlineTick: number;
}

/** A snapshot being received in chunks (Raft §7). */
export interface IncomingSnapshot {
  readonly index: LogIndex;
  readonly term: Term;
  readonly chunks: string[];
  received: number;
}

export abstract class RaftBase<C, S> {
  readonly id: NodeId;
  protected readonly opts: ResolvedOptions<C, S>;
  protected readonly log = new RaftLog<C>();

  // Raft Figure 2, persistent state.
  protected term = Term(0);
  protected vote: NodeId | null = null;

  protected role: RaftRole = 'follower';
  protected lead: NodeId | null = null;
  protected conf: ConfState;
  /** Configurations applied, by the index of their entry (kept back to the snapshot, for compaction metadata). */
  protected confHistory: { index: LogIndex; conf: ConfState }[] = [];

  /** Ticks since the last election timer reset. */
  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  /** Total ticks since start: the clock of leases and read deadlines. */
  protected now = 0;
  /** Lease reads: a recovered node refuses votes for one election timeout (it may have confirmed a lease before the crash). */
  protected quietAfterRestart = false;

  // Candidate state.
  protected votes = new Map<NodeId, boolean>();

  // Leader state.
  protected progress = new Map<NodeId, Progress>();
  /** The last conf-change entry proposed; another may be proposed once it is committed. */
  protected pendingConfIndex = LogIndex(0);
  protected uncommittedBytes = 0;
  protected leadTransferee: NodeId | null = null;
  protected transferElapsed = 0;
  protected needsBroadcast = false;

  // Linearizable reads.
  protected pendingReads: PendingRead[] = [];
  /** Reads asked before this leader committed an entry of its term (Raft §8): held back. */
  protected heldReads: { from: NodeId; ctx: number }[] = [];
  protected forwardedReads: ForwardedRead[] = [];
  protected readRound = 0;
  protected readRoundSent = 0;
  /** Tick at which each read round was sent (lease reads). */
  protected readRoundTick = new Map<number, number>();

  // Snapshots.
  protected snapshotData: S | null = null;
  private snapshotText: { index: LogIndex; text: string } | null = null;
  protected incoming: IncomingSnapshot | null = null;

  // Output buffers, handed over by ready().
  protected outSendNow: Envelope<RaftMessage<C>>[] = [];
  protected outWrites: RaftWrite<C, S>[] = [];
  protected outSendAfter: Envelope<RaftMessage<C>>[] = [];
  protected outOutputs: LogOutput<C, S>[] = [];
  /** The last committed index handed out as a 'committed' output. */
  protected emittedIndex = LogIndex(0);
  /** The hard state last written (to write it only when it changes). */
  protected written = { term: Term(0), vote: null as NodeId | null, commit: LogIndex(0) };

  constructor(opts: ResolvedOptions<C, S>, conf: ConfState) {
    this.opts = opts;
    this.id = opts.id;
    this.conf = conf;
    this.resetElectionTimer();
  }

  // ------------------------------------------------------------ outputs

  /** A message that may leave only once this batch's writes are durable. */
  protected send(to: NodeId, msg: RaftMessage<C>): void {
    this.outSendAfter.push({ to, msg });
  }

  /** A leader's replication message: needs none of this batch's writes (thesis §10.2.1). */
  protected sendEarly(to: NodeId, msg: RaftMessage<C>): void {
    this.outSendNow.push({ to, msg });
  }

  protected event(kind: string, detail: Record<string, unknown>): void {
    this.outOutputs.push({ type: 'event', event: { kind, detail: { node: this.id, ...detail } } });
  }

  /** Entries to persist; appended to the previous entries write when they continue it. */
  protected writeEntries(entries: readonly Entry<C>[]): void {
    if (entries.length === 0) return;
    const last = this.outWrites[this.outWrites.length - 1];
    const first = entries[0];
    if (last !== undefined && last.type === 'entries' && first !== undefined) {
      const prev = last.entries[last.entries.length - 1];
      if (prev !== undefined && prev.index + 1 === first.index) {
        for (const e of entries) (last.entries as Entry<C>[]).push(e);
        return;
      }
    }
    this.outWrites.push({ type: 'entries', entries: [...entries] });
  }

  protected writeEntry(entry: Entry<C>): void {
    const last = this.outWrites[this.outWrites.length - 1];
    if (last !== undefined && last.type === 'entries') {
      const prev = last.entries[last.entries.length - 1];
      if (prev !== undefined && prev.index + 1 === entry.index) {
        (last.entries as Entry<C>[]).push(entry);
        return;
      }
    }
    this.outWrites.push({ type: 'entries', entries: [entry] });
  }

  protected writeSnapshot(snapshot: Snapshot<S>): void {
    this.outWrites.push({ type: 'snapshot', snapshot });
  }

  /**
   * Adds the hard-state write when term or vote changed since the last one, or
   * when the commit index changed and this batch writes something anyway. The
   * commit index is volatile state (Raft Figure 2) kept only to re-apply faster
   * after a restart, so it never costs a write of its own: a batch that only
   * advances it applies and replies without waiting for the disk.
   */
  protected flushHardState(): void {
    const w = this.written;
    if (w.term === this.term && w.vote === this.vote && (w.commit === this.log.committed || this.outWrites.length === 0)) return;
    // Mutant 'forget-vote': the vote never reaches the disk.
    const vote = this.opts.mutants.has('forget-vote') ? null : this.vote;
    this.outWrites.push({ type: 'hard-state', term: this.term, vote, commit: this.log.committed });
    w.term = this.term;
    w.vote = this.vote;
    w.commit = this.log.committed;
  }

  // ------------------------------------------------------------ snapshots

  protected snapshotEncoded(): string {
    if (this.snapshotText === null || this.snapshotText.index !== this.log.snapshot.index) {
      const text = this.snapshotData === null ? '' : this.opts.snapshotCodec.encode(this.snapshotData);
      this.snapshotText = { index: this.log.snapshot.index, text };
    }
    return this.snapshotText.text;
  }

  // ------------------------------------------------------------ roles

  protected get isVoter(): boolean {
    return isVoter(this.conf, this.id);
  }

  /** The role a non-leader, non-candidate node has: follower, or learner when it cannot vote. */
  protected passiveRole(): RaftRole {
    return !this.isVoter && (isLearner(this.conf, this.id) || this.conf.voters.length === 0) ? 'learner' : 'follower';
  }

  protected setRole(role: RaftRole): void {
    if (role === this.role) return;
    this.event('role-change', { from: this.role, to: role, term: this.term });
    this.role = role;
  }

  protected setTerm(term: Term): void {
    if (term === this.term) return;
    this.event('term-change', { from: this.term, to: term });
    this.term = term;
    this.vote = null;
  }

  protected resetElectionTimer(): void {
    this.electionElapsed = 0;
    const t = this.opts.electionTimeoutTicks;
    // Raft §5.2: randomized timeouts in [T, 2T) make split votes rare.
    this.randomizedElectionTimeout = this.opts.rng.int(t, 2 * t - 1);
  }

  /** Raft Figure 2 "All servers": a higher term makes any node a follower. */
  protected becomeFollower(term: Term, lead: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.setTerm(term);
    this.lead = lead;
    this.votes.clear();
    this.resetElectionTimer();
    this.heartbeatElapsed = 0;
    if (wasLeader) this.clearLeaderState();
    this.failForwardedReadsIfLeaderChanged();
    this.setRole(this.passiveRole());
  }

  protected clearLeaderState(): void {
    this.progress.clear();
    if (this.leadTransferee !== null) this.event('transfer-ended', { to: this.leadTransferee, reason: 'no longer leader' });
    this.leadTransferee = null;
    this.uncommittedBytes = 0;
    this.needsBroadcast = false;
    for (const r of this.pendingReads) this.failRead(r.from, r.ctx);
    for (const r of this.heldReads) this.failRead(r.from, r.ctx);
    this.pendingReads = [];
    this.heldReads = [];
    this.readRoundTick.clear();
  }

  /** Tells the asker a read cannot be served here. */
  protected failRead(from: NodeId, ctx: number): void {
    if (from === this.id) this.outOutputs.push({ type: 'read-failed', ctx, leader: this.lead === this.id ? null : this.lead });
    else this.send(from, { type: 'ReadIndexResponse', term: this.term, ctx, index: null });
  }

  private failForwardedReadsIfLeaderChanged(): void {
    for (const r of this.forwardedReads) this.outOutputs.push({ type: 'read-failed', ctx: r.ctx, leader: this.lead });
    this.forwardedReads = [];
  }

  protected confAt(index: number): ConfState {
    let conf = this.log.snapshot.conf;
    for (const h of this.confHistory) if (h.index <= index) conf = h.conf;
    return conf;
  }
}
