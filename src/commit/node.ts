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
import type { NodeId, TxId } from '../core/ids.js';
import type { Message } from '../core/replicated-log.js';
import type { SimNode, SimOutput } from '../sim/protocol.js';
import type { AcceptedEntry, CommitChange, CommitReply, CommitRequest, CommitView, ParticipantTxView, RoleDecision } from './types.js';

/** What a role may do: the host side of its node. */
export interface RoleIo<M extends Message, W> {
  readonly self: NodeId;
  /** Ticks since this node (re)started. */
  now(): number;
  send(to: NodeId, msg: M): void;
  write(w: W): void;
  reply(requestId: number, reply: CommitReply): void;
  event(kind: string, detail?: Readonly<Record<string, unknown>>): void;
  /** The role changed the state of tx without any message, write or event about it. */
  touch(tx: TxId): void;
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
  /** This role's state of one transaction, for the node's change log. */
  changesFor(tx: TxId): readonly CommitChange[];
}

export interface RequestHandler {
  request(requestId: number, req: CommitRequest): void;
}

/** Most messages a node may deliver to itself in one input; more is a bug (a local loop). */
const LOCAL_DELIVERY_LIMIT = 100_000;
/** The change log keeps at most this many entries; the older half goes when it is full. */
const CHANGE_LOG_LIMIT = 100_000;

function txOf(x: unknown): string | null {
  const tx = (x as { tx?: unknown } | null)?.tx;
  return typeof tx === 'string' ? tx : null;
}

export class CommitNode<M extends Message, W> implements SimNode<M, W, CommitRequest, CommitReply> {
  readonly id: NodeId;
  private readonly fx = new EffectsBuilder<W, M, SimOutput<CommitReply>>();
  private readonly roles: Role<M>[] = [];
  private requests: RequestHandler | null = null;
  private readonly local: { from: NodeId; msg: M }[] = [];
  private ticks = 0;
  /** Transactions touched since the last view(): any message, write or event about them. */
  private readonly dirty = new Set<string>();
  private changes: CommitChange[] = [];
  private pending: CommitChange[] = [];
  private changesBase = 0;
  private cached: CommitView;
  private inFlight = false;
  readonly io: RoleIo<M, W>;

  constructor(
    id: NodeId,
    private readonly protocol: string,
  ) {
    this.id = id;
    this.cached = this.makeView();
    this.io = {
      self: id,
      now: () => this.ticks,
      send: (to, msg) => {
        this.touchTx(msg);
        if (to === id) this.local.push({ from: id, msg });
        else this.fx.send(to, msg);
      },
      write: (w) => {
        this.touchTx(w);
        this.fx.write(w);
      },
      reply: (requestId, reply) => this.fx.output({ type: 'reply', requestId, reply }),
      event: (kind, detail) => {
        this.touchTx(detail);
        this.fx.output({ type: 'event', event: detail === undefined ? { kind } : { kind, detail } });
      },
      touch: (tx) => {
        this.dirty.add(tx);
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
    this.touchTx(msg);
    this.deliver(from, msg);
    this.drainLocal();
  }

  request(requestId: number, req: CommitRequest): void {
    this.guard();
    this.dirty.add(req.tx);
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
    // The state behind this batch shows in the change log only once the host
    // has executed it (advance): a decision lost in a crash before its write
    // was durable was never a decision anyone could act on.
    for (const tx of this.dirty) for (const r of this.roles) this.pending.push(...r.changesFor(tx as TxId));
    this.dirty.clear();
    return this.fx.take();
  }

  advance(): void {
    this.inFlight = false;
    if (this.pending.length === 0) return;
    this.changes.push(...this.pending);
    this.pending = [];
    this.cached = this.makeView();
    if (this.changes.length > CHANGE_LOG_LIMIT) {
      const drop = this.changes.length - CHANGE_LOG_LIMIT / 2;
      this.changes = this.changes.slice(drop);
      this.changesBase += drop;
    }
  }

  /** After a restart: every transaction the disk mentions enters the change log. */
  recovered(writes: readonly unknown[]): void {
    for (const w of writes) this.touchTx(w);
  }

  view(): CommitView {
    return this.cached;
  }

  private touchTx(x: unknown): void {
    const tx = txOf(x);
    if (tx !== null) this.dirty.add(tx);
  }

  /**
   * A new view object whenever the change log grew (the simulator skips its
   * checks while every view is the very object it saw last); its getters read
   * the node's current state when (and only if) asked.
   */
  private makeView(): CommitView {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    return {
      id: this.id,
      protocol: this.protocol,
      get role() {
        return node.roles.map((r) => r.name).join('+');
      },
      get changes() {
        return node.changes;
      },
      get changesBase() {
        return node.changesBase;
      },
      get participant() {
        let out: readonly ParticipantTxView[] | null = null;
        for (const r of node.roles) out = r.participantView() ?? out;
        return out;
      },
      get decisions() {
        return node.roles.flatMap((r) => r.decisions());
      },
      get accepted() {
        let out: readonly AcceptedEntry[] | null = null;
        for (const r of node.roles) out = r.acceptedView?.() ?? out;
        return out;
      },
    };
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
