// The reference protocol's node: a single-leader replicated register that
// proves the simulator's machinery before Raft lands. Leader election is
// Raft's (terms, one vote per term, the up-to-date check of §5.4.1); instead
// of a log, the leader ships its whole state, each version stamped with its
// term, and a version is committed once a majority has it durably. Every
// client operation, reads included, becomes a version, so replies are
// linearizable. Deliberate bugs (mutants) are listed in spec.ts.

import { assert, assertNever } from '../../core/assert.js';
import type { Effects } from '../../core/effects.js';
import { Term, type NodeId } from '../../core/ids.js';
import type { Prng } from '../../core/prng.js';
import { majority } from '../../core/quorum.js';
import type { KvReply, KvRequest } from '../../kv/api.js';
import type { NodeContext, NodeView, SimNode, SimOutput } from '../protocol.js';
import { LeanEffects } from './batch.js';
import type { RegisterMessage, RegisterWrite } from './messages.js';
import { applyRequest, compareStates, EMPTY_STATE, findSession, stamp, type RegisterState } from './state.js';

export interface RegisterView extends NodeView {
  readonly term: number;
  readonly leader: NodeId | null;
  readonly version: number;
  readonly stateTerm: number;
  /** The highest version this node knows committed AND holds exactly (-1: none). */
  readonly committedVersion: number;
  readonly committedHash: number;
  readonly kv: Readonly<Record<string, unknown>>;
}

export interface RegisterOptions {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Versions the leader may have uncommitted; more requests are refused. */
  readonly maxPending: number;
}

type Role = 'follower' | 'candidate' | 'leader';
type Out = SimOutput<KvReply>;

interface Pending {
  readonly version: number;
  readonly state: RegisterState;
  readonly waiters: { requestId: number; reply: KvReply }[];
}

export class RegisterNode implements SimNode<RegisterMessage, RegisterWrite, KvRequest, KvReply> {
  readonly id: NodeId;
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private role: Role = 'follower';
  private term: Term;
  private votedFor: NodeId | null;
  private leader: NodeId | null = null;
  private accepted: RegisterState;
  private committed: { version: number; hash: number } = { version: -1, hash: 0 };
  private committedState: RegisterState = EMPTY_STATE;
  private elapsed = 0;
  private timeout = 0;
  private votes = new Set<NodeId>();
  // Leader state (Invariant: empty unless role === 'leader').
  private pending: Pending[] = [];
  private acked = new Map<NodeId, number>();
  private selfDurable = 0;
  private commitVersion = 0;
  /** The state version in the batch being persisted (counts as the leader's own ack once synced). */
  private persisting = -1;
  private persistingTerm = -1;
  private readonly fx = new LeanEffects<RegisterWrite, RegisterMessage, Out>();
  private viewCache: RegisterView | null = null;
  private readonly scratch: Float64Array;

  constructor(private readonly ctx: NodeContext, private readonly opts: RegisterOptions, private readonly rng: Prng, durable: { term: Term; votedFor: NodeId | null; state: RegisterState }) {
    this.id = ctx.id;
    this.peers = ctx.members.filter((m) => m !== ctx.id);
    this.quorum = majority(ctx.members.length);
    this.scratch = new Float64Array(ctx.members.length);
    this.term = durable.term;
    this.votedFor = durable.votedFor;
    this.accepted = durable.state;
    this.resetTimeout();
  }

  tick(): void {
    this.elapsed++;
    if (this.role === 'leader') {
      if (this.elapsed >= this.opts.heartbeatTicks) {
        this.elapsed = 0;
        this.broadcastAccept();
      }
      return;
    }
    if (this.elapsed >= this.timeout) this.campaign();
  }

  step(from: NodeId, msg: RegisterMessage): void {
    if (msg.term > this.term) this.becomeFollower(msg.term, msg.type === 'accept' ? from : null);
    switch (msg.type) {
      case 'request-vote':
        return this.onRequestVote(from, msg);
      case 'vote':
        return this.onVote(from, msg);
      case 'accept':
        return this.onAccept(from, msg);
      case 'accepted':
        return this.onAccepted(from, msg);
      default:
        assertNever(msg, 'register message');
    }
  }

