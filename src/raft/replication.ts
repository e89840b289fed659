// Raft §5.3 log replication and §5.4.2 commitment, with etcd-io/raft's flow
// control (probe / replicate / snapshot, in-flight windows) and thesis §3.5
// fast back-off. The follower side of AppendEntries and heartbeats is here too.

import { assert } from '../core/assert.js';
import { LogIndex, type NodeId } from '../core/ids.js';
import { RaftBase } from './base.js';
import { applyConfChange, committedIndex, isJoint, isVoter, members } from './membership.js';
import { Progress } from './progress.js';
import type { AppendEntries, AppendEntriesResponse, ConfChange, Entry, Heartbeat, HeartbeatResponse } from './types.js';

export type NewEntry<C> = { readonly type: 'command'; readonly command: C } | { readonly type: 'noop' } | { readonly type: 'conf'; readonly change: ConfChange };

const ENTRY_OVERHEAD_BYTES = 16;

export abstract class Replication<C, S> extends RaftBase<C, S> {
  // ------------------------------------------------------------ hooks for upper layers

  /** Send the current snapshot's next chunk to a follower in snapshot state (snapshots.ts). */
  protected abstract sendSnapshotChunk(to: NodeId, pr: Progress): void;
  /** A follower's progress advanced: a leadership transfer may proceed. */
  protected abstract onMatchAdvanced(from: NodeId): void;
  /** The leader committed an entry of its own term for the first time, or a read round was confirmed. */
  protected abstract onReadsMayProceed(): void;

  // ------------------------------------------------------------ leader: appending

  protected appendAsLeader(e: NewEntry<C>): Entry<C> {
    const index = LogIndex(this.log.lastIndex + 1);
    let entry: Entry<C>;
    switch (e.type) {
      case 'command':
        entry = { type: 'command', index, term: this.term, bytes: ENTRY_OVERHEAD_BYTES + this.opts.commandBytes(e.command), command: e.command };
        break;
      case 'noop':
        entry = { type: 'noop', index, term: this.term, bytes: ENTRY_OVERHEAD_BYTES };
        break;
      case 'conf':
        entry = { type: 'conf', index, term: this.term, bytes: ENTRY_OVERHEAD_BYTES * 4, change: e.change };
        this.pendingConfIndex = index;
        break;
    }
    this.log.appendOne(entry);
    this.writeEntry(entry);
    this.uncommittedBytes += entry.bytes;
    // Proposals between two ready() calls go out in one AppendEntries per follower.
    this.needsBroadcast = true;
    return entry;
  }

  protected newProgress(): Progress {
    return new Progress(LogIndex(this.log.lastIndex + 1), this.opts.maxInflightMsgs, this.opts.maxInflightBytes);
  }

  /** Progress for every member but this node (after election or a configuration change). */
  protected syncProgress(): void {
    const want = new Set(members(this.conf).filter((m) => m !== this.id));
    for (const id of [...this.progress.keys()]) if (!want.has(id)) this.progress.delete(id);
    for (const id of want) if (!this.progress.has(id)) this.progress.set(id, this.newProgress());
  }

  // ------------------------------------------------------------ leader: sending

