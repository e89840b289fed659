// A Paxos Commit acceptor: one Paxos acceptor per instance (per RM) of every
// transaction. Ballot-0 accepts from the RMs are gathered and written in one
// record, then answered with one accepted (2b) message for all of them — the
// bundling Gray & Lamport count (§4.2, §6). A higher prepare first settles
// what is gathered, so a promise always reports it.

import { assertNever } from '../../core/assert.js';
import type { NodeId, TxId } from '../../core/ids.js';
import type { Role, RoleIo } from '../node.js';
import type { CommitOptions } from '../options.js';
import { TxTable } from '../tx-table.js';
import type { AcceptedEntry, CommitChange, ParticipantTxView, RoleDecision } from '../types.js';
import { ballotOwner } from './ballot.js';
import type { InstanceReport, InstanceValue, PaxosCommitMessage, PaxosCommitWrite, PaxosValue } from './messages.js';

interface Instance {
  promised: number;
  ballot: number;
  value: PaxosValue | null;
}

interface AcceptorTx {
  participants: readonly NodeId[];
  readonly instances: Map<NodeId, Instance>;
  pending: InstanceValue[];
  pendingSince: number;
}

/** Ticks an acceptor waits for the other RMs' ballot-0 accepts before answering those it has. */
const BUNDLE_TICKS = 2;

export class PaxosCommitAcceptor implements Role<PaxosCommitMessage> {
  readonly name = 'acceptor';
  private readonly txs: TxTable<AcceptorTx>;
  private readonly gathering = new Set<TxId>();

  constructor(
    private readonly io: RoleIo<PaxosCommitMessage, PaxosCommitWrite>,
    private readonly opts: CommitOptions,
    private readonly members: readonly NodeId[],
  ) {
    this.txs = new TxTable(opts.maxTransactions, `acceptor ${io.self}`);
  }

  recover(writes: readonly PaxosCommitWrite[]): void {
    for (const w of writes) {
      if (w.type === 'acceptor-promised') {
        const t = this.tx(w.tx, w.participants);
        for (const rm of w.participants) this.instance(t, rm).promised = Math.max(this.instance(t, rm).promised, w.ballot);
      } else if (w.type === 'acceptor-accepted') {
        const t = this.tx(w.tx, w.participants);
        for (const { rm, value } of w.values) Object.assign(this.instance(t, rm), { ballot: w.ballot, value, promised: Math.max(this.instance(t, rm).promised, w.ballot) });
      }
    }
  }

  accepts(msg: PaxosCommitMessage): boolean {
    return msg.type === 'accept' || msg.type === 'prepare';
  }

  step(from: NodeId, msg: PaxosCommitMessage): void {
    switch (msg.type) {
      case 'accept':
        if (msg.ballot === 0) this.onBallotZero(from, msg.tx, msg.participants, msg.values);
        else this.onAccept(msg.tx, msg.ballot, msg.participants, msg.values);
        return;
      case 'prepare':
        this.onPrepare(from, msg.tx, msg.ballot, msg.participants);
        return;
      case 'vote-request':
      case 'accepted':
      case 'promise':
      case 'decision':
      case 'decision-request':
        return;
      default:
        assertNever(msg, 'message');
    }
  }

  tick(): void {
    const now = this.io.now();
    for (const tx of [...this.gathering]) {
      const t = this.txs.get(tx);
      if (t !== undefined && now - t.pendingSince >= BUNDLE_TICKS) this.flush(tx, t);
    }
  }

  participantView(): readonly ParticipantTxView[] | null {
    return null;
  }

  decisions(): readonly RoleDecision[] {
    return [];
  }

  acceptedView(): readonly AcceptedEntry[] {
    return [...this.txs.keys()].flatMap((tx) => this.entries(tx));
  }

  changesFor(tx: TxId): readonly CommitChange[] {
    return this.entries(tx).map((entry) => ({ kind: 'accepted', entry }));
  }

