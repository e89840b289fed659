// Operator activity: what an administrator does to a running cluster through
// the nodes' own API (change the membership, hand leadership over), as opposed
// to the faults the nemesis injects from outside. A protocol that offers such
// requests supplies an operator (ProtocolSpec.operator); the run starts it when
// `--faults` names one of its activities, and in the liveness phase asks it to
// put the cluster back in its full shape (e.g. every node a voter again), which
// the liveness check then waits for.

import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';
import type { AnyNode, ProcessStatus } from './host.js';
import type { NodeView } from './protocol.js';

/** The operator activities `--faults` can name. */
export const OPERATOR_ACTIVITIES = ['reconfigure', 'transfer'] as const;
export type OperatorActivity = (typeof OPERATOR_ACTIVITIES)[number];

/** What an operator may do (implemented by the Simulation). */
export interface OperatorControl {
  readonly members: readonly NodeId[];
  /** The operator's own random stream. */
  readonly rng: Prng;
  now(): number;
  /** Runs `action` at virtual time `timeMs` as its own event. */
  at(timeMs: number, action: () => void): void;
  /** Every node's view; a crashed node shows as role 'down'. */
  views(): readonly NodeView[];
  status(node: NodeId): ProcessStatus;
  /**
   * Runs `call` on the node as one of its inputs, as a request from an
   * administrator would arrive: at once when the node is idle, else queued
   * behind its other inputs (and lost if it crashes first); then the node's
   * effects are executed as after any input.
   */
  operate(node: NodeId, call: (node: AnyNode) => void): void;
  /** Adds to the run's counter `operator:<key>` (shown in the summary). */
  count(key: string): void;
}

export interface Operator {
  /** The safety phase begins. */
  start(): void;
  /** The liveness phase begins: no new disruption; undo what is still undone (e.g. re-add removed members). */
  settle(): void;
  /** null once the cluster is back in its full shape; else what is still missing (the liveness phase waits for it). */
  unsettled(): string | null;
}

export type OperatorFactory = (ctl: OperatorControl, activities: ReadonlySet<OperatorActivity>) => Operator;
