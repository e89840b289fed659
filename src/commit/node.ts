// A commit-protocol node: a few roles (coordinator, participant, acceptor,
// leader) hosted by one process, sharing one disk and one effects batch.
//
// Roles talk to each other through messages. A message between two roles of
// the same node is delivered at once, inside the same batch, and never reaches
// the network: that is what Gray & Lamport mean by co-located processes, and
// it is why their message counts drop when an acceptor lives beside an RM.
// Every message leaves after the batch's writes are durable (`send`), so a
// locally delivered message cannot let a reply overtake a write it rests on.

import { assert } from '../core/assert.js';
import { EffectsBuilder, type Effects } from '../core/effects.js';
import type { NodeId } from '../core/ids.js';
import type { Message } from '../core/replicated-log.js';
import type { SimNode, SimOutput } from '../sim/protocol.js';
import type { AcceptedEntry, CommitReply, CommitRequest, CommitView, ParticipantTxView, RoleDecision } from './types.js';

/** What a role may do: the host side of its node. */
export interface RoleIo<M extends Message, W> {
  readonly self: NodeId;
  /** Ticks since this node (re)started. */
  now(): number;
  send(to: NodeId, msg: M): void;
  write(w: W): void;
  reply(requestId: number, reply: CommitReply): void;
  event(kind: string, detail?: Readonly<Record<string, unknown>>): void;
  /** The role changed state without any effect (so the node's view must be rebuilt). */
  touch(): void;
}

export interface Role<M extends Message> {
  readonly name: string;
  /** True when messages of this type are for this role. */
  accepts(msg: M): boolean;
  step(from: NodeId, msg: M): void;
  tick(): void;
  /** Participant roles return their transactions; others null. */
  participantView(): readonly ParticipantTxView[] | null;
  decisions(): readonly RoleDecision[];
  /** Paxos Commit acceptors only. */
  acceptedView?(): readonly AcceptedEntry[];
}

export interface RequestHandler {
  request(requestId: number, req: CommitRequest): void;
}

/** Most messages a node may deliver to itself in one input; more is a bug (a local loop). */
const LOCAL_DELIVERY_LIMIT = 100_000;

export class CommitNode<M extends Message, W> implements SimNode<M, W, CommitRequest, CommitReply> {
  readonly id: NodeId;
  private readonly fx = new EffectsBuilder<W, M, SimOutput<CommitReply>>();
  private readonly roles: Role<M>[] = [];
  private requests: RequestHandler | null = null;
  private readonly local: { from: NodeId; msg: M }[] = [];
  private ticks = 0;
  private dirty = true;
  private cached: CommitView | null = null;
  private inFlight = false;
  readonly io: RoleIo<M, W>;

  constructor(
    id: NodeId,
    private readonly protocol: string,
  ) {
    this.id = id;
    this.io = {
      self: id,
      now: () => this.ticks,
      send: (to, msg) => {
        this.dirty = true;
        if (to === id) this.local.push({ from: id, msg });
        else this.fx.send(to, msg);
      },
      write: (w) => {
        this.dirty = true;
        this.fx.write(w);
      },
      reply: (requestId, reply) => this.fx.output({ type: 'reply', requestId, reply }),
      event: (kind, detail) => this.fx.output({ type: 'event', event: detail === undefined ? { kind } : { kind, detail } }),
      touch: () => {
        this.dirty = true;
      },
    };
  }

  addRole(role: Role<M>): void {
    this.roles.push(role);
  }

  handleRequests(handler: RequestHandler): void {
    assert(this.requests === null, 'one request handler per node');
    this.requests = handler;
  }

  tick(): void {
    this.guard();
    this.ticks++;
    for (const r of this.roles) r.tick();
    this.drainLocal();
  }

  step(from: NodeId, msg: M): void {
    this.guard();
    this.dirty = true;
    this.deliver(from, msg);
    this.drainLocal();
  }

  request(requestId: number, req: CommitRequest): void {
    this.guard();
    this.dirty = true;
    if (this.requests === null) {
      // Not the coordinator: say so; the client retries there.
      this.io.reply(requestId, { type: 'not-coordinator', tx: req.tx, coordinator: this.id });
      return;
    }
    this.requests.request(requestId, req);
    this.drainLocal();
  }

  ready(): Effects<W, M, SimOutput<CommitReply>> | null {
    if (this.fx.empty) return null;
    this.inFlight = true;
    return this.fx.take();
  }

  advance(): void {
    this.inFlight = false;
  }

  view(): CommitView {
    if (this.cached !== null && !this.dirty) return this.cached;
    let participant: readonly ParticipantTxView[] | null = null;
    let accepted: readonly AcceptedEntry[] | null = null;
    const decisions: RoleDecision[] = [];
    for (const r of this.roles) {
      participant = r.participantView() ?? participant;
      accepted = r.acceptedView?.() ?? accepted;
      decisions.push(...r.decisions());
    }
    this.cached = { id: this.id, role: this.roles.map((r) => r.name).join('+'), protocol: this.protocol, participant, decisions, accepted };
    this.dirty = false;
    return this.cached;
  }

  private guard(): void {
    // Invariant: no input reaches a node between its ready() and advance() (SimNode contract).
    assert(!this.inFlight, () => `node ${this.id}: input between ready() and advance()`);
  }

  private deliver(from: NodeId, msg: M): void {
    let handled = false;
    for (const r of this.roles) {
      if (r.accepts(msg)) {
        r.step(from, msg);
        handled = true;
      }
    }
    // A message no role here takes (a stale or misrouted one) is dropped, as a
    // process would; it is shown in the trace rather than asserted: it comes from the network.
    if (!handled) this.io.event('unhandled-message', { type: msg.type, from });
  }

  private drainLocal(): void {
    let n = 0;
    while (this.local.length > 0) {
      const next = this.local.shift() as { from: NodeId; msg: M };
      assert(++n <= LOCAL_DELIVERY_LIMIT, () => `node ${this.id}: local delivery loop`);
      this.deliver(next.from, next.msg);
    }
  }
}
