// A single-decree Paxos node for the simulator: one acceptor, one proposer and
// one learner on each member ("Paxos Made Simple" §2.5: every process plays
// every role). Clients propose values; a node answers each client with the
// value chosen.
//
// Progress (§2.4): with `leader` on, a distinguished proposer is elected by
// heartbeats and only it runs ballots, waiting a random back-off after a
// refusal; with it off, every node with a value runs ballots and retries at
// once, which can livelock (dueling proposers, see docs/paxos.md).

import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';
import { EffectsBuilder, type Effects } from '../core/effects.js';
import { assertNever } from '../core/assert.js';
import type { NodeContext, NodeView, SimNode, SimOutput } from '../sim/protocol.js';
import { compareBallots, showBallot, type Ballot } from './ballot.js';
import { Acceptor, type AcceptorMutants } from './acceptor.js';
import { Proposer } from './proposer.js';
import { Learner } from './learner.js';
import type { SynodMessage, SynodWrite } from './messages.js';
import { synodOptions, type SynodOptions } from './synod-options.js';
import { PAXOS_MUTANTS } from './mutants.js';

export type DecreeValue = string;
export interface DecreeRequest {
  readonly value: DecreeValue;
}
export type DecreeReply = { readonly ok: true; readonly chosen: DecreeValue } | { readonly ok: false; readonly error: 'overloaded' };

export type SynodNodeMessage = SynodMessage<DecreeValue>;
export type SynodNodeWrite = SynodWrite<DecreeValue>;

/** Clients waiting at one node for the decision; beyond it requests are refused as overloaded. */
export const MAX_WAITING_CLIENTS = 10_000;

export interface SynodView extends NodeView {
  readonly learned: DecreeValue | null;
  /** The promise as of the last executed batch (so: made known to others). */
  readonly promised: Ballot | null;
  readonly ballot: Ballot | null;
  /** Values clients gave this node (for the validity invariant). */
  readonly clientValues: readonly DecreeValue[];
  readonly leader: NodeId | null;
}

type Out = SimOutput<DecreeReply>;

export class SynodNode implements SimNode<SynodNodeMessage, SynodNodeWrite, DecreeRequest, DecreeReply> {
  readonly id: NodeId;
  private readonly opts: SynodOptions;
  private readonly members: readonly NodeId[];
  private readonly rng: Prng;
  private readonly acceptor: Acceptor<DecreeValue>;
  private readonly proposer: Proposer<DecreeValue>;
  private readonly learner: Learner<DecreeValue>;
  private readonly fx = new EffectsBuilder<SynodNodeWrite, SynodNodeMessage, Out>();
  private now = 0;
  private leader: NodeId | null = null;
  private lastHeard = 0;
  private electionTimeout: number;
  private attemptStarted = 0;
  private retryAt: number | null = null;
  private askAt: number | null = null;
  private readonly waiting: number[] = [];
  private readonly clientValues: DecreeValue[] = [];
  private promisedShown: Ballot | null;
  /** Ballots of this node refused (nacked) so far. */
  private refused = 0;

  constructor(ctx: NodeContext, durable: readonly SynodNodeWrite[] = []) {
    this.id = ctx.id;
    this.members = ctx.members;
    this.rng = ctx.rng;
    this.opts = synodOptions(ctx.members.length, ctx.options);
    const m: AcceptorMutants = { acceptLowerBallot: ctx.mutants.has(PAXOS_MUTANTS.acceptLowerBallot), forgetPromise: ctx.mutants.has(PAXOS_MUTANTS.forgetPromise) };
    this.acceptor = Acceptor.recover(durable, m);
    this.proposer = new Proposer(ctx.id, ctx.members, this.opts.quorums, ctx.mutants.has(PAXOS_MUTANTS.ignoreAcceptedValue), Proposer.persistedRound(durable));
    this.learner = new Learner(ctx.members, this.opts.quorums, ctx.mutants.has(PAXOS_MUTANTS.learnMixedBallots));
    this.promisedShown = this.acceptor.promised;
    this.electionTimeout = this.randomElectionTimeout();
  }

