// The 2PC coordinator with presumed abort. It forces one record per committed
// transaction (before the commit decision leaves) and none for an abort: a
// coordinator that finds no commit record for a transaction answers "abort"
// (Mohan, Lindsay & Obermarck 1986, §2 "presumed abort").

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import { majority } from '../../core/quorum.js';
import type { RequestHandler, Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable } from '../tx-table.js';
import type { CommitChange, CommitRequest, Outcome, ParticipantTxView, RoleDecision, Vote } from '../types.js';
import type { TwoPcMessage, TwoPcWrite } from './messages.js';
import { isCoordinatorMessage } from './messages.js';

interface CoordinatorTx {
  readonly participants: readonly NodeId[];
  readonly votes: Map<NodeId, Vote>;
  outcome: Outcome | null;
  readonly startedAt: number;
  readonly requestIds: number[];
}

export const MUTANT_COMMIT_WITHOUT_ALL_VOTES = 'commit-without-all-votes';

export class TwoPcCoordinator implements Role<TwoPcMessage>, RequestHandler {
  readonly name = 'coordinator';
  private readonly txs: TxTable<CoordinatorTx>;
  private readonly collecting = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<TwoPcMessage, TwoPcWrite>,
    private readonly opts: CommitOptions,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `coordinator ${io.self}`);
  }

  /** After a crash only commit records survive; every other transaction is presumed aborted. */
  recover(writes: readonly TwoPcWrite[]): void {
    for (const w of writes) {
      if (w.type !== 'commit-record') continue;
      this.txs.set(w.tx, { participants: w.participants, votes: new Map(), outcome: 'commit', startedAt: 0, requestIds: [] });
    }
  }

  accepts(msg: TwoPcMessage): boolean {
    return isCoordinatorMessage(msg);
  }

  request(requestId: number, req: CommitRequest): void {
    const known = this.txs.get(req.tx);
    if (known !== undefined) {
      // A retry: answer once decided.
      if (known.outcome !== null) this.io.reply(requestId, { type: 'outcome', tx: req.tx, outcome: known.outcome });
      else known.requestIds.push(requestId);
      return;
    }
    if (req.retry === true) {
      // Unknown after a restart: never committed (a commit is recorded first), so presumed aborted.
      this.io.reply(requestId, { type: 'outcome', tx: req.tx, outcome: 'abort' });
      return;
    }
    const participants = this.opts.participants;
    this.txs.set(req.tx, { participants, votes: new Map(), outcome: null, startedAt: this.io.now(), requestIds: [requestId] });
    this.collecting.add(req.tx);
    for (const p of participants) this.io.send(p, { type: 'vote-request', tx: req.tx, participants });
  }

  step(from: NodeId, msg: TwoPcMessage): void {
    switch (msg.type) {
      case 'vote':
        this.onVote(from, msg.tx, msg.vote);
        return;
      case 'decision-request':
        this.onDecisionRequest(from, msg.tx);
        return;
      case 'vote-request':
      case 'decision':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of [...this.collecting]) {
      const t = this.txs.get(tx);
      // A participant that does not vote in time is taken as a no (2PC's only timeout at the coordinator).
      if (t !== undefined && now - t.startedAt >= this.opts.voteTimeoutTicks) this.decide(tx, t, 'abort');
    }
  }

  participantView(): readonly ParticipantTxView[] | null {
    return null;
  }

  changesFor(tx: TxId): readonly CommitChange[] {
    const o = this.txs.get(tx)?.outcome ?? null;
    return o === null ? [] : [{ kind: 'decision', entry: { tx, outcome: o, role: this.name } }];
  }

  decisions(): readonly RoleDecision[] {
    const out: RoleDecision[] = [];
    for (const [tx, t] of this.txs.entries()) if (t.outcome !== null) out.push({ tx, outcome: t.outcome, role: this.name });
    return out;
  }

  private onVote(from: NodeId, tx: TxId, vote: Vote): void {
    const t = this.txs.get(tx);
    // Unknown: presumed aborted (lost with a crash). Decided: a late or repeated vote.
    if (t === undefined) {
      if (vote === 'yes') this.io.send(from, { type: 'decision', tx, outcome: 'abort' });
      return;
    }
    if (t.outcome !== null || !t.participants.includes(from)) return;
    t.votes.set(from, vote);
    const yes = [...t.votes.values()].filter((v) => v === 'yes').length;
    const no = t.votes.size - yes;
    if (this.mutants.has(MUTANT_COMMIT_WITHOUT_ALL_VOTES)) {
      // Mutant: a majority of yes votes is taken as enough (breaks validity).
      const need = majority(t.participants.length);
      if (yes >= need) this.decide(tx, t, 'commit');
      else if (t.participants.length - no < need) this.decide(tx, t, 'abort');
      return;
    }
    if (no > 0) this.decide(tx, t, 'abort');
    else if (yes === t.participants.length) this.decide(tx, t, 'commit');
  }

  private decide(tx: TxId, t: CoordinatorTx, outcome: Outcome): void {
    t.outcome = outcome;
    this.collecting.delete(tx);
    // Presumed abort: only a commit is forced, and before any participant may hear of it.
    if (outcome === 'commit') this.io.write({ type: 'commit-record', tx, participants: t.participants });
    for (const p of t.participants) {
      // An abort need not reach those that voted no: they aborted when they voted.
      if (outcome === 'abort' && t.votes.get(p) === 'no') continue;
      this.io.send(p, { type: 'decision', tx, outcome });
    }
    for (const id of t.requestIds) this.io.reply(id, { type: 'outcome', tx, outcome });
    t.requestIds.length = 0;
    this.io.event('decided', { tx, outcome, role: this.name });
  }

  private onDecisionRequest(from: NodeId, tx: TxId): void {
    const t = this.txs.get(tx);
    if (t === undefined) {
      this.io.send(from, { type: 'decision', tx, outcome: 'abort' });
      return;
    }
    // Still collecting votes: the decision will follow.
    if (t.outcome !== null) this.io.send(from, { type: 'decision', tx, outcome: t.outcome });
  }
}
