// The 3PC participant. Uncertain after a yes vote, pre-committed after a
// pre-commit, then committed or aborted. When the coordinator falls silent the
// live participants run the termination protocol, round by round: round r is
// led by participant r (mod n) in id order, and a participant that waits
// `terminationTicks` in a round without an outcome moves to the next one (the
// round's leader is taken as failed). A participant that restarts without an
// outcome takes no part: it asks everyone until someone tells it.

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import type { Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable, chooseVote } from '../tx-table.js';
import { MUTANT_FORGET_PREPARED } from '../two-phase/participant.js';
import type { CommitChange, Outcome, ParticipantTxView, RoleDecision, Vote } from '../types.js';
import type { ThreePcMessage, ThreePcState, ThreePcWrite } from './messages.js';
import { isThreePcParticipantMessage } from './messages.js';
import { TerminationRound } from './termination.js';

interface ParticipantTx {
  participants: readonly NodeId[];
  vote: Vote | null;
  state: ThreePcState;
  round: number;
  deadline: number;
  recovering: boolean;
  leading: TerminationRound | null;
}

export class ThreePcParticipant implements Role<ThreePcMessage> {
  readonly name = 'participant';
  private readonly txs: TxTable<ParticipantTx>;
  private readonly inDoubt = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<ThreePcMessage, ThreePcWrite>,
    private readonly opts: CommitOptions,
    private readonly rng: Prng,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `participant ${io.self}`);
  }

  recover(writes: readonly ThreePcWrite[]): void {
    for (const w of writes) {
      if (w.type === 'uncertain') this.txs.set(w.tx, this.fresh(w.participants, 'yes', 'uncertain', -Infinity));
      const t = this.txs.get(w.tx);
      if (w.type === 'pre-committed' && t !== undefined) t.state = 'pre-committed';
      if (w.type === 'outcome' && w.role === 'participant') {
        if (t !== undefined) t.state = w.outcome === 'commit' ? 'committed' : 'aborted';
        else this.txs.set(w.tx, this.fresh([], null, w.outcome === 'commit' ? 'committed' : 'aborted', 0));
      }
    }
    for (const [tx, t] of this.txs.entries()) {
      if (t.state !== 'uncertain' && t.state !== 'pre-committed') continue;
      if (this.mutants.has(MUTANT_FORGET_PREPARED)) {
        t.state = 'aborted';
        this.io.event('forgot-prepared', { tx });
        continue;
      }
      t.recovering = true;
      this.inDoubt.add(tx);
    }
  }

  accepts(msg: ThreePcMessage): boolean {
    return isThreePcParticipantMessage(msg);
  }

  step(from: NodeId, msg: ThreePcMessage): void {
    switch (msg.type) {
      case 'can-commit':
        this.onCanCommit(from, msg.tx, msg.participants);
        return;
      case 'pre-commit':
        this.onPreCommit(from, msg.tx, msg.round);
        return;
      case 'do-commit':
        this.learn(msg.tx, 'commit');
        return;
      case 'abort':
        this.learn(msg.tx, 'abort');
        return;
      case 'state-request':
        this.onStateRequest(from, msg.tx, msg.round, msg.participants);
        return;
      case 'state-report':
        this.leadingRound(msg.tx, msg.round)?.report(from, msg.state);
        this.advanceTermination(msg.tx, false);
        return;
      case 'ack':
        this.leadingRound(msg.tx, msg.round)?.ack(from);
        this.advanceTermination(msg.tx, false);
        return;
      case 'decision-request':
        this.onDecisionRequest(from, msg.tx, msg.participants);
        return;
      case 'vote':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of [...this.inDoubt]) {
      const t = this.txs.get(tx);
      if (t === undefined) continue;
      if (t.leading !== null && t.leading.phase !== 'done' && now - t.leading.since >= this.opts.terminationTicks / 2) {
        // The round's time to hear from the others is up: the silent ones are taken as failed.
        this.advanceTermination(tx, true);
        continue;
      }
      if (now < t.deadline) continue;
      if (t.recovering) {
        t.deadline = now + this.opts.inquiryTicks;
        const everyone = new Set([this.opts.coordinator, ...t.participants]);
        everyone.delete(this.io.self);
        for (const p of everyone) this.io.send(p, { type: 'decision-request', tx, participants: t.participants });
        continue;
      }
      this.nextRound(tx, t);
    }
  }

  participantView(): readonly ParticipantTxView[] {
    return [...this.txs.entries()].map(([tx, t]) => this.entry(tx, t));
  }

  changesFor(tx: TxId): readonly CommitChange[] {
    const t = this.txs.get(tx);
    return t === undefined ? [] : [{ kind: 'participant', entry: this.entry(tx, t) }];
  }

  private entry(tx: TxId, t: ParticipantTx): ParticipantTxView {
    const outcome: Outcome | null = t.state === 'committed' ? 'commit' : t.state === 'aborted' ? 'abort' : null;
    return { tx, participants: t.participants, vote: t.vote, outcome, inDoubt: this.inDoubt.has(tx), state: t.recovering ? `${t.state} (recovering)` : t.state };
  }

  decisions(): readonly RoleDecision[] {
    return [];
  }

  private fresh(participants: readonly NodeId[], vote: Vote | null, state: ThreePcState, deadline: number): ParticipantTx {
    return { participants, vote, state, round: -1, deadline, recovering: false, leading: null };
  }

  private onCanCommit(from: NodeId, tx: TxId, participants: readonly NodeId[]): void {
    const known = this.txs.get(tx);
    if (known !== undefined) {
      this.io.send(from, { type: 'vote', tx, vote: known.state === 'aborted' ? 'no' : (known.vote ?? 'no') });
      return;
    }
    const vote = chooseVote(this.rng, this.opts, this.io.self);
    this.io.event('voted', { tx, vote });
    if (vote === 'no') {
      this.txs.set(tx, this.fresh(participants, vote, 'aborted', 0));
      this.io.send(from, { type: 'vote', tx, vote });
      this.io.event('decided', { tx, outcome: 'abort', role: this.name });
      return;
    }
    this.txs.set(tx, this.fresh(participants, vote, 'uncertain', this.io.now() + this.opts.terminationTicks));
    this.inDoubt.add(tx);
    this.io.write({ type: 'uncertain', tx, participants });
    this.io.send(from, { type: 'vote', tx, vote });
  }

  private onPreCommit(from: NodeId, tx: TxId, round: number): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.recovering || round < t.round) return;
    if (t.state === 'uncertain') {
      t.state = 'pre-committed';
      this.io.write({ type: 'pre-committed', tx });
    }
    if (t.state !== 'pre-committed') return;
    t.round = round;
    t.deadline = this.io.now() + this.opts.terminationTicks;
    this.io.send(from, { type: 'ack', tx, round });
  }

  private learn(tx: TxId, outcome: Outcome): void {
    const t = this.txs.get(tx);
    if (t === undefined) {
      if (outcome === 'abort') this.txs.set(tx, this.fresh([], null, 'aborted', 0));
      else this.io.event('commit-without-prepare', { tx });
      return;
    }
    if (t.state === 'committed' || t.state === 'aborted') {
      const have: Outcome = t.state === 'committed' ? 'commit' : 'abort';
      if (have !== outcome) this.io.event('conflicting-decision', { tx, have, got: outcome });
      return;
    }
    t.state = outcome === 'commit' ? 'committed' : 'aborted';
    t.recovering = false;
    t.leading = null;
    this.inDoubt.delete(tx);
    this.io.write({ type: 'outcome', tx, outcome, role: 'participant' });
    this.io.event('decided', { tx, outcome, role: this.name });
  }

  private onStateRequest(from: NodeId, tx: TxId, round: number, participants: readonly NodeId[]): void {
    const t = this.txs.get(tx);
    if (t === undefined) {
      // Never voted: abort unilaterally, durably, and report it.
      this.txs.set(tx, this.fresh(participants, null, 'aborted', 0));
      this.io.write({ type: 'outcome', tx, outcome: 'abort', role: 'participant' });
      this.io.send(from, { type: 'state-report', tx, round, state: 'aborted' });
      return;
    }
    const decided = t.state === 'committed' || t.state === 'aborted';
    if (!decided && (t.recovering || round < t.round)) return;
    if (!decided) {
      t.round = round;
      t.deadline = this.io.now() + this.opts.terminationTicks;
      if (t.leading !== null && t.leading.round < round) t.leading = null;
    }
    this.io.send(from, { type: 'state-report', tx, round, state: t.state });
  }

  private onDecisionRequest(from: NodeId, tx: TxId, participants: readonly NodeId[]): void {
    let t = this.txs.get(tx);
    if (t === undefined) {
      // Never asked to vote (the coordinator failed first): abort unilaterally, durably, and say so.
      this.txs.set(tx, (t = this.fresh(participants, null, 'aborted', 0)));
      this.io.write({ type: 'outcome', tx, outcome: 'abort', role: 'participant' });
    }
    if (t.state === 'committed') this.io.send(from, { type: 'do-commit', tx });
    else if (t.state === 'aborted') this.io.send(from, { type: 'abort', tx });
  }

  /** The round's leader is taken as failed: move on, and lead if it is our turn. */
  private nextRound(tx: TxId, t: ParticipantTx): void {
    t.round = Math.max(t.round + 1, 0);
    t.deadline = this.io.now() + this.opts.terminationTicks;
    t.leading = null;
    const leader = t.participants[t.round % t.participants.length];
    this.io.touch(tx);
    if (leader !== this.io.self) return;
    t.leading = new TerminationRound(tx, t.round, t.participants, this.io.now());
    this.io.event('termination-leader', { tx, round: t.round });
    for (const p of t.participants) this.io.send(p, { type: 'state-request', tx, round: t.round, participants: t.participants });
  }

  private leadingRound(tx: TxId, round: number): TerminationRound | null {
    const l = this.txs.get(tx)?.leading ?? null;
    return l !== null && l.round === round ? l : null;
  }

  private advanceTermination(tx: TxId, timedOut: boolean): void {
    const t = this.txs.get(tx);
    const l = t?.leading ?? null;
    if (t === undefined || l === null) return;
    const step = l.next(timedOut);
    if (step.type === 'wait') return;
    if (step.type === 'pre-commit') {
      l.since = this.io.now();
      t.deadline = this.io.now() + this.opts.terminationTicks;
      for (const p of step.to) this.io.send(p, { type: 'pre-commit', tx, round: l.round });
      return;
    }
    for (const p of new Set([...t.participants, this.opts.coordinator])) {
      if (p !== this.io.self) this.io.send(p, step.outcome === 'commit' ? { type: 'do-commit', tx } : { type: 'abort', tx });
    }
    this.learn(tx, step.outcome);
  }
}