  private randomElectionTimeout(): number {
    return this.rng.int(this.opts.electionTicks, 2 * this.opts.electionTicks);
  }

  /** The distinguished proposer is on: from the start, or once this node saw `duelRounds` refused ballots. */
  private get leaderOn(): boolean {
    return this.opts.leader && this.refused >= this.opts.duelRounds;
  }

  private get isLeader(): boolean {
    return this.leaderOn && this.leader === this.id;
  }

  /** Whether this node may run ballots now. */
  private get mayPropose(): boolean {
    return !this.leaderOn || this.isLeader;
  }

  request(requestId: number, req: DecreeRequest): void {
    const chosen = this.learner.chosen;
    if (chosen !== null) {
      this.fx.output({ type: 'reply', requestId, reply: { ok: true, chosen: chosen.value } });
      return;
    }
    if (this.waiting.length >= MAX_WAITING_CLIENTS) {
      this.fx.output({ type: 'reply', requestId, reply: { ok: false, error: 'overloaded' } });
      return;
    }
    this.waiting.push(requestId);
    if (!this.clientValues.includes(req.value) && this.clientValues.length < MAX_WAITING_CLIENTS) this.clientValues.push(req.value);
    this.proposer.setValue(req.value);
    if (this.mayPropose) this.startIfIdle();
    else if (this.leader !== null) this.fx.sendImmediately(this.leader, { type: 'ask', value: req.value });
    this.askAt ??= this.now + this.opts.askTicks;
  }

  private startIfIdle(): void {
    if (this.learner.chosen !== null || this.proposer.phase !== 'idle' || this.retryAt !== null) return;
    if (this.proposer.value === null) return;
    this.startAttempt();
  }

  private startAttempt(): void {
    this.retryAt = null;
    this.attemptStarted = this.now;
    const b = this.proposer.startRound(this.fx);
    this.fx.output({ type: 'event', event: { kind: 'ballot', detail: { ballot: showBallot(b) } } });
  }

  tick(): void {
    this.now++;
    if (this.leaderOn) this.tickLeader();
    if (this.learner.chosen !== null) return;
    const attemptRunning = this.proposer.phase !== 'idle';
    if (attemptRunning && this.now - this.attemptStarted >= this.opts.retryTicks) {
      this.proposer.stop();
      this.scheduleRetry();
    }
    if (this.retryAt !== null && this.now >= this.retryAt && this.mayPropose && this.proposer.value !== null) this.startAttempt();
    if (this.askAt !== null && this.now >= this.askAt) this.askForDecision();
  }

  private tickLeader(): void {
    if (this.isLeader) {
      if (this.now % this.opts.heartbeatTicks === 0) {
        for (const m of this.members) if (m !== this.id) this.fx.sendImmediately(m, { type: 'heartbeat', ballot: this.proposer.ballot });
      }
      return;
    }
    if (this.now - this.lastHeard < this.electionTimeout) return;
    this.setLeader(this.id);
    this.lastHeard = this.now;
    this.startIfIdle();
  }

