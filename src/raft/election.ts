// Raft §5.2 leader election, thesis §9.6 PreVote, thesis §6.2 CheckQuorum and
// thesis §3.10 leadership transfer.

import { LogIndex, Term, type NodeId } from '../core/ids.js';
import { hasQuorum, isVoter, voteResult } from './membership.js';
import { Snapshots } from './snapshots.js';
import type { PreVote, RequestResult, RequestVote } from './types.js';

export abstract class Election<C, S> extends Snapshots<C, S> {
  tick(): void {
    this.now++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
    this.expireForwardedReads();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.quietAfterRestart && this.electionElapsed >= this.opts.electionTimeoutTicks) this.quietAfterRestart = false;
    if (this.isVoter && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.opts.preVote ? 'pre' : 'real');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.opts.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.opts.checkQuorum && !this.quorumActive()) {
        // Thesis §6.2: a leader that cannot reach a quorum steps down.
        this.event('step-down', { reason: 'check-quorum', term: this.term });
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) {
        this.event('transfer-aborted', { to: this.leadTransferee, reason: 'timeout' });
        this.leadTransferee = null;
      }
    }
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
      this.resendStalledSnapshots(this.opts.heartbeatTicks);
    }
  }

  /** Heard from a quorum since the last check (and forget it for the next one). */
  private quorumActive(): boolean {
    const ok = hasQuorum(this.conf, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
    for (const pr of this.progress.values()) pr.recentActive = false;
    return ok;
  }

  private expireForwardedReads(): void {
    if (this.forwardedReads.length === 0) return;
    const keep = [];
    for (const r of this.forwardedReads) {
      if (r.deadlineTick > this.now) keep.push(r);
      else this.outOutputs.push({ type: 'read-failed', ctx: r.ctx, leader: this.lead });
    }
    this.forwardedReads = keep;
  }

  /**
   * 'pre': a PreVote round that changes no one's term (thesis §9.6);
   * 'real': Raft §5.2; 'transfer': after TimeoutNow, voters skip the lease check.
   */
  protected campaign(kind: 'pre' | 'real' | 'transfer'): void {
    const voters = [...new Set([...this.conf.voters, ...this.conf.outgoing])];
    if (kind === 'pre') {
      this.setRole('precandidate');
      this.lead = null;
    } else {
      // Raft §5.2: increment currentTerm and vote for self (persisted before any RequestVote leaves).
      this.setTerm(Term(this.term + 1));
      this.vote = this.id;
      this.lead = null;
      this.setRole('candidate');
    }
    this.votes.clear();
    this.resetElectionTimer();
    this.votes.set(this.id, true);
    if (this.tally(kind === 'pre')) return;
    const lastLogIndex = this.log.lastIndex;
    const lastLogTerm = this.log.lastTerm;
    for (const v of voters) {
      if (v === this.id) continue;
      if (kind === 'pre') {
        const m: PreVote = { type: 'PreVote', term: Term(this.term + 1), lastLogIndex, lastLogTerm };
        this.send(v, m);
      } else {
        const m: RequestVote = { type: 'RequestVote', term: this.term, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' };
        this.send(v, m);
      }
    }
  }

  /** Counts votes; returns true when the round is decided. */
  private tally(pre: boolean): boolean {
    const result = voteResult(this.conf, this.votes);
    if (result === 'pending') return false;
    if (result === 'lost') this.becomeFollower(this.term, null);
    else if (pre) this.campaign('real');
    else this.becomeLeader();
    return true;
  }

  protected handleVoteResponse(from: NodeId, granted: boolean, pre: boolean): void {
    if (this.role !== (pre ? 'precandidate' : 'candidate')) return;
    this.votes.set(from, granted);
    this.tally(pre);
  }

  protected handleRequestVote(from: NodeId, m: RequestVote): void {
    // Raft §5.2: one vote per term, first come first served; etcd-io/raft also
    // refuses while a leader of this term is known.
    const canVote = this.vote === from || (this.vote === null && this.lead === null) || this.opts.mutants.has('double-vote');
    // Raft §5.4.1: only for a candidate whose log is at least as up-to-date.
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (granted) {
      this.vote = from;
      this.electionElapsed = 0;
      this.event('vote-granted', { to: from, term: this.term });
    }
    this.send(from, { type: 'RequestVoteResponse', term: this.term, granted });
  }

  protected handlePreVote(from: NodeId, m: PreVote): void {
    // Thesis §9.6: grant if a real vote at m.term could be granted; change nothing.
    const granted = m.term > this.term && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    this.send(from, { type: 'PreVoteResponse', term: granted ? m.term : this.term, granted });
  }

  /** Thesis §6.2 / §9.6: a follower that hears from a leader ignores votes for an election timeout. */
  protected inLease(): boolean {
    return this.opts.checkQuorum && (this.lead !== null || this.quietAfterRestart) && this.electionElapsed < this.opts.electionTimeoutTicks;
  }

  protected becomeLeader(): void {
    this.setRole('leader');
    this.lead = this.id;
    this.progress.clear();
    this.syncProgress();
    // Conservative (etcd-io/raft): a configuration change may be in the uncommitted tail.
    this.pendingConfIndex = this.log.lastIndex;
    this.uncommittedBytes = 0;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    this.event('election-won', { term: this.term, lastIndex: this.log.lastIndex });
    // Raft §8: a no-op entry of this term lets the leader commit (and learn the commit index).
    this.appendAsLeader({ type: 'noop' });
  }

  // ------------------------------------------------------------ leadership transfer (thesis §3.10)

  /** Hands leadership to `to`: proposals are refused until it takes over or an election timeout passes. */
  transferLeadership(to: NodeId): RequestResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.lead };
    if (to === this.id) return { ok: true };
    if (!isVoter(this.conf, to)) return { ok: false, reason: 'invalid', message: `node ${to} is not a voter` };
    if (this.leadTransferee === to) return { ok: true };
    this.leadTransferee = to;
    this.electionElapsed = 0;
    this.event('transfer-started', { to, term: this.term });
    this.onMatchAdvanced(to);
    if (this.leadTransferee === to) this.sendAppends(to);
    return { ok: true };
  }

  protected override onMatchAdvanced(from: NodeId): void {
    if (from !== this.leadTransferee) return;
    const pr = this.progress.get(from);
    if (pr === undefined || pr.match !== this.log.lastIndex) return;
    // The target's log is up to date: it can win at once.
    this.sendEarly(from, { type: 'TimeoutNow', term: this.term });
    this.event('transfer-timeout-now', { to: from, term: this.term, lastIndex: LogIndex(this.log.lastIndex) });
  }

  protected handleTimeoutNow(): void {
    if (!this.isVoter) return;
    this.event('transfer-campaign', { term: this.term });
    this.campaign('transfer');
  }
}
