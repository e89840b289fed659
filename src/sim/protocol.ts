// The contract between the simulator and a protocol. The simulator knows
// nothing of Raft or Paxos: it drives `SimNode`s, moves their messages over a
// faulty network, keeps their durable writes on a faulty disk, and asks the
// protocol's invariants whether the cluster is still safe.

import type { Effects } from '../core/effects.js';
import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';
import type { Message, ProtocolEvent } from '../core/replicated-log.js';
import type { OperatorFactory } from './operator.js';
import type { Report } from './report.js';
import type { Scenario } from './scenario.js';
import type { WorkloadFactory, WorkloadKind } from './workload.js';

export type { WorkloadKind } from './workload.js';

/** What a node reports to the host besides messages and writes. */
export type SimOutput<Reply> =
  /** The answer to a client request, routed back to the client that sent it. */
  | { readonly type: 'reply'; readonly requestId: number; readonly reply: Reply }
  /** A protocol event for the trace (role change, commit, apply, snapshot, ...). */
  | { readonly type: 'event'; readonly event: ProtocolEvent };

/**
 * A protocol node as the simulator drives it. Pure and synchronous.
 * After every input the simulator calls `ready()`; when it returns a batch,
 * the simulator executes it (sendNow, persist with disk latency, sendAfterPersist,
 * outputs) and then calls `advance()`. No input reaches a node between its
 * `ready()` and `advance()`.
 */
export interface SimNode<M extends Message, W, Req, Reply> {
  readonly id: NodeId;
  /** One tick of the protocol's logical clock (`tickMs` of virtual time). */
  tick(): void;
  step(from: NodeId, msg: M): void;
  /** A client request arrives at this node; its reply carries `requestId`. */
  request(requestId: number, req: Req): void;
  ready(): Effects<W, M, SimOutput<Reply>> | null;
  advance(): void;
  /** A JSON-friendly summary for invariants, the trace and the playground. */
  view(): NodeView;
}

/** Every protocol's view has these; protocols add their own fields. */
export interface NodeView {
  readonly id: NodeId;
  readonly role: string;
  readonly [field: string]: unknown;
}

export interface NodeContext {
  readonly id: NodeId;
  /** Every member of the initial cluster, this node included. */
  readonly members: readonly NodeId[];
  /** This node's own random stream (election timeouts, back-off). */
  readonly rng: Prng;
  /** Deliberate bugs switched on for this run (see each protocol's mutants). */
  readonly mutants: ReadonlySet<string>;
  /** Protocol options chosen by the run (e.g. timeouts in ticks); the protocol validates them. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** An invariant checked after every simulator event. Returns null when it holds, else what is wrong. */
export interface Invariant<V extends NodeView = NodeView> {
  readonly name: string;
  /**
   * `views` holds the current view of every node that is up; `observe` lets the
   * invariant keep history across events (e.g. "one leader per term, ever").
   */
  check(views: readonly V[], event: number): string | null;
}

export interface ProtocolSpec<M extends Message = Message, W = unknown, Req = unknown, Reply = unknown> {
  readonly name: string;
  readonly description: string;
  /**
   * The client workload: a built-in one by name ('kv': clients doing
   * read/write/cas with KvRequest/KvReply, checked for linearizability), or the
   * protocol's own factory (see src/sim/workload.ts).
   */
  readonly workload: WorkloadKind | WorkloadFactory<Req, Reply>;
  /** Deliberate bugs this protocol can switch on, with what each breaks. */
  readonly mutants: Readonly<Record<string, string>>;
  /** Milliseconds of virtual time per tick. */
  readonly tickMs: number;
  /**
   * The options the protocol reads from NodeContext.options (name -> what it
   * does), when it declares them: `synod sim --option` then refuses other names.
   */
  readonly options?: Readonly<Record<string, string>>;
  /** A fresh node with empty durable state. */
  create(ctx: NodeContext): SimNode<M, W, Req, Reply>;
  /** A node restarted from the writes that survived on its disk, in the order they were made. */
  recover(ctx: NodeContext, durable: readonly W[]): SimNode<M, W, Req, Reply>;
  /** Fresh invariant instances for one run. */
  invariants(): readonly Invariant[];
  /** Named scripted fault schedules (`synod sim --scenario NAME`), see src/sim/scenario.ts. */
  readonly scenarios?: readonly Scenario[];
  /**
   * Extra sections for the run summary (e.g. a message report), see src/sim/report.ts.
   * `requested` holds the names given with `synod sim --report a,b` (empty without it).
   */
  readonly report?: (requested: ReadonlySet<string>) => Report;
  /**
   * Administrator requests made through the nodes' own API during the run
   * (membership changes, leadership transfers), started when `--faults` names
   * one of their activities, see src/sim/operator.ts.
   */
  readonly operator?: OperatorFactory;
}
