// The 3PC coordinator (Skeen 1981). can-commit, then pre-commit once every
// vote is yes, then do-commit once every participant acknowledged (or, after
// ackTimeout, deemed failed: with a perfect failure detector a silent site has
// crashed and will learn the outcome when it recovers). Only the commit is
// forced; a coordinator that restarts without it asks the participants, and
// never decides on its own (they may have terminated without it).

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import { majority } from '../../core/quorum.js';
import type { RequestHandler, Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable } from '../tx-table.js';
import type { CommitChange, CommitRequest, Outcome, ParticipantTxView, RoleDecision, Vote } from '../types.js';
import { MUTANT_COMMIT_WITHOUT_ALL_VOTES } from '../two-phase/coordinator.js';
import type { ThreePcMessage, ThreePcWrite } from './messages.js';
import { isThreePcCoordinatorMessage } from './messages.js';

type Phase = 'collecting' | 'pre-committing' | 'inquiring' | 'done';

interface CoordinatorTx {
  readonly participants: readonly NodeId[];
  readonly votes: Map<NodeId, Vote>;
  readonly acks: Set<NodeId>;
  phase: Phase;
  outcome: Outcome | null;
  since: number;
  readonly requestIds: number[];
}

export class ThreePcCoordinator implements Role<ThreePcMessage>, RequestHandler {
  readonly name = 'coordinator';
  private readonly txs: TxTable<CoordinatorTx>;
  private readonly active = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<ThreePcMessage, ThreePcWrite>,
    private readonly opts: CommitOptions,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `coordinator ${io.self}`);
  }

  recover(writes: readonly ThreePcWrite[]): void {
    for (const w of writes) {
      if (w.type === 'outcome' && w.role === 'coordinator') {
        this.txs.set(w.tx, { participants: this.opts.participants, votes: new Map(), acks: new Set(), phase: 'done', outcome: w.outcome, since: 0, requestIds: [] });
      }
    }
  }

  accepts(msg: ThreePcMessage): boolean {
    return isThreePcCoordinatorMessage(msg);
  }

  request(requestId: number, req: CommitRequest): void {
    const known = this.txs.get(req.tx);
    if (known !== undefined) {
      if (known.outcome !== null) this.io.reply(requestId, { type: 'outcome', tx: req.tx, outcome: known.outcome });
      else known.requestIds.push(requestId);
      return;
    }
    const participants = this.opts.participants;
    if (req.retry === true) {
      // Unknown after a restart: the participants may have terminated without us; ask them.
      this.txs.set(req.tx, { participants, votes: new Map(), acks: new Set(), phase: 'inquiring', outcome: null, since: this.io.now(), requestIds: [requestId] });
      this.active.add(req.tx);
      this.inquire(req.tx, participants);
      return;
    }
    this.txs.set(req.tx, { participants, votes: new Map(), acks: new Set(), phase: 'collecting', outcome: null, since: this.io.now(), requestIds: [requestId] });
    this.active.add(req.tx);
    for (const p of participants) this.io.send(p, { type: 'can-commit', tx: req.tx, participants });
  }

  step(from: NodeId, msg: ThreePcMessage): void {
    switch (msg.type) {
      case 'vote':
        this.onVote(from, msg.tx, msg.vote);
        return;
      case 'ack':
        if (msg.round === -1) this.onAck(from, msg.tx);
        return;
      case 'decision-request': {
        const t = this.txs.get(msg.tx);
        if (t?.outcome === 'commit') this.io.send(from, { type: 'do-commit', tx: msg.tx });
        else if (t?.outcome === 'abort') this.io.send(from, { type: 'abort', tx: msg.tx });
        return;
      }
      case 'do-commit':
        this.learn(msg.tx, 'commit');
        return;
      case 'abort':
        this.learn(msg.tx, 'abort');
        return;
      case 'can-commit':
      case 'pre-commit':
      case 'state-request':
      case 'state-report':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of [...this.active]) {
      const t = this.txs.get(tx);
      if (t === undefined || now - t.since < this.opts.voteTimeoutTicks) continue;
      // Missing votes: abort. Missing acks: the silent sites have failed; commit (Skeen 1981).
      if (t.phase === 'collecting') this.decide(tx, t, 'abort');
      else if (t.phase === 'pre-committing') this.decide(tx, t, 'commit');
      else if (t.phase === 'inquiring') {
        t.since = now;
        this.inquire(tx, t.participants);
      }
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
    if (t === undefined || t.phase !== 'collecting' || !t.participants.includes(from)) return;
    t.votes.set(from, vote);
    const yes = [...t.votes.values()].filter((v) => v === 'yes').length;
    const no = t.votes.size - yes;
    let enough = yes === t.participants.length;
    if (this.mutants.has(MUTANT_COMMIT_WITHOUT_ALL_VOTES)) {
      // Mutant: a majority of yes votes is taken as enough.
      enough = yes >= majority(t.participants.length);
    } else if (no > 0) {
      this.decide(tx, t, 'abort');
      return;
    }
    if (!enough) return;
    t.phase = 'pre-committing';
    t.since = this.io.now();
    for (const p of t.participants) this.io.send(p, { type: 'pre-commit', tx, round: -1 });
  }

  private inquire(tx: TxId, participants: readonly NodeId[]): void {
    for (const p of participants) this.io.send(p, { type: 'decision-request', tx, participants });
  }

  private onAck(from: NodeId, tx: TxId): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.phase !== 'pre-committing') return;
    t.acks.add(from);
    if (t.participants.every((p) => t.acks.has(p))) this.decide(tx, t, 'commit');
  }

  private decide(tx: TxId, t: CoordinatorTx, outcome: Outcome): void {
    t.phase = 'done';
    t.outcome = outcome;
    this.active.delete(tx);
    if (outcome === 'commit') this.io.write({ type: 'outcome', tx, outcome, role: 'coordinator' });
    for (const p of t.participants) {
      if (outcome === 'abort' && t.votes.get(p) === 'no') continue;
      this.io.send(p, outcome === 'commit' ? { type: 'do-commit', tx } : { type: 'abort', tx });
    }
    this.finish(tx, t);
  }

  /** An outcome reached by the participants' termination protocol. */
  private learn(tx: TxId, outcome: Outcome): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.outcome !== null) return;
    t.phase = 'done';
    t.outcome = outcome;
    this.active.delete(tx);
    this.finish(tx, t);
  }

  private finish(tx: TxId, t: CoordinatorTx): void {
    for (const id of t.requestIds) this.io.reply(id, { type: 'outcome', tx, outcome: t.outcome ?? 'abort' });
    t.requestIds.length = 0;
    this.io.event('decided', { tx, outcome: t.outcome, role: this.name });
  }
}
