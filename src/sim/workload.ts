// Pluggable client workloads. A protocol names a built-in workload ('kv') or
// supplies its own factory (Paxos's decrees, atomic commit's transactions).
// A workload is the set of simulated clients: it sends requests to nodes,
// reacts to replies and timers, records what it observed, and at the end of a
// run judges it (the kv workload checks linearizability).

import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';

export interface WorkloadContext<Req> {
  /** Every member of the cluster. */
  readonly members: readonly NodeId[];
  /** The workload's own random stream. */
  readonly rng: Prng;
  /** Virtual time, ms. */
  now(): number;
  /** Sends a client request to `node` over the client network; the reply comes back to `onReply` with the returned id. */
  send(node: NodeId, req: Req): number;
  /** Calls the workload's `onTimer(tag)` after `delayMs` of virtual time. */
  setTimer(delayMs: number, tag: number): void;
  /** Records the start of an operation by client `process` (trace 'invoke'). */
  invoke(process: number, op: unknown): void;
  /** Records its end: `outcome` is 'ok' | 'fail' | 'info' or the workload's own word (trace 'complete'). */
  complete(process: number, outcome: string, result: unknown): void;
}

/** The verdict of one check a workload runs at the end of a run. */
export type WorkloadVerdict =
  | { readonly result: 'ok'; readonly check: string; readonly detail?: string }
  | { readonly result: 'violation'; readonly check: string; readonly message: string }
  /** The check could not decide (search budget exhausted): not a failure, but reported. */
  | { readonly result: 'unknown'; readonly check: string; readonly reason: string };

export interface Workload<Req, Reply> {
  /** Called once at time 0 of the run. */
  start(ctx: WorkloadContext<Req>): void;
  onReply(requestId: number, from: NodeId, reply: Reply): void;
  onTimer(tag: number): void;
  /** Operations that completed with a definite outcome so far (the liveness phase waits for new ones). */
  completed(): number;
  /** Stop starting new operations (the run is ending). */
  stop(): void;
  /** After the run: operations never answered become indeterminate; then judge the history. */
  finish(budget: CheckBudget): readonly WorkloadVerdict[];
  /** Counters for the run summary (e.g. ops ok / fail / info). */
  stats(): Readonly<Record<string, number>>;
}

export interface CheckBudget {
  /** Upper bound on search steps for an expensive check (linearizability). */
  readonly maxSteps: number;
}

export interface WorkloadOptions {
  /** Number of concurrent clients. */
  readonly clients: number;
  /** Workload options chosen by the run; the workload validates them. */
  readonly options: Readonly<Record<string, unknown>>;
}

export type WorkloadFactory<Req, Reply> = (options: WorkloadOptions) => Workload<Req, Reply>;

/** What a protocol spec may name instead of a factory: the built-in ones. */
export type WorkloadKind = 'kv' | 'decree' | 'transaction';