  private setLeader(leader: NodeId | null): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.fx.output({ type: 'event', event: { kind: 'leader-change', detail: { leader } } });
  }

  private scheduleRetry(): void {
    if (this.leaderOn) this.retryAt = this.now + this.rng.int(1, this.opts.backoffTicks);
    else this.retryAt = this.now;
  }

  /** A learner that missed the decision asks a proposer to run a new round (Paxos Made Simple §2.3). */
  private askForDecision(): void {
    this.askAt = this.waiting.length > 0 ? this.now + this.opts.askTicks : null;
    if (this.askAt === null) return;
    const others = this.members.filter((m) => m !== this.id);
    const target = this.leader !== null && this.leader !== this.id ? this.leader : others.length > 0 ? this.rng.pick(others) : this.id;
    if (target === this.id) this.startIfIdle();
    else this.fx.sendImmediately(target, { type: 'ask', value: this.proposer.value });
  }

  step(from: NodeId, msg: SynodNodeMessage): void {
    switch (msg.type) {
      case 'prepare':
        this.proposer.observe(msg.ballot);
        this.acceptor.onPrepare(from, msg.ballot, this.fx);
        return;
      case 'promise':
        this.proposer.onPromise(from, msg.ballot, msg.accepted, this.fx);
        return;
      case 'accept':
        this.proposer.observe(msg.ballot);
        this.acceptor.onAccept(from, msg.ballot, msg.value, this.notifyList(), this.fx);
        return;
      case 'accepted':
        this.onLearned(this.learner.onAccepted(from, msg.ballot, msg.value));
        return;
      case 'nack':
        if (this.proposer.onNack(msg.ballot, msg.promised)) this.onRefused();
        return;
      case 'chosen':
        this.onLearned(this.learner.learn(msg.value));
        return;
      case 'ask':
        this.onAsk(from, msg.value);
        return;
      case 'heartbeat':
        this.onHeartbeat(from, msg.ballot);
        return;
      default:
        assertNever(msg, 'paxos message');
    }
  }

  private onRefused(): void {
    this.refused++;
    if (this.opts.leader && this.refused === this.opts.duelRounds && this.opts.duelRounds > 0) {
      // The duel has gone on long enough: elect a distinguished proposer from now on.
      this.lastHeard = this.now;
      this.fx.output({ type: 'event', event: { kind: 'leader-election-on', detail: { refused: this.refused } } });
    }
    this.scheduleRetry();
    if (this.retryAt !== null && this.retryAt <= this.now && this.mayPropose) this.startAttempt();
  }

  /** Learners told of each acceptance: every member, or only the distinguished ones (who relay). */
  private notifyList(): readonly NodeId[] {
    return this.opts.learners === 'all' ? this.members : this.members.slice(0, this.opts.distinguishedLearners);
  }

  private onLearned(learned: { value: DecreeValue } | null): void {
    if (learned === null) return;
    this.proposer.stop();
    this.retryAt = null;
    this.askAt = null;
    this.fx.output({ type: 'event', event: { kind: 'chosen', detail: { value: learned.value } } });
    for (const requestId of this.waiting) this.fx.output({ type: 'reply', requestId, reply: { ok: true, chosen: learned.value } });
    this.waiting.length = 0;
    if (this.opts.learners === 'distinguished' && this.notifyList().includes(this.id)) {
      for (const m of this.members) if (!this.notifyList().includes(m)) this.fx.sendImmediately(m, { type: 'chosen', value: learned.value });
    }
  }

  private onAsk(from: NodeId, value: DecreeValue | null): void {
    const chosen = this.learner.chosen;
    if (chosen !== null) {
      this.fx.sendImmediately(from, { type: 'chosen', value: chosen.value });
      return;
    }
    if (value !== null) this.proposer.setValue(value);
    if (!this.mayPropose) return;
    // A new round: its phase 1 finds a chosen value (if any) and phase 2 makes the learners hear of it.
    if (this.proposer.phase === 'idle') this.startAttempt();
  }

  private onHeartbeat(from: NodeId, ballot: Ballot | null): void {
    this.proposer.observe(ballot);
    if (!this.leaderOn) return;
    if (this.isLeader) {
      const mine = compareBallots(this.proposer.ballot, ballot);
      if (mine > 0 || (mine === 0 && this.id > from)) return;
      this.proposer.stop();
      this.retryAt = null;
    }
    this.setLeader(from);
    this.lastHeard = this.now;
    this.electionTimeout = this.randomElectionTimeout();
    if (this.waiting.length > 0 && this.learner.chosen === null) this.fx.sendImmediately(from, { type: 'ask', value: this.proposer.value });
  }

  ready(): Effects<SynodNodeWrite, SynodNodeMessage, Out> | null {
    return this.fx.empty ? null : this.fx.take();
  }

  advance(): void {
    this.promisedShown = this.acceptor.promised;
  }

  view(): SynodView {
    return {
      id: this.id,
      role: this.isLeader ? 'leader' : this.proposer.phase === 'idle' ? 'acceptor' : 'proposer',
      learned: this.learner.chosen?.value ?? null,
      promised: this.promisedShown,
      ballot: this.proposer.ballot,
      clientValues: this.clientValues,
      leader: this.leader,
    };
  }
}
