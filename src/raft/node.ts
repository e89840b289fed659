// A Raft node (Ongaro & Ousterhout 2014; Ongaro's thesis 2014) in the shape of
// etcd-io/raft: pure and synchronous. Feed it tick(), step(), propose() and
// the requests; take ready() batches, execute them in order, call advance().

import { assert, assertNever } from '../core/assert.js';
import type { Effects } from '../core/effects.js';
import { LogIndex, Term, type NodeId } from '../core/ids.js';
import type { CommittedEntry, LogOutput, LogStatus, ProposeResult, ReplicatedLog } from '../core/replicated-log.js';
import { EMPTY_CONF } from './log.js';
import { applyConfChange, isJoint, isVoter } from './membership.js';
import { resolveOptions, type RaftOptions } from './options.js';
import { Reads } from './reads.js';
import type { ConfChangeOp, ConfState, Entry, RaftMessage, RaftWrite, RequestResult } from './types.js';
import { entryHash, type RaftView } from './view.js';

const NONE: readonly never[] = Object.freeze([]);

export class RaftNode<C, S> extends Reads<C, S> implements ReplicatedLog<C, S, RaftWrite<C, S>, RaftMessage<C>> {
  private awaitingAdvance = false;
  private readyLastIndex = LogIndex(0);
  /** view() arrays, rebuilt only when the log changed (the simulator asks after every event). */
  private viewCache: { version: number; window: number; terms: readonly number[]; hashes: readonly number[] } | null = null;
  private votersCache: { readonly conf: ConfState; readonly voters: readonly NodeId[] } | null = null;

  /** A node with empty durable state. With `peers`, it bootstraps a cluster of them; without, it waits to be added. */
  static create<C, S>(options: RaftOptions<C, S>): RaftNode<C, S> {
    const node = new RaftNode<C, S>(options);
    node.bootstrap();
    return node;
  }

  /** A node rebuilt from the durable writes that survived, in the order they were made. */
  static recover<C, S>(options: RaftOptions<C, S>, writes: readonly RaftWrite<C, S>[]): RaftNode<C, S> {
    const node = new RaftNode<C, S>(options);
    if (writes.length === 0) node.bootstrap();
    else node.load(writes);
    return node;
  }

  private constructor(options: RaftOptions<C, S>) {
    super(resolveOptions(options), EMPTY_CONF);
  }

  /** Every bootstrapped node writes the same first entry: the initial configuration, committed, at term 1. */
  private bootstrap(): void {
    if (this.opts.peers.length === 0) {
      this.setRole(this.passiveRole());
      return;
    }
    const conf: ConfState = { voters: [...this.opts.peers].sort((a, b) => a - b), outgoing: [], learners: [...this.opts.learners].sort((a, b) => a - b), learnersNext: [] };
    const entry: Entry<C> = { type: 'conf', index: LogIndex(1), term: Term(1), bytes: 64, change: { type: 'bootstrap', conf } };
    this.log.append([entry]);
    this.writeEntries([entry]);
    this.setTerm(Term(1));
    this.commitTo(LogIndex(1));
    this.setRole(this.passiveRole());
  }

  private load(writes: readonly RaftWrite<C, S>[]): void {
    let commit = 0;
    for (const w of writes) {
      switch (w.type) {
        case 'hard-state':
          this.term = w.term;
          this.vote = w.vote;
          commit = w.commit;
          break;
        case 'entries': {
          const first = w.entries[0];
          if (first === undefined) break;
          if (first.index > this.log.lastIndex + 1) throw new Error(`raft recover: entries write at ${first.index} leaves a gap after ${this.log.lastIndex}`);
          const rest = w.entries.filter((e) => e.index > this.log.snapshot.index);
          if (rest[0] !== undefined && rest[0].index <= this.log.lastIndex) this.log.truncateFrom(rest[0].index);
          this.log.append(rest);
          break;
        }
        case 'snapshot':
          this.log.restore(w.snapshot.meta);
          this.snapshotData = w.snapshot.data;
          break;
        default:
          throw new Error(`raft recover: unknown write ${(w as { type: unknown }).type}`);
      }
    }
    const snap = this.log.snapshot;
    this.log.stableIndex = this.log.lastIndex;
    this.log.committed = snap.index;
    this.conf = snap.conf;
    this.emittedIndex = snap.index;
    if (snap.index > 0 && this.snapshotData !== null) this.outOutputs.push({ type: 'restore', index: snap.index, snapshot: this.snapshotData });
    // The commit index may have been written ahead of entries lost in a crash: clamp it.
    this.commitTo(LogIndex(Math.max(snap.index, Math.min(commit, this.log.lastIndex))));
    this.written = { term: this.term, vote: this.vote, commit: this.log.committed };
    this.quietAfterRestart = this.opts.readOnly === 'lease';
    this.role = this.passiveRole();
    this.event('recovered', { term: this.term, commit: this.log.committed, lastIndex: this.log.lastIndex });
  }