  request(requestId: number, req: KvRequest): void {
    if (this.role !== 'leader') {
      this.reply(requestId, { ok: false, error: 'not-leader', leader: this.leader });
      return;
    }
    if (req.op.f === 'etcd') {
      this.reply(requestId, { ok: false, error: 'rejected', code: 'invalid', message: 'the reference register serves read, write, cas, delete and range only' });
      return;
    }
    if (req.op.f === 'read' && this.ctx.mutants.has('stale-read')) {
      // MUTANT stale-read: answers from the last state it knows committed, without confirming leadership.
      this.reply(requestId, { ok: true, value: this.committedState.kv[req.op.key] ?? null });
      return;
    }
    const session = findSession(this.accepted, req);
    if (session === 'stale') return this.reply(requestId, { ok: false, error: 'unknown' });
    if (session !== null) return this.answerWhenCommitted(requestId, session.version, session.reply);
    if (this.pending.length >= this.opts.maxPending) return this.reply(requestId, { ok: false, error: 'unknown' });
    const next = applyRequest(this.accepted, req, this.term);
    this.pending.push({ version: next.state.version, state: next.state, waiters: [{ requestId, reply: next.reply }] });
    this.setAccepted(next.state);
    this.broadcastAccept();
  }

  ready(): Effects<RegisterWrite, RegisterMessage, Out> | null {
    if (this.fx.empty) return null;
    const fx = this.fx.take();
    this.persisting = -1;
    for (const w of fx.persist) {
      if (w.type !== 'state') continue;
      this.persisting = w.state.version;
      this.persistingTerm = w.state.term;
    }
    return fx;
  }

  advance(): void {
    if (this.persisting >= 0 && this.role === 'leader' && this.persistingTerm === this.term) {
      this.selfDurable = Math.max(this.selfDurable, this.persisting);
      this.persisting = -1;
      this.advanceCommit();
    }
  }

  view(): RegisterView {
    if (this.viewCache === null) {
      this.viewCache = {
        id: this.id, role: this.role, term: this.term, leader: this.leader, version: this.accepted.version, stateTerm: this.accepted.term,
        committedVersion: this.committed.version, committedHash: this.committed.hash, kv: this.accepted.kv,
      };
    }
    return this.viewCache;
  }

  // ---- election (Raft §5.2) -----------------------------------------------

  private campaign(): void {
    this.role = 'candidate';
    this.term = Term(this.term + 1);
    this.votedFor = this.id;
    this.leader = null;
    this.votes = new Set([this.id]);
    this.touch();
    this.resetTimeout();
    this.fx.write({ type: 'hard', term: this.term, votedFor: this.id });
    this.event('campaign', { term: this.term });
    for (const p of this.peers) this.fx.send(p, { type: 'request-vote', term: this.term, lastTerm: this.accepted.term, lastVersion: this.accepted.version });
    if (this.votes.size >= this.quorum) this.becomeLeader();
  }

  private onRequestVote(from: NodeId, msg: Extract<RegisterMessage, { type: 'request-vote' }>): void {
    // Raft §5.4.1: vote only for a candidate whose state is at least as new as ours.
    const upToDate = this.ctx.mutants.has('unsafe-vote') || compareStates({ term: msg.lastTerm, version: msg.lastVersion }, this.accepted) >= 0;
    const granted = msg.term === this.term && (this.votedFor === null || this.votedFor === from) && upToDate;
    if (granted && this.votedFor !== from) {
      this.votedFor = from;
      this.fx.write({ type: 'hard', term: this.term, votedFor: from });
    }
    if (granted) this.elapsed = 0;
    // The vote is a promise resting on the write above: sent after it is durable.
    this.fx.send(from, { type: 'vote', term: this.term, granted });
  }

  private onVote(from: NodeId, msg: Extract<RegisterMessage, { type: 'vote' }>): void {
    if (this.role !== 'candidate' || msg.term !== this.term || !msg.granted) return;
    this.votes.add(from);
    if (this.votes.size >= this.quorum) this.becomeLeader();
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.leader = this.id;
    this.elapsed = 0;
    this.acked = new Map();
    this.selfDurable = 0;
    this.commitVersion = 0;
    const first = stamp(this.accepted, this.term);
    this.pending = [{ version: first.version, state: first, waiters: [] }];
    this.setAccepted(first);
    this.event('elected', { term: this.term, version: first.version });
    this.broadcastAccept();
  }

