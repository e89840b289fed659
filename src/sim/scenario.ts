// Scripted fault schedules. A protocol offers named scenarios (e.g.
// 'coordinator-crash-after-votes', 'dueling-proposers'); `synod sim --scenario
// NAME` runs one instead of (or beside) the random fault schedule. A scenario
// acts through the same controls the playground uses, at fixed virtual times
// or when a trace event it waits for happens.

import type { NodeId } from '../core/ids.js';
import type { Prng } from '../core/prng.js';
import type { FaultName } from './faults.js';
import type { NodeView } from './protocol.js';
import type { TraceEvent } from './trace.js';

/** The controls a scenario (and the playground) has over a running simulation. */
export interface ScenarioControl {
  readonly members: readonly NodeId[];
  /** The scenario's own random stream. */
  readonly rng: Prng;
  now(): number;
  /** Runs `action` at virtual time `timeMs` (or now, if that is past). */
  at(timeMs: number, action: () => void): void;
  /** Calls `action` for every trace event until it returns 'done'. */
  watch(action: (e: TraceEvent) => 'done' | 'continue'): void;
  crash(node: NodeId): void;
  restart(node: NodeId): void;
  pause(node: NodeId): void;
  resume(node: NodeId): void;
  /** Nodes in different groups cannot talk; a node in no group is alone. */
  partition(groups: readonly (readonly NodeId[])[]): void;
  heal(): void;
  /** Loss and duplication on every link touching `node` (all links when null). */
  setLinkFaults(node: NodeId | null, loss: number, dup: number): void;
  views(): readonly NodeView[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Random faults that still run beside the script (default: none). */
  readonly faults?: readonly FaultName[];
  /** Protocol options the scenario needs (NodeContext.options); the run's own options override them. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Called once at time 0. */
  setup(ctl: ScenarioControl): void;
}