  // ------------------------------------------------------------ inputs

  step(from: NodeId, m: RaftMessage<C>): void {
    assert(!this.awaitingAdvance, 'step() between ready() and advance()');
    if (m.term > this.term) {
      if (m.type === 'RequestVote' || m.type === 'PreVote') {
        const transfer = m.type === 'RequestVote' && m.transfer;
        // Thesis §9.6 / §6.2: while we hear from a leader, votes are not granted, nor is our term disturbed.
        if (!transfer && this.inLease()) return;
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResponse' && m.granted)) {
        // PreVote never changes a term.
      } else {
        const fromLeader = m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot';
        this.becomeFollower(m.term, fromLeader ? from : null);
      }
    } else if (m.term < this.term) {
      this.answerStale(from, m);
      return;
    }
    this.dispatch(from, m);
  }

  /** A message from an older term: tell its sender our term where that un-sticks it. */
  private answerStale(from: NodeId, m: RaftMessage<C>): void {
    if ((m.type === 'AppendEntries' || m.type === 'Heartbeat') && (this.opts.checkQuorum || this.opts.preVote)) {
      this.send(from, { type: 'AppendEntriesResponse', term: this.term, success: false, index: LogIndex(0), conflictTerm: Term(0), conflictIndex: LogIndex(0) });
    } else if (m.type === 'PreVote') {
      this.send(from, { type: 'PreVoteResponse', term: this.term, granted: false });
    }
  }

  private dispatch(from: NodeId, m: RaftMessage<C>): void {
    switch (m.type) {
      case 'RequestVote':
        this.handleRequestVote(from, m);
        return;
      case 'PreVote':
        this.handlePreVote(from, m);
        return;
      case 'RequestVoteResponse':
        this.handleVoteResponse(from, m.granted, false);
        return;
      case 'PreVoteResponse':
        if (!m.granted || m.term === this.term + 1) this.handleVoteResponse(from, m.granted, true);
        return;
      case 'AppendEntries':
      case 'Heartbeat':
      case 'InstallSnapshot':
        if (this.role === 'leader') {
          // Only possible with two leaders in one term (a mutant): never follow.
          this.event('ignored-rival-leader', { from, term: this.term });
          return;
        }
        if (this.role === 'candidate' || this.role === 'precandidate') this.becomeFollower(this.term, from);
        if (m.type === 'AppendEntries') this.handleAppendEntries(from, m);
        else if (m.type === 'Heartbeat') this.handleHeartbeat(from, m);
        else this.handleInstallSnapshot(from, m);
        return;
      case 'AppendEntriesResponse':
        if (this.role === 'leader') this.handleAppendEntriesResponse(from, m);
        return;
      case 'HeartbeatResponse':
        if (this.role === 'leader') this.handleHeartbeatResponse(from, m);
        return;
      case 'InstallSnapshotResponse':
        if (this.role === 'leader') this.handleInstallSnapshotResponse(from, m);
        return;
      case 'TimeoutNow':
        if (this.role !== 'leader') this.handleTimeoutNow();
        return;
      case 'ReadIndexRequest':
        this.handleReadIndexRequest(from, m.ctx);
        return;
      case 'ReadIndexResponse':
        this.handleReadIndexResponse(m);
        return;
      default:
        assertNever(m, 'raft message');
    }
  }

