// The Paxos Commit leader. On the TM's node it starts each transaction
// (vote-request to every RM) and learns the ballot-0 choices from the
// acceptors' accepted messages. Any node's leader can take a transaction
// over: phase 1 at a fresh ballot for every instance, then phase 2 with the
// value each instance may already have chosen — or "aborted" for an RM that
// stayed silent (§4.1). The decision is sent to every RM (phase 3).

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import type { CommitChange, CommitRequest, Outcome, ParticipantTxView, RoleDecision } from '../types.js';
import type { RequestHandler, Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable } from '../tx-table.js';
import { Tally, ballotOf } from './ballot.js';
import type { InstanceReport, InstanceValue, PaxosCommitMessage, PaxosCommitWrite } from './messages.js';

export const MUTANT_IGNORE_PROMISE = 'paxos-commit-ignore-promise';

interface LeaderTx {
  readonly participants: readonly NodeId[];
  ballot: number;
  phase: 'ballot-0' | 'phase-1' | 'phase-2' | 'decided' | 'idle';
  readonly promises: Map<NodeId, readonly InstanceReport[]>;
  readonly tally: Tally;
  outcome: Outcome | null;
  since: number;
  patience: number;
  readonly requestIds: number[];
  readonly askers: Set<NodeId>;
}

export class PaxosCommitLeader implements Role<PaxosCommitMessage>, RequestHandler {
  readonly name = 'leader';
  private readonly txs: TxTable<LeaderTx>;
  private readonly running = new Set<TxId>();
  private round = 0;
  private readonly index: number;

  constructor(
    private readonly io: RoleIo<PaxosCommitMessage, PaxosCommitWrite>,
    private readonly opts: CommitOptions,
    private readonly members: readonly NodeId[],
    private readonly acceptors: readonly NodeId[],
    private readonly rng: Prng,
    private readonly mutants: ReadonlySet<string>,
  ) {
    this.txs = new TxTable(opts.maxTransactions, `leader ${io.self}`);
    this.index = members.indexOf(io.self);
  }

  /** The leader keeps only its round: a ballot is never used twice, even across crashes. */
  recover(writes: readonly PaxosCommitWrite[]): void {
    for (const w of writes) if (w.type === 'leader-round') this.round = Math.max(this.round, w.round + 1);
  }

  get isTm(): boolean {
    return this.io.self === this.opts.coordinator;
  }