  private becomeFollower(term: Term, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.role = 'follower';
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
      this.fx.write({ type: 'hard', term, votedFor: null });
    }
    this.leader = leader;
    this.touch();
    if (!wasLeader) return;
    // Leadership lost with requests in flight: their outcome is unknown (a later leader may commit them).
    for (const p of this.pending) for (const w of p.waiters) this.reply(w.requestId, { ok: false, error: 'unknown' });
    this.pending = [];
    this.event('step-down', { term });
  }

  // ---- replication ----------------------------------------------------------

  private broadcastAccept(): void {
    // Raft thesis §10.2.1: the leader may send before its own write is durable.
    // One message object for every peer: messages are immutable.
    const msg: RegisterMessage = { type: 'accept', term: this.term, state: this.accepted, commit: this.commitVersion };
    for (const p of this.peers) this.fx.sendImmediately(p, msg);
  }

  private onAccept(from: NodeId, msg: Extract<RegisterMessage, { type: 'accept' }>): void {
    if (msg.term < this.term) {
      this.fx.send(from, { type: 'accepted', term: this.term, version: -1 });
      return;
    }
    assert(this.role !== 'leader', () => `two leaders in term ${msg.term}`);
    if (this.role === 'candidate' || this.leader !== from) {
      this.role = 'follower';
      this.leader = from;
      this.touch();
    }
    this.elapsed = 0;
    if (compareStates(msg.state, this.accepted) > 0) this.setAccepted(msg.state);
    if (this.accepted.term === msg.term && this.accepted.version <= msg.commit) this.learnCommitted(this.accepted);
    // The acknowledgement rests on the state write (if any): sent once it is durable.
    this.fx.send(from, { type: 'accepted', term: this.term, version: this.accepted.term === msg.term ? this.accepted.version : -1 });
  }

  private onAccepted(from: NodeId, msg: Extract<RegisterMessage, { type: 'accepted' }>): void {
    if (this.role !== 'leader' || msg.term !== this.term) return;
    if (msg.version > (this.acked.get(from) ?? 0)) {
      this.acked.set(from, msg.version);
      this.advanceCommit();
    }
  }

  private advanceCommit(): void {
    const quorumVersion = this.quorumVersion();
    // MUTANT ack-before-quorum: the leader's own durable copy is taken as enough.
    const ackVersion = this.ctx.mutants.has('ack-before-quorum') ? Math.max(quorumVersion, this.selfDurable) : quorumVersion;
    if (quorumVersion > this.commitVersion) {
      this.commitVersion = quorumVersion;
      this.event('commit', { version: quorumVersion });
    }
    for (const p of this.pending) {
      if (p.version > ackVersion) break;
      for (const w of p.waiters) this.reply(w.requestId, w.reply);
      p.waiters.length = 0;
    }
    while (this.pending.length > 0 && (this.pending[0] as Pending).version <= this.commitVersion) {
      this.learnCommitted((this.pending.shift() as Pending).state);
    }
  }

  /** The highest version durable on a majority (Raft §5.3's match-index rule), without allocating. */
  private quorumVersion(): number {
    const v = this.scratch;
    v[0] = this.selfDurable;
    for (let i = 0; i < this.peers.length; i++) v[i + 1] = this.acked.get(this.peers[i] as NodeId) ?? 0;
    // Insertion sort, descending: clusters are small.
    for (let i = 1; i < v.length; i++) {
      const x = v[i] as number;
      let j = i - 1;
      while (j >= 0 && (v[j] as number) < x) {
        v[j + 1] = v[j] as number;
        j--;
      }
      v[j + 1] = x;
    }
    return v[this.quorum - 1] as number;
  }

  private answerWhenCommitted(requestId: number, version: number, reply: KvReply): void {
    const target = this.pending.find((p) => p.version >= version);
    if (target === undefined) this.reply(requestId, reply);
    else target.waiters.push({ requestId, reply });
  }

  private learnCommitted(state: RegisterState): void {
    if (state.version > this.committed.version) {
      this.committed = { version: state.version, hash: state.hash };
      this.committedState = state;
      this.touch();
    }
  }

  private setAccepted(state: RegisterState): void {
    this.accepted = state;
    this.fx.write({ type: 'state', state });
    this.touch();
  }

  private reply(requestId: number, reply: KvReply): void {
    this.fx.output({ type: 'reply', requestId, reply });
  }

  private event(kind: string, detail: Record<string, unknown>): void {
    this.fx.output({ type: 'event', event: { kind, detail } });
  }

  private resetTimeout(): void {
    this.elapsed = 0;
    this.timeout = this.opts.electionTicks + this.rng.int(0, this.opts.electionTicks - 1);
  }

  private touch(): void {
    this.viewCache = null;
  }
}

export function emptyDurable(): { term: Term; votedFor: NodeId | null; state: RegisterState } {
  return { term: Term(0), votedFor: null, state: EMPTY_STATE };
}
