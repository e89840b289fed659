// Multi-Paxos as a replicated log ("Paxos Made Simple" §3). A distinguished
// proposer (the leader) runs phase 1 once for every slot from the first one it
// does not know chosen, re-proposes what the promises report and fills gaps
// with no-ops, then runs one phase-2 round per slot, many slots per message and
// up to `window` slots in flight. Every node is acceptor and learner; learners
// learn a slot when the leader reports it chosen and they accepted it under the
// leader's ballot, and catch up (entries or a snapshot) otherwise.
// Slots are the LogIndex of the ReplicatedLog interface.

import { LogIndex, Slot, type NodeId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import { EffectsBuilder, type Effects } from '../../core/effects.js';
import { assertNever } from '../../core/assert.js';
import type { LogOutput, LogStatus, ProposeResult, ReplicatedLog } from '../../core/replicated-log.js';
import { ballotEquals, compareBallots, maxBallot, nextBallot, showBallot, type Ballot } from '../ballot.js';
import type { RoleOut } from '../messages.js';
import { Digest, valueKey } from '../digest.js';
import { PAXOS_MUTANTS } from '../mutants.js';
import { AcceptorLog } from './acceptor-log.js';
import { ChosenLog } from './chosen-log.js';
import { ConfigHistory } from './config-history.js';
import { Candidacy, Leadership, MAX_PENDING_READS } from './leader-state.js';
import { multiPaxosOptions, MultiPaxosOptionError, type MultiPaxosOptions } from './options.js';
import type { ConfigEpoch, MultiMessage, MultiWrite, SlotEntry, SlotValue } from './types.js';

export interface MultiPaxosConfig {
  readonly id: NodeId;
  /** The initial configuration (every member is an acceptor, a learner and may lead). */
  readonly members: readonly NodeId[];
  readonly rng: Prng;
  readonly mutants?: ReadonlySet<string>;
  readonly options?: Readonly<Record<string, unknown>>;
}

export type MultiPaxosRole = 'follower' | 'candidate' | 'leader';

export interface MultiPaxosView {
  readonly id: NodeId;
  readonly role: MultiPaxosRole;
  readonly leader: NodeId | null;
  readonly ballot: Ballot | null;
  /** The promise as of the last executed batch (made known to others). */
  readonly promised: Ballot | null;
  readonly chosenThrough: number;
  readonly compactedThrough: number;
  readonly chosenDigest: Digest;
  readonly proposedDigest: Digest;
}

const NOOP: SlotValue<never> = { kind: 'noop' };

export class MultiPaxos<C, S> implements ReplicatedLog<C, S, MultiWrite<C, S>, MultiMessage<C, S>> {
  readonly id: NodeId;
  private readonly opts: MultiPaxosOptions;
  private readonly rng: Prng;
  private readonly mutants: ReadonlySet<string>;
  private readonly acc: AcceptorLog<C, S>;
  private round: number;
  private seen: Ballot | null = null;
  private readonly configs: ConfigHistory;
  private readonly log: ChosenLog<C>;
  private role: MultiPaxosRole = 'follower';
  private leader: NodeId | null = null;
  private now = 0;
  private lastHeard = 0;
  private electionTimeout: number;
  /** With lease reads: no promise to another proposer before this tick (protects the leader's lease). */
  private guardUntil = 0;
  /** Mutant transfer-keeps-lease only: the lease it handed over, still used for reads. */
  private releasedLeaseUntil = -1;
  private candidacy: Candidacy<C> | null = null;
  private lead: Leadership<C> | null = null;
  private readonly queue: SlotValue<C>[] = [];
  private catchupAt = -1;
  private pumpSoon = false;
  private heartbeatSoon = false;
  private readonly fx = new EffectsBuilder<MultiWrite<C, S>, MultiMessage<C, S>, LogOutput<C, S>>();
  private readonly local: MultiMessage<C, S>[] = [];
  private readonly toCommit: SlotEntry<C>[] = [];
  private readonly out: RoleOut<MultiWrite<C, S>, MultiMessage<C, S>>;
  readonly chosenDigest = new Digest();
  readonly proposedDigest = new Digest();
  private promisedShown: Ballot | null;

  /** A node with empty durable state. */
  static create<C, S>(config: MultiPaxosConfig): MultiPaxos<C, S> {
    return new MultiPaxos<C, S>(config, []);
  }

  /** A node rebuilt from the durable writes that survived, in the order they were made. */
  static recover<C, S>(config: MultiPaxosConfig, durableWrites: readonly MultiWrite<C, S>[]): MultiPaxos<C, S> {
    return new MultiPaxos<C, S>(config, durableWrites);
  }

  private constructor(config: MultiPaxosConfig, durable: readonly MultiWrite<C, S>[]) {
    this.id = config.id;
    this.rng = config.rng;
    this.mutants = config.mutants ?? new Set();
    if (new Set(config.members).size !== config.members.length) throw new MultiPaxosOptionError(`members repeat a node: ${config.members.join(', ')}`);
    this.opts = multiPaxosOptions(config.members.length, config.options ?? {});
    const m = { acceptLowerBallot: this.mutants.has(PAXOS_MUTANTS.acceptLowerBallot), forgetPromise: this.mutants.has(PAXOS_MUTANTS.forgetPromise) };
    const { log, round } = AcceptorLog.recover<C, S>(durable, m);
    this.acc = log;
    this.round = round;
    const epochs: readonly ConfigEpoch[] = log.snapshot?.configs ?? [{ from: Slot(1), members: [...config.members] }];
    this.configs = new ConfigHistory(epochs, this.opts.alpha, this.opts.quorums, config.members.length);
    this.log = new ChosenLog<C>(log.compactedThrough);
    this.promisedShown = log.promised;
    this.electionTimeout = this.randomTimeout();
    if (this.opts.leaseReads) this.guardUntil = this.opts.electionTicks;
    this.out = {
      write: (w) => this.fx.write(w),
      send: (to, msg) => (to === this.id ? this.local.push(msg) : this.fx.send(to, msg)),
      sendImmediately: (to, msg) => (to === this.id ? this.local.push(msg) : this.fx.sendImmediately(to, msg)),
    };
    if (log.snapshot !== null) this.fx.output({ type: 'restore', index: LogIndex(log.snapshot.index), snapshot: log.snapshot.snapshot });
  }

  private randomTimeout(): number {
    return this.rng.int(this.opts.electionTicks, 2 * this.opts.electionTicks);
  }

  private event(kind: string, detail: Record<string, unknown>): void {
    this.fx.output({ type: 'event', event: { kind, detail } });
  }

  private quorumsOf = (e: ConfigEpoch) => this.configs.quorums(e);

  /** Configurations of the slots a leader may have in flight now. */
  private windowConfigs(): readonly ConfigEpoch[] {
    const c = this.log.through;
    return this.configs.between(Slot(c + 1), Slot(c + this.opts.window));
  }

  // ---- inputs -------------------------------------------------------------

  tick(): void {
    this.now++;
    if (this.role === 'leader' && this.lead !== null) {
      if (this.now % this.opts.heartbeatTicks === 0) this.sendHeartbeat(this.lead);
      this.resendStale(this.lead);
      this.pumpSoon = true;
    } else if (this.role === 'candidate' && this.candidacy !== null) {
      if (this.now - this.candidacy.startedAt >= this.electionTimeout) this.campaign('phase 1 timed out');
    } else if (this.now - this.lastHeard >= this.electionTimeout) {
      this.campaign('no leader heard');
    }
    this.drainLocal();
  }

  step(from: NodeId, msg: MultiMessage<C, S>): void {
    this.dispatch(from, msg);
    this.drainLocal();
  }

  propose(command: C): ProposeResult {
    return this.enqueue({ kind: 'command', command });
  }

  /** Proposes a new configuration; it governs slots from (its slot + alpha) on. Throws QuorumConfigError for unsafe quorums. */
  proposeConfig(members: readonly NodeId[]): ProposeResult {
    if (members.length === 0 || new Set(members).size !== members.length) throw new MultiPaxosOptionError(`a configuration needs distinct members, got [${members.join(', ')}]`);
    this.configs.quorums({ from: Slot(0), members });
    return this.enqueue({ kind: 'config', members: [...members] });
  }

  private enqueue(value: SlotValue<C>): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leader };
    if (this.queue.length >= this.opts.maxQueue) return { ok: false, reason: 'overloaded' };
    this.queue.push(value);
    if (this.opts.trackDigests) this.proposedDigest.append(0, valueKey(value));
    this.pumpSoon = true;
    return { ok: true };
  }

  /**
   * Hands leadership to `to`, a member of the configurations in the window.
   * This leader steps down at once: its queue and pending reads fail, its read
   * lease ends with its leadership, and what it had in flight is recovered by
   * the next leader's phase 1 like after any leader change. It then tells every
   * member: `to` campaigns without waiting for an election timeout, and the
   * others drop the lease guard they held for this leader, which protected only
   * reads this leader no longer serves.
   */
  transferLeadership(to: NodeId): { readonly ok: true } | { readonly ok: false; readonly reason: 'not-leader'; readonly leader: NodeId | null } | { readonly ok: false; readonly reason: 'invalid'; readonly message: string } {
    const lead = this.lead;
    if (this.role !== 'leader' || lead === null) return { ok: false, reason: 'not-leader', leader: this.leader };
    if (to === this.id) return { ok: true };
    const c = this.log.through;
    const members = this.configs.membersBetween(Slot(c + 1), Slot(c + this.opts.window));
    if (!members.includes(to)) return { ok: false, reason: 'invalid', message: `node ${to} is not a member of the configuration in force` };
    const release = { type: 'release', ballot: lead.ballot, to } as const;
    this.event('transfer-started', { to, ballot: showBallot(lead.ballot) });
    // As an acceptor too, this node stops guarding its own lease.
    this.guardUntil = this.now;
    // The mutant goes on answering reads from the lease it released, until it would have run out.
    if (this.mutants.has(PAXOS_MUTANTS.transferKeepsLease)) this.releasedLeaseUntil = lead.leaseUntil;
    this.stepDown(`leadership handed to ${to}`);
    for (const m of members) if (m !== this.id) this.fx.sendImmediately(m, release);
    return { ok: true };
  }

  private onRelease(from: NodeId, ballot: Ballot, to: NodeId): void {
    // Only from the leader this node follows, for the ballot it still holds: a stale release changes nothing.
    if (from === this.id || this.leader !== from || compareBallots(ballot, this.acc.promised) < 0) return;
    this.guardUntil = this.now;
    if (to === this.id) this.campaign(`leadership handed over by ${from}`);
  }

  readIndex(ctx: number): void {
    if (this.role !== 'leader' && this.now < this.releasedLeaseUntil) {
      this.fx.output({ type: 'read-ready', ctx, index: LogIndex(this.log.through) });
      return;
    }
    const lead = this.lead;
    if (this.role !== 'leader' || lead === null || lead.reads.length >= MAX_PENDING_READS) {
      this.fx.output({ type: 'read-failed', ctx, leader: this.role === 'leader' ? this.id : this.leader });
      return;
    }
    const index = Slot(Math.max(this.log.through, lead.readyFloor));
    if (this.opts.leaseReads && this.now < lead.leaseUntil && this.log.through >= lead.readyFloor) {
      this.fx.output({ type: 'read-ready', ctx, index: LogIndex(index) });
      return;
    }
    lead.reads.push({ ctx, index, seq: lead.seq + 1 });
    this.heartbeatSoon = true;
  }

  compact(index: LogIndex, snapshot: S): void {
    const slot = Slot(index);
    if (slot > this.log.through) throw new RangeError(`cannot compact through slot ${slot}: only slots through ${this.log.through} are chosen`);
    if (slot <= this.acc.compactedThrough) return;
    this.configs.compact(Slot(slot + 1));
    this.acc.compact({ index: slot, snapshot, configs: this.configs.all }, this.out);
    this.log.compact(slot);
    this.event('compaction', { index: slot });
  }

  ready(): Effects<MultiWrite<C, S>, MultiMessage<C, S>, LogOutput<C, S>> | null {
    if (this.lead !== null && this.pumpSoon) this.pump(this.lead);
    this.pumpSoon = false;
    if (this.lead !== null && this.heartbeatSoon) this.sendHeartbeat(this.lead);
    this.heartbeatSoon = false;
    this.drainLocal();
    this.flushCommitted();
    return this.fx.empty ? null : this.fx.take();
  }

  advance(): void {
    this.promisedShown = this.acc.promised;
  }

  status(): LogStatus {
    const ballot = this.lead?.ballot ?? this.candidacy?.ballot ?? this.acc.promised;
    const last = this.lead !== null ? this.lead.nextSlot - 1 : this.log.through;
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      term: ballot?.round ?? 0,
      commitIndex: LogIndex(this.log.through),
      lastIndex: LogIndex(Math.max(last, this.log.through)),
      voters: this.configs.at(Slot(this.log.through + 1)).members,
    };
  }

  view(): MultiPaxosView {
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      ballot: this.lead?.ballot ?? this.candidacy?.ballot ?? null,
      promised: this.promisedShown,
      chosenThrough: this.log.through,
      compactedThrough: this.log.compactedThrough,
      chosenDigest: this.chosenDigest,
      proposedDigest: this.proposedDigest,
    };
  }

  // ---- message dispatch ---------------------------------------------------

  private drainLocal(): void {
    for (let msg = this.local.shift(); msg !== undefined; msg = this.local.shift()) this.dispatch(this.id, msg);
  }

  private dispatch(from: NodeId, msg: MultiMessage<C, S>): void {
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg.ballot, msg.fromSlot);
      case 'promise':
        return this.onPromise(from, msg);
      case 'nack':
        return this.onNack(msg.ballot, msg.promised);
      case 'accept':
        return this.onAccept(from, msg.ballot, msg.entries, msg.chosenThrough);
      case 'accepted':
        return this.onAccepted(from, msg.ballot, msg.slots, msg.chosenThrough);
      case 'heartbeat':
        return this.onHeartbeat(from, msg.ballot, msg.seq, msg.chosenThrough);
      case 'heartbeat-ack':
        return this.onHeartbeatAck(from, msg.ballot, msg.seq, msg.chosenThrough);
      case 'catchup-request':
        return this.onCatchupRequest(from, msg.fromSlot);
      case 'catchup':
        return this.onCatchup(from, msg.entries, msg.chosenThrough);
      case 'snapshot':
        return this.onSnapshot(from, msg.index, msg.snapshot, msg.configs);
      case 'release':
        return this.onRelease(from, msg.ballot, msg.to);
      default:
        assertNever(msg, 'multi-paxos message');
    }
  }

  // ---- leader election: phase 1 for all slots -----------------------------

  private campaign(reason: string): void {
    const c = this.log.through;
    const configs = this.configs.between(Slot(c + 1), Slot(c + this.opts.window));
    this.endLeadership();
    this.lastHeard = this.now;
    this.electionTimeout = this.randomTimeout();
    if (!configs.some((e) => e.members.includes(this.id))) {
      this.role = 'follower';
      return;
    }
    const ballot = nextBallot(this.id, this.round, maxBallot(this.seen, this.acc.promised));
    this.round = ballot.round;
    this.fx.write({ type: 'round', round: ballot.round });
    const cand = new Candidacy<C>(ballot, Slot(c + 1), configs, this.now);
    this.candidacy = cand;
    this.role = 'candidate';
    this.setLeader(null);
    this.event('ballot', { ballot: showBallot(ballot), fromSlot: c + 1, reason });
    for (const m of cand.members()) this.out.send(m, { type: 'prepare', ballot, fromSlot: cand.fromSlot });
  }

  private onPrepare(from: NodeId, ballot: Ballot, fromSlot: Slot): void {
    if (this.opts.leaseReads && from !== this.id && from !== this.leader && this.now < this.guardUntil) return;
    this.seen = maxBallot(this.seen, ballot);
    if (!this.acc.onPrepare(from, ballot, fromSlot, this.out) || from === this.id) return;
    if (this.role !== 'follower') this.stepDown(`promised ${showBallot(ballot)} to node ${from}`);
    this.lastHeard = this.now;
  }

  private onPromise(from: NodeId, msg: Extract<MultiMessage<C, S>, { type: 'promise' }>): void {
    const cand = this.candidacy;
    if (cand === null || !ballotEquals(msg.ballot, cand.ballot)) return;
    if (msg.compactedThrough >= cand.fromSlot && from !== this.id) {
      // That acceptor compacted slots we do not know chosen: learn them before leading.
      this.stepDown(`node ${from} compacted through ${msg.compactedThrough}`);
      this.requestCatchup(from, true);
      return;
    }
    cand.merge(msg.accepted);
    if (msg.next !== null) {
      this.out.send(from, { type: 'prepare', ballot: cand.ballot, fromSlot: msg.next });
      return;
    }
    cand.complete.add(from);
    if (cand.won(this.quorumsOf)) this.becomeLeader(cand);
  }

  private becomeLeader(cand: Candidacy<C>): void {
    const c = this.log.through;
    const reported = [...cand.reports.keys()];
    const top = Math.max(c, ...reported);
    const lead = new Leadership<C>(cand.ballot, new Set(cand.configs.map((e) => e.from)), Slot(top + 1), Slot(top));
    const ignoreReports = this.mutants.has(PAXOS_MUTANTS.ignoreAcceptedValue);
    for (let s = c + 1; s <= top; s++) {
      const report = cand.reports.get(s);
      let value: SlotValue<C> | undefined = this.log.get(s) ?? (ignoreReports ? undefined : report?.value);
      if (value === undefined && ignoreReports && report !== undefined) value = this.queue.shift();
      if (value === undefined) {
        value = NOOP;
        if (this.opts.trackDigests) this.proposedDigest.append(s, valueKey(NOOP));
      }
      lead.reproposals.set(s, value);
    }
    this.candidacy = null;
    this.lead = lead;
    this.role = 'leader';
    this.setLeader(this.id);
    this.event('leader-change', { leader: this.id, ballot: showBallot(lead.ballot), refill: top - c });
    this.pump(lead);
    this.sendHeartbeat(lead);
  }

  private onNack(ballot: Ballot, promised: Ballot): void {
    this.seen = maxBallot(this.seen, promised);
    const mine = this.lead?.ballot ?? this.candidacy?.ballot ?? null;
    if (mine === null || !ballotEquals(ballot, mine) || compareBallots(promised, mine) <= 0) return;
    this.stepDown(`preempted by ${showBallot(promised)}`);
  }

  private stepDown(reason: string): void {
    this.endLeadership();
    this.role = 'follower';
    this.lastHeard = this.now;
    this.electionTimeout = this.randomTimeout();
    this.event('step-down', { reason });
  }

  private endLeadership(): void {
    const lead = this.lead;
    this.candidacy = null;
    if (lead === null) return;
    this.lead = null;
    for (const r of lead.reads) this.fx.output({ type: 'read-failed', ctx: r.ctx, leader: null });
    if (this.queue.length > 0) this.event('proposals-dropped', { count: this.queue.length });
    this.queue.length = 0;
    this.setLeader(null);
  }

  private setLeader(leader: NodeId | null): void {
    if (this.leader === leader) return;
    this.leader = leader;
    if (leader !== this.id) this.event('leader-change', { leader });
  }

  /** A message from a leader with `ballot` (already checked not below our promise). */
  private followLeader(from: NodeId, ballot: Ballot): void {
    this.seen = maxBallot(this.seen, ballot);
    if (from === this.id) return;
    if (this.role !== 'follower') this.stepDown(`leader ${from} with ${showBallot(ballot)}`);
    this.setLeader(from);
    this.lastHeard = this.now;
    this.guardUntil = this.now + this.opts.electionTicks;
  }

  // ---- phase 2 ------------------------------------------------------------

  /** Sends what phase 1 fixed, then queued proposals, while the window allows. */
  private pump(lead: Leadership<C>): void {
    const limit = this.log.through + this.opts.window;
    if (this.windowConfigs().some((e) => !lead.prepared.has(e.from))) {
      // A configuration this leader has no phase-1 quorum in now governs slots it may propose.
      this.campaign('new configuration in the window');
      return;
    }
    const refill = lead.reproposals.size === 0 ? [] : [...lead.reproposals.keys()].filter((s) => s <= limit).sort((a, b) => a - b);
    for (let i = 0; i < refill.length; i += this.opts.maxBatch) {
      const entries = refill.slice(i, i + this.opts.maxBatch).map((s) => ({ slot: Slot(s), value: lead.reproposals.get(s) as SlotValue<C> }));
      for (const e of entries) lead.reproposals.delete(e.slot);
      this.sendAccepts(lead, entries);
      if (this.lead !== lead) return;
    }
    while (lead.nextSlot <= limit && this.queue.length > 0 && this.lead === lead) {
      const take = Math.min(this.opts.maxBatch, limit - lead.nextSlot + 1, this.queue.length);
      const first = lead.nextSlot;
      const entries = this.queue.splice(0, take).map((value, i) => ({ slot: Slot(first + i), value }));
      lead.nextSlot = Slot(first + take);
      this.sendAccepts(lead, entries);
    }
  }

  private sendAccepts(lead: Leadership<C>, entries: readonly SlotEntry<C>[]): void {
    if (entries.length === 0) return;
    for (const e of entries) lead.inflight.set(e.slot, { value: e.value, acks: [], sentAt: this.now });
    const mine = this.acc.onAccept(this.id, lead.ballot, entries, this.out);
    const first = (entries[0] as SlotEntry<C>).slot;
    const last = (entries[entries.length - 1] as SlotEntry<C>).slot;
    const msg = { type: 'accept', ballot: lead.ballot, entries, chosenThrough: this.log.through } as const;
    // The accept rests on no write of this batch (phase 1 is complete, and chosenThrough counts only
    // acceptances made durable earlier), so it leaves while our own acceptance is being written: the
    // leader's disk write and the acceptors' run in parallel, as in Raft (thesis §10.2.1).
    for (const m of this.configs.membersBetween(first, last)) if (m !== this.id) this.fx.sendImmediately(m, msg);
    // Our own acceptance counts now: anything that depends on it (a chosen output) leaves after this batch's writes.
    if (mine !== null) for (const s of mine) this.countAck(lead, this.id, s);
  }

  private countAck(lead: Leadership<C>, from: NodeId, slot: Slot): void {
    const f = lead.inflight.get(slot);
    if (f === undefined) return;
    if (!f.acks.includes(from)) f.acks.push(from);
    const epoch = this.configs.at(slot);
    let votes = 0;
    for (const m of epoch.members) if (f.acks.includes(m)) votes++;
    if (votes < this.quorumsOf(epoch).phase2) return;
    lead.inflight.delete(slot);
    this.chosen(slot, f.value);
  }

  private resendStale(lead: Leadership<C>): void {
    for (const part of lead.stale(this.now, this.opts.resendTicks, this.opts.maxBatch)) {
      const entries = part.map(([s, f]) => ({ slot: Slot(s), value: f.value }));
      const msg = { type: 'accept', ballot: lead.ballot, entries, chosenThrough: this.log.through } as const;
      const members = this.configs.membersBetween(entries[0]?.slot ?? Slot(1), entries[entries.length - 1]?.slot ?? Slot(1));
      for (const m of members) if (m !== this.id && part.some(([, f]) => !f.acks.includes(m))) this.fx.send(m, msg);
      for (const [, f] of part) f.sentAt = this.now;
    }
  }

  private onAccept(from: NodeId, ballot: Ballot, entries: readonly SlotEntry<C>[], chosenThrough: Slot): void {
    if (from === this.id) return;
    const slots = this.acc.onAccept(from, ballot, entries, this.out);
    if (slots === null) return;
    this.followLeader(from, ballot);
    this.fx.send(from, { type: 'accepted', ballot, slots, chosenThrough: this.log.through });
    this.learnThrough(from, ballot, chosenThrough);
  }

  private onAccepted(from: NodeId, ballot: Ballot, slots: readonly Slot[], chosenThrough: Slot): void {
    const lead = this.lead;
    if (lead === null || !ballotEquals(ballot, lead.ballot)) return;
    for (const s of slots) this.countAck(lead, from, s);
    if (chosenThrough > this.log.through) this.requestCatchup(from, false);
    this.pumpSoon = true;
  }

  // ---- learning -----------------------------------------------------------

  /** The leader with `ballot` knows slots through `through` chosen; those we accepted under that ballot are the chosen values. */
  private learnThrough(from: NodeId, ballot: Ballot, through: Slot): void {
    const mixed = this.mutants.has(PAXOS_MUTANTS.learnMixedBallots);
    for (let s = this.log.through + 1; s <= through; s = Math.max(s + 1, this.log.through + 1)) {
      if (this.log.has(s)) continue;
      const a = this.acc.accepted.get(s);
      if (a === undefined || !(mixed || ballotEquals(a.ballot, ballot))) break;
      this.chosen(Slot(s), a.value);
    }
    if (this.log.through < through) this.requestCatchup(from, false);
  }

  private chosen(slot: Slot, value: SlotValue<C>): void {
    this.apply(this.log.learn(slot, value));
  }

  /** Newly contiguous chosen entries: configurations take effect now; the state machine gets them in one batch (flushCommitted). */
  private apply(entries: readonly SlotEntry<C>[]): void {
    if (entries.length === 0) return;
    for (const e of entries) {
      if (e.value.kind === 'config') this.configs.chosen(e.slot, e.value.members);
      if (this.opts.trackDigests) this.chosenDigest.append(e.slot, valueKey(e.value));
      this.toCommit.push(e);
    }
    this.pumpSoon = true;
  }

  /** One 'committed' output for everything chosen since the last one, in slot order. */
  private flushCommitted(): void {
    if (this.toCommit.length === 0) return;
    const entries = this.toCommit.map((e) => ({ index: LogIndex(e.slot), command: e.value.kind === 'command' ? e.value.command : null }));
    this.fx.output({ type: 'committed', entries });
    this.event('chosen', { from: (this.toCommit[0] as SlotEntry<C>).slot, through: this.log.through });
    this.toCommit.length = 0;
  }

  private requestCatchup(from: NodeId, force: boolean): void {
    if (from === this.id || (!force && this.now < this.catchupAt)) return;
    this.catchupAt = this.now + this.opts.catchupTicks;
    this.fx.sendImmediately(from, { type: 'catchup-request', fromSlot: Slot(this.log.through + 1) });
  }

  private onCatchupRequest(from: NodeId, fromSlot: Slot): void {
    const snap = this.acc.snapshot;
    if (fromSlot <= this.log.compactedThrough && snap !== null) {
      this.fx.send(from, { type: 'snapshot', index: snap.index, snapshot: snap.snapshot, configs: snap.configs });
      return;
    }
    const entries = this.log.entriesFrom(fromSlot, this.opts.maxCatchupEntries);
    if (entries.length > 0) this.fx.send(from, { type: 'catchup', entries, chosenThrough: this.log.through });
  }

  private onCatchup(from: NodeId, entries: readonly SlotEntry<C>[], through: Slot): void {
    const before = this.log.through;
    for (const e of entries) this.chosen(e.slot, e.value);
    this.catchupAt = -1;
    if (this.log.through > before) this.event('catch-up', { from, fromSlot: before + 1, through: this.log.through });
    if (this.log.through < through) this.requestCatchup(from, true);
  }

  private onSnapshot(from: NodeId, index: Slot, snapshot: S, configs: readonly ConfigEpoch[]): void {
    this.catchupAt = -1;
    if (index <= this.log.through) return;
    this.acc.compact({ index, snapshot, configs }, this.out);
    this.configs.replace(configs);
    this.flushCommitted();
    this.fx.output({ type: 'restore', index: LogIndex(index), snapshot });
    this.event('catch-up', { from, snapshot: index });
    this.apply(this.log.install(index));
  }

  // ---- heartbeats, reads, lease -------------------------------------------

  private sendHeartbeat(lead: Leadership<C>): void {
    lead.seq++;
    lead.heartbeatSentAt.set(lead.seq, this.now);
    this.guardUntil = this.now + this.opts.electionTicks;
    const msg = { type: 'heartbeat', ballot: lead.ballot, chosenThrough: this.log.through, seq: lead.seq } as const;
    const c = this.log.through;
    for (const m of this.configs.membersBetween(Slot(c + 1), Slot(c + this.opts.window))) if (m !== this.id) this.fx.send(m, msg);
    this.confirmReads(lead);
  }

  private onHeartbeat(from: NodeId, ballot: Ballot, seq: number, chosenThrough: Slot): void {
    if (from === this.id) return;
    if (compareBallots(ballot, this.acc.promised) < 0) {
      this.fx.sendImmediately(from, { type: 'nack', ballot, promised: this.acc.promised as Ballot });
      return;
    }
    this.followLeader(from, ballot);
    this.fx.send(from, { type: 'heartbeat-ack', ballot, seq, chosenThrough: this.log.through });
    this.learnThrough(from, ballot, chosenThrough);
  }

  private onHeartbeatAck(from: NodeId, ballot: Ballot, seq: number, chosenThrough: Slot): void {
    const lead = this.lead;
    if (lead === null || !ballotEquals(ballot, lead.ballot)) return;
    lead.acked.set(from, Math.max(seq, lead.acked.get(from) ?? 0));
    if (chosenThrough > this.log.through) this.requestCatchup(from, false);
    this.confirmReads(lead);
  }

  /**
   * A heartbeat acknowledged by a phase-2 quorum proves that no proposer had a
   * phase-1 quorum for a higher ballot when it was answered (|Q1| + |Q2| > N),
   * so reads asked before it see every write acknowledged before it. With
   * leases, those acceptors also refuse other proposers for electionTicks after
   * they answered, so the leader may serve reads alone until
   * sentAt + electionTicks - leaseMarginTicks.
   */
  private confirmReads(lead: Leadership<C>): void {
    const ready = lead.confirm(this.id, this.windowConfigs(), this.quorumsOf, this.opts.electionTicks - this.opts.leaseMarginTicks);
    for (const r of ready) this.fx.output({ type: 'read-ready', ctx: r.ctx, index: LogIndex(r.index) });
  }
}