  accepts(msg: PaxosCommitMessage): boolean {
    return msg.type === 'accepted' || msg.type === 'promise' || msg.type === 'decision' || (msg.type === 'decision-request' && this.isTm);
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
      // Unknown after a restart: the acceptors know what was chosen; take over and answer then.
      this.takeOver(req.tx, participants);
      this.txs.get(req.tx)?.requestIds.push(requestId);
      return;
    }
    const t = this.fresh(participants, 'ballot-0');
    t.requestIds.push(requestId);
    this.txs.set(req.tx, t);
    this.running.add(req.tx);
    for (const rm of participants) this.io.send(rm, { type: 'vote-request', tx: req.tx, participants });
  }

  /** An RM in doubt (or the TM after a restart) asks this node's leader to finish tx. */
  takeOver(tx: TxId, participants: readonly NodeId[]): void {
    let t = this.txs.get(tx);
    if (t === undefined) this.txs.set(tx, (t = this.fresh(participants, 'idle')));
    if (t.outcome !== null || t.phase === 'phase-1' || t.phase === 'phase-2') return;
    this.running.add(tx);
    this.startPhase1(tx, t);
  }

  step(from: NodeId, msg: PaxosCommitMessage): void {
    switch (msg.type) {
      case 'accepted':
        this.onAccepted(from, msg.tx, msg.ballot, msg.participants, msg.values);
        return;
      case 'promise':
        this.onPromise(from, msg.tx, msg.ballot, msg.instances);
        return;
      case 'decision':
        this.learn(msg.tx, msg.outcome, false);
        return;
      case 'decision-request':
        this.onDecisionRequest(from, msg.tx, msg.participants);
        return;
      case 'vote-request':
      case 'accept':
      case 'prepare':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of [...this.running]) {
      const t = this.txs.get(tx);
      if (t === undefined || t.outcome !== null || now - t.since < t.patience) continue;
      // No choice in time: take over at a higher ballot (an RM may have stayed silent, an acceptor failed, a rival leader won).
      this.startPhase1(tx, t);
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

  outcomeOf(tx: TxId): Outcome | null {
    return this.txs.get(tx)?.outcome ?? null;
  }

  private fresh(participants: readonly NodeId[], phase: LeaderTx['phase']): LeaderTx {
    return {
      participants, ballot: 0, phase, promises: new Map(), tally: new Tally(this.opts.faultTolerance + 1), outcome: null,
      since: this.io.now(), patience: this.opts.leaderTimeoutTicks, requestIds: [], askers: new Set(),
    };
  }

  private startPhase1(tx: TxId, t: LeaderTx): void {
    const ballot = ballotOf(this.round, this.index, this.members.length);
    this.io.write({ type: 'leader-round', round: this.round });
    this.round++;
    t.ballot = ballot;
    t.phase = 'phase-1';
    t.promises.clear();
    t.since = this.io.now();
    // Randomized patience so that rival leaders do not duel forever.
    t.patience = this.opts.leaderTimeoutTicks + this.rng.int(0, this.opts.leaderTimeoutTicks);
    this.io.event('take-over', { tx, ballot });
    for (const a of this.acceptors) this.io.send(a, { type: 'prepare', tx, ballot, participants: t.participants });
  }

  private onPromise(from: NodeId, tx: TxId, ballot: number, instances: readonly InstanceReport[]): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.phase !== 'phase-1' || t.ballot !== ballot) return;
    t.promises.set(from, instances);
    if (t.promises.size < this.opts.faultTolerance + 1) return;
    // Phase 2a: each instance keeps the value accepted at the highest ballot
    // any promise reports; only an instance with none may be given "aborted".
    const values: InstanceValue[] = t.participants.map((rm) => {
      let best: InstanceReport | null = null;
      for (const reports of t.promises.values()) {
        const r = reports.find((x) => x.rm === rm);
        if (r !== undefined && r.value !== null && (best === null || r.ballot > best.ballot)) best = r;
      }
      const ignore = this.mutants.has(MUTANT_IGNORE_PROMISE);
      return { rm, value: best === null || best.value === null || ignore ? 'aborted' : best.value };
    });
    t.phase = 'phase-2';
    for (const a of this.acceptors) this.io.send(a, { type: 'accept', tx, ballot, participants: t.participants, values });
  }

  private onAccepted(from: NodeId, tx: TxId, ballot: number, participants: readonly NodeId[], values: readonly InstanceValue[]): void {
    let t = this.txs.get(tx);
    if (t === undefined) {
      // A faster-mode 2b at a node whose leader never ran this transaction: learn from it anyway.
      this.txs.set(tx, (t = this.fresh(participants, 'idle')));
    }
    if (t.outcome !== null) return;
    t.tally.add(from, ballot, values);
    const outcome = t.tally.outcome(t.participants);
    if (outcome !== null) this.learn(tx, outcome, true);
  }

  private learn(tx: TxId, outcome: Outcome, announce: boolean): void {
    const t = this.txs.get(tx);
    if (t === undefined || t.outcome !== null) return;
    t.outcome = outcome;
    t.phase = 'decided';
    this.running.delete(tx);
    // Phase 3 (§4.1). Faster Paxos Commit has none: the RMs learned from the acceptors.
    if (announce && !this.opts.faster) {
      for (const rm of t.participants) {
        // An RM whose own "aborted" was chosen aborted when it voted (as in 2PC).
        if (outcome === 'abort' && t.tally.chosenValue(rm) === 'aborted' && t.tally.chosenByItsRm(rm)) continue;
        this.io.send(rm, { type: 'decision', tx, outcome });
      }
    }
    for (const a of t.askers) this.io.send(a, { type: 'decision', tx, outcome });
    t.askers.clear();
    for (const id of t.requestIds) this.io.reply(id, { type: 'outcome', tx, outcome });
    t.requestIds.length = 0;
    this.io.event('decided', { tx, outcome, role: this.name });
  }

  /** At the TM: answer, or (not knowing, e.g. after a restart) take the transaction over. */
  private onDecisionRequest(from: NodeId, tx: TxId, participants: readonly NodeId[]): void {
    const t = this.txs.get(tx);
    if (t?.outcome != null) {
      this.io.send(from, { type: 'decision', tx, outcome: t.outcome });
      return;
    }
    this.takeOver(tx, participants);
    this.txs.get(tx)?.askers.add(from);
  }
}