  private entries(tx: TxId): AcceptedEntry[] {
    const out: AcceptedEntry[] = [];
    const t = this.txs.get(tx);
    if (t === undefined) return out;
    for (const [rm, i] of t.instances) if (i.value !== null) out.push({ tx, rm, ballot: i.ballot, value: i.value, quorum: this.opts.faultTolerance + 1 });
    return out;
  }

  private tx(tx: TxId, participants: readonly NodeId[]): AcceptorTx {
    let t = this.txs.get(tx);
    if (t === undefined) this.txs.set(tx, (t = { participants, instances: new Map(), pending: [], pendingSince: 0 }));
    if (t.participants.length === 0) t.participants = participants;
    return t;
  }

  private instance(t: AcceptorTx, rm: NodeId): Instance {
    let i = t.instances.get(rm);
    if (i === undefined) t.instances.set(rm, (i = { promised: 0, ballot: -1, value: null }));
    return i;
  }

  /** Ballot 0: an RM proposes its own vote (only it may use ballot 0 of its instance). */
  private onBallotZero(from: NodeId, tx: TxId, participants: readonly NodeId[], values: readonly InstanceValue[]): void {
    const t = this.tx(tx, participants);
    for (const v of values) {
      const i = this.instance(t, v.rm);
      if (v.rm !== from || i.promised > 0 || i.ballot >= 0 || t.pending.some((p) => p.rm === v.rm)) continue;
      if (t.pending.length === 0) t.pendingSince = this.io.now();
      t.pending.push(v);
      this.gathering.add(tx);
    }
    // Every RM's vote is here: no reason to wait.
    const settled = t.participants.every((rm) => t.pending.some((p) => p.rm === rm) || this.instance(t, rm).ballot >= 0);
    if (settled) this.flush(tx, t);
  }

  private flush(tx: TxId, t: AcceptorTx): void {
    this.gathering.delete(tx);
    if (t.pending.length === 0) return;
    const values = t.pending;
    t.pending = [];
    for (const v of values) Object.assign(this.instance(t, v.rm), { ballot: 0, value: v.value });
    this.io.write({ type: 'acceptor-accepted', tx, ballot: 0, participants: t.participants, values });
    this.reply(tx, 0, t.participants, values);
  }

  /** Phase 2b at a leader's ballot (Paxos: accept unless promised a higher ballot). */
  private onAccept(tx: TxId, ballot: number, participants: readonly NodeId[], values: readonly InstanceValue[]): void {
    const t = this.tx(tx, participants);
    this.flush(tx, t);
    const taken = values.filter((v) => this.instance(t, v.rm).promised <= ballot);
    if (taken.length === 0) return;
    for (const v of taken) Object.assign(this.instance(t, v.rm), { promised: ballot, ballot, value: v.value });
    this.io.write({ type: 'acceptor-accepted', tx, ballot, participants: t.participants, values: taken });
    this.reply(tx, ballot, t.participants, taken);
  }

  private reply(tx: TxId, ballot: number, participants: readonly NodeId[], values: readonly InstanceValue[]): void {
    const leader = ballot === 0 ? this.opts.coordinator : ballotOwner(ballot, this.members);
    const to = new Set<NodeId>([leader]);
    // Faster Paxos Commit (§6): the RMs learn from the acceptors directly.
    if (this.opts.faster) for (const rm of participants) to.add(rm);
    for (const n of to) this.io.send(n, { type: 'accepted', tx, ballot, participants, values });
  }

  /** Phase 1b for every instance of tx; refused (silently) if any instance promised a higher ballot. */
  private onPrepare(from: NodeId, tx: TxId, ballot: number, participants: readonly NodeId[]): void {
    const t = this.tx(tx, participants);
    this.flush(tx, t);
    if (participants.some((rm) => this.instance(t, rm).promised >= ballot)) return;
    for (const rm of participants) this.instance(t, rm).promised = ballot;
    this.io.write({ type: 'acceptor-promised', tx, ballot, participants });
    const instances: InstanceReport[] = participants.map((rm) => {
      const i = this.instance(t, rm);
      return { rm, ballot: i.ballot, value: i.value };
    });
    this.io.send(from, { type: 'promise', tx, ballot, instances });
  }
}
