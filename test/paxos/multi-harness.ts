// Multi-Paxos clusters on the in-test network.
import { NodeId, type LogIndex } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import type { LogOutput } from '../../src/core/replicated-log.js';
import { MultiPaxos } from '../../src/paxos/multi/multipaxos.js';
import type { MultiMessage, MultiWrite } from '../../src/paxos/multi/types.js';
import { Net, type NetOptions } from './harness.js';

export type Cmd = string;
export type Snap = readonly string[];
export type MP = MultiPaxos<Cmd, Snap>;
export type Out = LogOutput<Cmd, Snap>;

export interface ClusterOptions extends NetOptions {
  readonly options?: Record<string, unknown>;
  readonly mutants?: readonly string[];
  /** The initial configuration, when not every node of the network. */
  readonly initial?: readonly number[];
}

export function multiCluster(n: number, o: ClusterOptions = {}) {
  return new Net<MultiMessage<Cmd, Snap>, MultiWrite<Cmd, Snap>, Out, MP>(
    n,
    (id, members, durable) => {
      const config = {
        id,
        members: o.initial?.map((i) => NodeId(i)) ?? members,
        rng: new Prng((o.seed ?? 1) * 1000 + id * 7 + (durable?.length ?? 0)),
        mutants: new Set(o.mutants ?? []),
        options: o.options ?? {},
      };
      return durable === null ? MultiPaxos.create<Cmd, Snap>(config) : MultiPaxos.recover<Cmd, Snap>(config, durable);
    },
    o,
  );
}

export type MultiCluster = ReturnType<typeof multiCluster>;

/** The state machine a host would keep: the applied log, rebuilt from 'restore' and 'committed' outputs. */
export function applied(c: MultiCluster, id: number): { index: number; log: (Cmd | null)[] } {
  let base: (Cmd | null)[] = [];
  let index = 0;
  for (const o of c.out(id)) {
    if (o.type === 'restore') {
      base = [...o.snapshot];
      index = o.index;
    } else if (o.type === 'committed') {
      for (const e of o.entries) {
        if (e.index !== index + 1) throw new Error(`node ${id}: committed index ${e.index} after ${index}`);
        index = e.index;
        base.push(e.command);
      }
    }
  }
  return { index, log: base };
}

export function leaderOf(c: MultiCluster): NodeId | null {
  const leaders = c.ids.filter((id) => !c.down.has(id) && c.node(id).status().role === 'leader');
  return leaders.length === 1 ? (leaders[0] as NodeId) : null;
}

export function electLeader(c: MultiCluster, maxTicks = 300): NodeId {
  const t = c.runUntil(() => leaderOf(c) !== null, maxTicks);
  if (t === null) throw new Error('no leader elected');
  return leaderOf(c) as NodeId;
}

export function commitIndex(c: MultiCluster, id: number): LogIndex {
  return c.node(id).status().commitIndex;
}