  propose(command: C): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.lead };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transferring' };
    // Limit on uncommitted bytes; one proposal is always allowed so that a large entry cannot block forever.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + this.opts.commandBytes(command) > this.opts.maxUncommittedBytes) {
      return { ok: false, reason: 'overloaded' };
    }
    this.appendAsLeader({ type: 'command', command });
    return { ok: true };
  }

  /**
   * Raft §6 membership change. One voter added or removed (or learner changes)
   * applies in one step; more, or `joint`, goes through C_old,new, left
   * automatically once committed. One change at a time.
   */
  proposeConfChange(ops: readonly ConfChangeOp[], joint = false, context?: string): RequestResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.lead };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transferring' };
    if (this.pendingConfIndex > this.log.committed) return { ok: false, reason: 'conf-change-pending' };
    const change = { type: 'change', ops: [...ops], joint, ...(context === undefined ? {} : { context }) } as const;
    const next = applyConfChange(this.conf, change);
    if (typeof next === 'string') return { ok: false, reason: 'invalid', message: next };
    const entry = this.appendAsLeader({ type: 'conf', change });
    this.event('conf-change-proposed', { index: entry.index, term: this.term, ops: change.ops, joint: isJoint(next) });
    return { ok: true };
  }

  // ------------------------------------------------------------ outputs

  ready(): Effects<RaftWrite<C, S>, RaftMessage<C>, LogOutput<C, S>> | null {
    assert(!this.awaitingAdvance, 'ready() called twice without advance()');
    if (this.role === 'leader') {
      if (this.needsBroadcast) this.bcastAppend();
      if (this.readRoundWanted) this.bcastHeartbeat();
    }
    this.emitCommitted();
    this.flushHardState();
    if (this.outSendNow.length === 0 && this.outWrites.length === 0 && this.outSendAfter.length === 0 && this.outOutputs.length === 0) return null;
    // Hand over the buffers that hold something; empty fields share one frozen array.
    const fx = {
      sendNow: this.outSendNow.length > 0 ? this.outSendNow : NONE,
      persist: this.outWrites.length > 0 ? this.outWrites : NONE,
      sendAfterPersist: this.outSendAfter.length > 0 ? this.outSendAfter : NONE,
      outputs: this.outOutputs.length > 0 ? this.outOutputs : NONE,
    } as Effects<RaftWrite<C, S>, RaftMessage<C>, LogOutput<C, S>>;
    if (fx.sendNow.length > 0) this.outSendNow = [];
    if (fx.persist.length > 0) this.outWrites = [];
    if (fx.sendAfterPersist.length > 0) this.outSendAfter = [];
    if (fx.outputs.length > 0) this.outOutputs = [];
    this.readyLastIndex = this.log.lastIndex;
    this.awaitingAdvance = true;
    return fx;
  }

  private emitCommitted(): void {
    const to = this.log.committed;
    if (to <= this.emittedIndex) return;
    const entries: CommittedEntry<C>[] = [];
    for (let i = this.emittedIndex + 1; i <= to; i++) {
      const e = this.log.entry(i);
      // Invariant: committed entries past the last one handed out are still in the log (compaction stops at applied).
      if (e === undefined) assert(false, `committed entry ${i} missing`);
      entries.push({ index: e.index, command: e.type === 'command' ? e.command : null });
    }
    this.outOutputs.push({ type: 'committed', entries });
    this.emittedIndex = to;
  }

  advance(): void {
    assert(this.awaitingAdvance, 'advance() without ready()');
    this.awaitingAdvance = false;
    // Everything appended before ready() is durable now: the leader's own copy counts (thesis §10.2.1).
    if (this.readyLastIndex > this.log.stableIndex && this.readyLastIndex <= this.log.lastIndex) this.log.stableIndex = this.readyLastIndex;
    if (this.role === 'leader' && this.maybeCommit()) this.needsBroadcast = true;
  }

  status(): LogStatus {
    return {
      id: this.id,
      role: this.role,
      leader: this.lead,
      term: this.term,
      commitIndex: this.log.committed,
      lastIndex: this.log.lastIndex,
      voters: this.votersOf(this.conf),
    };
  }

  /** Voters of `conf` (both sides of a joint one), sorted; kept per configuration, which is replaced, never changed. */
  private votersOf(conf: ConfState): readonly NodeId[] {
    if (this.votersCache?.conf !== conf) this.votersCache = { conf, voters: [...new Set([...conf.voters, ...conf.outgoing])].sort((a, b) => a - b) };
    return this.votersCache.voters;
  }

  /** The configuration in force (applied from committed entries). */
  configuration(): ConfState {
    return this.conf;
  }

  /** At the leader: the highest index known replicated on `id` (etcd checks a learner's before promoting it); null elsewhere or for a non-member. */
  followerMatch(id: NodeId): LogIndex | null {
    if (this.role !== 'leader') return null;
    if (id === this.id) return this.log.lastIndex;
    return this.progress.get(id)?.match ?? null;
  }

  isVoterNode(id: NodeId): boolean {
    return isVoter(this.conf, id);
  }

  /** A summary for invariants, traces and the playground; the log shows its last `window` entries. */
  view(window = 512): RaftView {
    if (this.viewCache === null || this.viewCache.version !== this.log.version || this.viewCache.window !== window) {
      const entries = this.log.all();
      const shown = entries.length > window ? entries.slice(entries.length - window) : entries;
      this.viewCache = { version: this.log.version, window, terms: shown.map((e) => e.term), hashes: shown.map(entryHash) };
    }
    const { terms, hashes } = this.viewCache;
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.emittedIndex,
      snapshotIndex: this.log.snapshot.index,
      snapshotTerm: this.log.snapshot.term,
      lastIndex: this.log.lastIndex,
      logStart: this.log.lastIndex - hashes.length + 1,
      logTerms: terms,
      logHashes: hashes,
      voters: this.conf.voters,
      outgoing: this.conf.outgoing,
      learners: this.conf.learners,
    };
  }
}

/** Rebuilds a node from its surviving durable writes (the simulator and the server restart nodes this way). */
export function recover<C, S>(options: RaftOptions<C, S>, writes: readonly RaftWrite<C, S>[]): RaftNode<C, S> {
  return RaftNode.recover(options, writes);
}