  /** One AppendEntries (or a snapshot chunk) to `to`, if its flow control allows. Returns whether anything was sent. */
  protected sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.paused) return false;
    const prevLogIndex = LogIndex(pr.next - 1);
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === null) {
      // Raft §7: the entries this follower needs are compacted away.
      pr.becomeSnapshot(this.log.snapshot.index);
      this.event('snapshot-sent', { to, index: this.log.snapshot.index, term: this.log.snapshot.term });
      this.sendSnapshotChunk(to, pr);
      return true;
    }
    const last = this.log.lastIndex;
    const entries = pr.next <= last ? this.log.slice(pr.next, last, this.opts.maxSizePerMsg, this.opts.maxEntriesPerMsg) : [];
    if (entries.length === 0 && !sendIfEmpty && pr.sentCommit >= this.log.committed) return false;
    const msg: AppendEntries<C> = { type: 'AppendEntries', term: this.term, prevLogIndex, prevLogTerm, entries, leaderCommit: this.log.committed };
    this.sendEarly(to, msg);
    let bytes = 0;
    for (const e of entries) bytes += e.bytes;
    pr.sentCommit = this.log.committed;
    pr.sentEntries(LogIndex(prevLogIndex + entries.length), entries.length, bytes);
    return true;
  }

  /** As many AppendEntries as the window allows (pipelining in replicate state). */
  protected sendAppends(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined || !this.sendAppend(to, false)) return;
    while (pr.state === 'replicate' && pr.next <= this.log.lastIndex && this.sendAppend(to, false)) {
      // keep filling the window
    }
  }

  protected bcastAppend(): void {
    this.needsBroadcast = false;
    for (const id of this.progress.keys()) this.sendAppends(id);
  }

  /** Raft §5.2 heartbeats; each opens a read round (Raft §8) that follower answers confirm. */
  protected bcastHeartbeat(): void {
    const round = ++this.readRound;
    this.readRoundSent = round;
    this.readRoundTick.set(round, this.now);
    for (const [id, pr] of this.progress) {
      const msg: Heartbeat = { type: 'Heartbeat', term: this.term, commit: LogIndex(Math.min(pr.match, this.log.committed)), readRound: round };
      this.sendEarly(id, msg);
    }
  }

  // ------------------------------------------------------------ leader: receiving

  protected handleAppendEntriesResponse(from: NodeId, m: AppendEntriesResponse): void {
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (!m.success) {
      this.handleRejection(from, pr, m);
      return;
    }
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'replicate') pr.inflights.freeTo(m.index);
      if (this.maybeCommit()) this.needsBroadcast = true;
      this.onMatchAdvanced(from);
      this.sendAppends(from);
    } else if (pr.state === 'replicate') {
      pr.inflights.freeTo(m.index);
      this.sendAppends(from);
    }
  }

  private handleRejection(from: NodeId, pr: Progress, m: AppendEntriesResponse): void {
    // A refusal of entries already matched is stale (reordered messages).
    if (m.index <= pr.match) return;
    if (pr.state === 'probe' && pr.next - 1 !== m.index) return;
    if (pr.state === 'snapshot') return;
    // Thesis §3.5 fast back-off: skip the follower's whole conflicting term.
    let hint = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const j = this.log.lastIndexWithTermAtMost(m.index, m.conflictTerm);
      if (this.log.term(j) === m.conflictTerm) hint = LogIndex(j + 1);
    }
    pr.becomeProbe();
    pr.next = LogIndex(Math.max(pr.match + 1, Math.min(m.index, hint)));
    this.sendAppend(from, true);
  }

  protected handleHeartbeatResponse(from: NodeId, m: HeartbeatResponse): void {
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (m.readRound > pr.readRound) {
      pr.readRound = m.readRound;
      this.onReadsMayProceed();
    }
    if (pr.match < this.log.lastIndex) {
      // A lost AppendEntries shows here: free one window slot and send from `next`;
      // a follower missing the predecessor refuses it, and probing repairs the gap.
      if (pr.state === 'replicate' && pr.inflights.full) pr.inflights.freeFirst();
      this.sendAppend(from, true);
      this.sendAppends(from);
    }
  }

  /** Raft §5.3, §5.4.2: advance commit to the highest index on a quorum, if it is of this term. */
  protected maybeCommit(): boolean {
    if (this.conf.voters.length === 0) return false;
    const idx = committedIndex(this.conf, (id) => (id === this.id ? this.log.stableIndex : (this.progress.get(id)?.match ?? 0)));
    if (idx <= this.log.committed) return false;
    // Raft §5.4.2 (Figure 8): counting replicas commits only entries of the current term.
    if (this.log.term(idx) !== this.term && !this.opts.mutants.has('commit-old-term')) return false;
    this.commitTo(LogIndex(idx));
    return true;
  }

  // ------------------------------------------------------------ follower

  protected handleAppendEntries(from: NodeId, m: AppendEntries<C>): void {
    this.lead = from;
    this.electionElapsed = 0;
    const reply = (success: boolean, index: number, conflictTerm = 0, conflictIndex = 0): void => {
      const r: AppendEntriesResponse = { type: 'AppendEntriesResponse', term: this.term, success, index: LogIndex(index), conflictTerm: conflictTerm as AppendEntriesResponse['conflictTerm'], conflictIndex: LogIndex(conflictIndex) };
      this.send(from, r);
    };
    if (m.prevLogIndex < this.log.committed) {
      // Everything through our commit index matches already (Log Matching).
      reply(true, this.log.committed);
      return;
    }
    const skipCheck = this.opts.mutants.has('skip-log-check') && m.prevLogIndex <= this.log.lastIndex;
    if (!skipCheck && !this.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
      // Raft §5.3 consistency check failed; tell the leader where our log diverges.
      if (m.prevLogIndex > this.log.lastIndex) reply(false, m.prevLogIndex, 0, this.log.lastIndex + 1);
      else reply(false, m.prevLogIndex, this.log.term(m.prevLogIndex) ?? 0, this.log.firstIndexOfTerm(m.prevLogIndex));
      return;
    }
    const written = this.log.appendFromLeader(m.entries);
    this.writeEntries(written);
    const lastNew = m.prevLogIndex + m.entries.length;
    // Raft Figure 2: commitIndex = min(leaderCommit, index of last new entry).
    this.commitTo(LogIndex(Math.min(m.leaderCommit, lastNew)));
    reply(true, lastNew);
  }

  protected handleHeartbeat(from: NodeId, m: Heartbeat): void {
    this.lead = from;
    this.electionElapsed = 0;
    this.commitTo(LogIndex(Math.min(m.commit, this.log.lastIndex)));
    const r: HeartbeatResponse = { type: 'HeartbeatResponse', term: this.term, readRound: m.readRound };
    this.send(from, r);
  }

  // ------------------------------------------------------------ commit and membership

  protected commitTo(index: LogIndex): void {
    const old = this.log.committed;
    if (index <= old) return;
    this.log.commitTo(index);
    let bytes = 0;
    const wasLeader = this.role === 'leader';
    for (let i = old + 1; i <= index; i++) {
      const e = this.log.entry(i);
      if (e === undefined) continue;
      bytes += e.bytes;
      if (e.type === 'conf') this.applyConf(e.index, e.change);
    }
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
    if (this.opts.commitEvents) this.event('commit', { index, term: this.term });
    if (this.role !== 'leader') return;
    this.maybeAutoLeave();
    if (wasLeader && this.log.term(old) !== this.term && this.log.term(index) === this.term) this.onReadsMayProceed();
  }

  /** Raft §6: a configuration takes effect here when its entry commits (as in etcd-io/raft). */
  protected applyConf(index: LogIndex, change: ConfChange): void {
    const next = applyConfChange(this.conf, change);
    // Invariant: only valid changes reach the log (the leader checks them against the configuration they follow).
    assert(typeof next !== 'string', () => `invalid configuration change committed at ${index}: ${String(next)}`);
    this.conf = next;
    this.confHistory.push({ index, conf: next });
    this.event('membership-applied', { index, voters: next.voters, outgoing: next.outgoing, learners: next.learners });
    if (this.role !== 'leader') {
      if (this.role === 'follower' || this.role === 'learner') this.setRole(this.passiveRole());
      else if (!this.isVoter) this.becomeFollower(this.term, this.lead);
      return;
    }
    this.syncProgress();
    if (this.leadTransferee !== null && !isVoter(next, this.leadTransferee)) {
      this.event('transfer-aborted', { to: this.leadTransferee, reason: 'removed' });
      this.leadTransferee = null;
    }
    if (!isVoter(next, this.id)) {
      // Thesis §4.2.2: a leader not in C_new steps down once C_new is committed;
      // first tell the others the new commit index.
      this.bcastHeartbeat();
      this.event('step-down', { reason: 'removed from the configuration', term: this.term });
      this.becomeFollower(this.term, null);
      return;
    }
  }

  /** Raft §6: once C_old,new is committed, the leader proposes C_new (also a leader elected in C_old,new). */
  protected maybeAutoLeave(): void {
    if (this.role === 'leader' && isJoint(this.conf) && this.pendingConfIndex <= this.log.committed) {
      this.appendAsLeader({ type: 'conf', change: { type: 'leave-joint' } });
    }
  }
}
