// A Paxos Commit resource manager. Asked to vote, it forces its vote and
// proposes it itself, at ballot 0 of its own instance, straight to the
// acceptors (§4.1): F+1 of them by default (the paper's normal-case count), or
// all 2F+1. It then waits for the decision; in doubt it asks the TM and the
// other RMs, and after a second silence has its node's leader take over.

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import type { Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable, chooseVote } from '../tx-table.js';
import { MUTANT_FORGET_PREPARED } from '../two-phase/participant.js';
import type { CommitChange, Outcome, ParticipantTxView, RoleDecision } from '../types.js';
import { Tally } from './ballot.js';
import type { PaxosCommitLeader } from './leader.js';
import type { InstanceValue, PaxosCommitMessage, PaxosCommitWrite, PaxosValue } from './messages.js';

interface RmTx {
  readonly participants: readonly NodeId[];
  readonly value: PaxosValue | null;
  outcome: Outcome | null;
  lastInquiry: number;
  inquiries: number;
  tally: Tally | null;
}

export class PaxosCommitRm implements Role<PaxosCommitMessage> {
  readonly name = 'participant';
  private readonly txs: TxTable<RmTx>;
  private readonly inDoubt = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<PaxosCommitMessage, PaxosCommitWrite>,
    private readonly opts: CommitOptions,
    private readonly acceptors: readonly NodeId[],
    private readonly leader: PaxosCommitLeader,
    private readonly rng: Prng,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `RM ${io.self}`);
  }

  recover(writes: readonly PaxosCommitWrite[]): void {
    for (const w of writes) {
      if (w.type === 'rm-vote') {
        this.txs.set(w.tx, { participants: w.participants, value: w.value, outcome: w.value === 'aborted' ? 'abort' : null, lastInquiry: -Infinity, inquiries: 0, tally: null });
      } else if (w.type === 'rm-outcome') {
        const t = this.txs.get(w.tx);
        if (t !== undefined) t.outcome = w.outcome;
      }
    }
    for (const [tx, t] of this.txs.entries()) {
      if (t.outcome !== null) continue;
      if (this.mutants.has(MUTANT_FORGET_PREPARED)) {
        t.outcome = 'abort';
        this.io.event('forgot-prepared', { tx });
      } else {
        this.inDoubt.add(tx);
      }
    }
  }

  accepts(msg: PaxosCommitMessage): boolean {
    return msg.type === 'vote-request' || msg.type === 'decision' || msg.type === 'decision-request' || (msg.type === 'accepted' && this.opts.faster);
  }

  step(from: NodeId, msg: PaxosCommitMessage): void {
    switch (msg.type) {
      case 'vote-request':
        this.onVoteRequest(msg.tx, msg.participants);
        return;
      case 'decision':
        this.learn(msg.tx, msg.outcome);
        return;
      case 'decision-request': {
        const o = this.txs.get(msg.tx)?.outcome ?? null;
        if (o !== null && from !== this.io.self) this.io.send(from, { type: 'decision', tx: msg.tx, outcome: o });
        return;
      }
      case 'accepted':
        this.onAccepted(from, msg.tx, msg.ballot, msg.values);
        return;
      case 'accept':
      case 'prepare':
      case 'promise':
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
      for (const p of new Set([this.opts.coordinator, ...t.participants])) {
        if (p !== this.io.self) this.io.send(p, { type: 'decision-request', tx, participants: t.participants });
      }
      // Asked once in vain: the TM may be down. Paxos lets any node lead (§4.1).
      if (t.inquiries >= 2) this.leader.takeOver(tx, t.participants);
    }
  }

  participantView(): readonly ParticipantTxView[] {
    return [...this.txs.entries()].map(([tx, t]) => this.entry(tx, t));
  }

  changesFor(tx: TxId): readonly CommitChange[] {
    const t = this.txs.get(tx);
    return t === undefined ? [] : [{ kind: 'participant', entry: this.entry(tx, t) }];
  }

  private entry(tx: TxId, t: RmTx): ParticipantTxView {
    const vote = t.value === null ? null : t.value === 'prepared' ? 'yes' : 'no';
    const state = t.outcome !== null ? (t.outcome === 'commit' ? 'committed' : 'aborted') : t.value === 'prepared' ? 'prepared' : 'working';
    return { tx, participants: t.participants, vote, outcome: t.outcome, inDoubt: this.inDoubt.has(tx), state };
  }

  decisions(): readonly RoleDecision[] {
    return [];
  }

  private targets(): readonly NodeId[] {
    return this.opts.phase2aTargets === 'all' ? this.acceptors : this.acceptors.slice(0, this.opts.faultTolerance + 1);
  }

  private onVoteRequest(tx: TxId, participants: readonly NodeId[]): void {
    const known = this.txs.get(tx);
    if (known !== undefined) {
      if (known.value !== null) this.propose(tx, participants, known.value);
      return;
    }
    const value: PaxosValue = chooseVote(this.rng, this.opts, this.io.self) === 'yes' ? 'prepared' : 'aborted';
    const outcome: Outcome | null = value === 'aborted' ? 'abort' : null;
    this.io.event('voted', { tx, vote: value === 'prepared' ? 'yes' : 'no' });
    this.txs.set(tx, { participants, value, outcome, lastInquiry: this.io.now(), inquiries: 0, tally: this.opts.faster ? new Tally(this.opts.faultTolerance + 1) : null });
    // Forced even for "aborted": ballot 0 must never carry two values, even across a crash.
    this.io.write({ type: 'rm-vote', tx, participants, value });
    this.propose(tx, participants, value);
    if (outcome !== null) this.io.event('decided', { tx, outcome, role: this.name });
    else this.inDoubt.add(tx);
  }

  private propose(tx: TxId, participants: readonly NodeId[], value: PaxosValue): void {
    const values: InstanceValue[] = [{ rm: this.io.self, value }];
    for (const a of this.targets()) this.io.send(a, { type: 'accept', tx, ballot: 0, participants, values });
  }

  private onAccepted(from: NodeId, tx: TxId, ballot: number, values: readonly InstanceValue[]): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.outcome !== null) return;
    if (t.tally === null) t.tally = new Tally(this.opts.faultTolerance + 1);
    t.tally.add(from, ballot, values);
    const outcome = t.tally.outcome(t.participants);
    if (outcome !== null) this.learn(tx, outcome);
  }

  private learn(tx: TxId, outcome: Outcome): void {
    const t = this.txs.get(tx);
    if (t === undefined) return;
    if (t.outcome !== null) {
      if (t.outcome !== outcome) this.io.event('conflicting-decision', { tx, have: t.outcome, got: outcome });
      return;
    }
    if (t.value !== 'prepared' && outcome === 'commit') {
      this.io.event('commit-without-prepare', { tx });
      return;
    }
    t.outcome = outcome;
    this.inDoubt.delete(tx);
    this.io.write({ type: 'rm-outcome', tx, outcome });
    this.io.event('decided', { tx, outcome, role: this.name });
  }
}
