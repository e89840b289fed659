// The 2PC participant (resource manager). A yes vote is a promise: the
// prepared record is forced first, and from then on the participant may
// neither commit nor abort on its own — it is "in doubt" until it learns the
// outcome. In doubt it asks the coordinator and, from the second inquiry on,
// every other participant too: the cooperative termination protocol (Bernstein,
// Hadzilacos & Goodman, "Concurrency Control and Recovery", §7.4). A peer that
// has not voted aborts unilaterally and says so; if every participant voted yes
// and none knows the outcome, all stay blocked until the coordinator returns.

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import type { Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable, chooseVote } from '../tx-table.js';
import type { CommitChange, Outcome, ParticipantTxView, RoleDecision, Vote } from '../types.js';
import type { TwoPcMessage, TwoPcWrite } from './messages.js';
import { isParticipantMessage } from './messages.js';

interface ParticipantTx {
  readonly participants: readonly NodeId[];
  vote: Vote | null;
  outcome: Outcome | null;
  lastInquiry: number;
  inquiries: number;
}

export const MUTANT_FORGET_PREPARED = 'forget-prepared';

export class TwoPcParticipant implements Role<TwoPcMessage> {
  readonly name = 'participant';
  private readonly txs: TxTable<ParticipantTx>;
  private readonly inDoubt = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<TwoPcMessage, TwoPcWrite>,
    private readonly opts: CommitOptions,
    private readonly rng: Prng,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `participant ${io.self}`);
  }

  /** Restart: prepared transactions without an outcome are in doubt and ask at the first tick. */
  recover(writes: readonly TwoPcWrite[]): void {
    for (const w of writes) {
      if (w.type === 'prepared') {
        this.txs.set(w.tx, { participants: w.participants, vote: 'yes', outcome: null, lastInquiry: -Infinity, inquiries: 0 });
      } else if (w.type === 'outcome') {
        const t = this.txs.get(w.tx);
        if (t !== undefined) t.outcome = w.outcome;
        else this.txs.set(w.tx, { participants: [], vote: null, outcome: w.outcome, lastInquiry: 0, inquiries: 0 });
      }
    }
    for (const [tx, t] of this.txs.entries()) {
      if (t.outcome !== null) continue;
      if (this.mutants.has(MUTANT_FORGET_PREPARED)) {
        // Mutant: the prepared state is lost, so restart rolls the work back as if it never prepared.
        t.outcome = 'abort';
        this.io.event('forgot-prepared', { tx });
      } else {
        this.inDoubt.add(tx);
      }
    }
  }

  accepts(msg: TwoPcMessage): boolean {
    return isParticipantMessage(msg);
  }

  step(from: NodeId, msg: TwoPcMessage): void {
    switch (msg.type) {
      case 'vote-request':
        this.onVoteRequest(from, msg.tx, msg.participants);
        return;
      case 'decision':
        this.learn(msg.tx, msg.outcome, from);
        return;
      case 'decision-request':
        this.onPeerRequest(from, msg.tx, msg.participants);
        return;
      case 'vote':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of this.inDoubt) {
      const t = this.txs.get(tx);
      if (t === undefined || now - t.lastInquiry < this.opts.inquiryTicks) continue;
      t.lastInquiry = now;
      t.inquiries++;
      this.io.send(this.opts.coordinator, { type: 'decision-request', tx, participants: t.participants });
      // The coordinator stayed silent once: ask the peers as well (cooperative termination).
      if (t.inquiries < 2) continue;
      for (const p of t.participants) {
        if (p !== this.io.self && p !== this.opts.coordinator) this.io.send(p, { type: 'decision-request', tx, participants: t.participants });
      }
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
    const state = t.outcome !== null ? (t.outcome === 'commit' ? 'committed' : 'aborted') : t.vote === 'yes' ? 'prepared' : 'working';
    return { tx, participants: t.participants, vote: t.vote, outcome: t.outcome, inDoubt: this.inDoubt.has(tx), state };
  }

  decisions(): readonly RoleDecision[] {
    return [];
  }

  private onVoteRequest(from: NodeId, tx: TxId, participants: readonly NodeId[]): void {
    const known = this.txs.get(tx);
    if (known !== undefined) {
      // A repeated request, or one after a unilateral abort (which is a no).
      const vote: Vote = known.vote ?? 'no';
      this.io.send(from, { type: 'vote', tx, vote: known.outcome === 'abort' ? 'no' : vote });
      return;
    }
    const vote = chooseVote(this.rng, this.opts, this.io.self);
    this.io.event('voted', { tx, vote });
    if (vote === 'no') {
      // A no vote is a unilateral abort; presumed abort writes nothing for it.
      this.txs.set(tx, { participants, vote, outcome: 'abort', lastInquiry: 0, inquiries: 0 });
      this.io.send(from, { type: 'vote', tx, vote });
      this.io.event('decided', { tx, outcome: 'abort', role: this.name });
      return;
    }
    this.txs.set(tx, { participants, vote, outcome: null, lastInquiry: this.io.now(), inquiries: 0 });
    this.inDoubt.add(tx);
    this.io.write({ type: 'prepared', tx, participants });
    this.io.send(from, { type: 'vote', tx, vote });
  }

  private learn(tx: TxId, outcome: Outcome, from: NodeId): void {
    const t = this.txs.get(tx);
    if (t === undefined) {
      // Never voted: an abort is recorded; a commit cannot be applied without
      // a prepared transaction (only a faulty coordinator sends one).
      if (outcome === 'abort') this.txs.set(tx, { participants: [], vote: null, outcome, lastInquiry: 0, inquiries: 0 });
      else this.io.event('commit-without-prepare', { tx, from });
      return;
    }
    if (t.outcome !== null) {
      if (t.outcome !== outcome) this.io.event('conflicting-decision', { tx, have: t.outcome, got: outcome, from });
      return;
    }
    if (t.vote !== 'yes' && outcome === 'commit') {
      this.io.event('commit-without-prepare', { tx, from });
      return;
    }
    t.outcome = outcome;
    this.inDoubt.delete(tx);
    // Lazy: no message waits on this record; it spares an inquiry after a restart.
    if (outcome === 'commit') this.io.write({ type: 'outcome', tx, outcome });
    this.io.event('decided', { tx, outcome, role: this.name });
  }

  /** Cooperative termination, the peer's side. */
  private onPeerRequest(from: NodeId, tx: TxId, participants: readonly NodeId[]): void {
    if (from === this.opts.coordinator) return;
    const t = this.txs.get(tx);
    if (t === undefined) {
      // Not voted yet: abort unilaterally, durably (it is a promise to vote no), then answer.
      this.txs.set(tx, { participants, vote: null, outcome: 'abort', lastInquiry: 0, inquiries: 0 });
      this.io.write({ type: 'outcome', tx, outcome: 'abort' });
      this.io.send(from, { type: 'decision', tx, outcome: 'abort' });
      this.io.event('decided', { tx, outcome: 'abort', role: this.name, unilateral: true });
      return;
    }
    // In doubt too: nothing to tell.
    if (t.outcome !== null) this.io.send(from, { type: 'decision', tx, outcome: t.outcome });
  }
}
