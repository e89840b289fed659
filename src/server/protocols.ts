// The replicated logs a member can run the key-value store on. Both offer the
// same ReplicatedLog interface; what differs is how they are built and
// recovered, and how their durable writes are folded for compaction.

import { randomInt } from 'node:crypto';
import type { NodeId } from '../core/ids.js';
import { Prng } from '../core/prng.js';
import type { Message } from '../core/replicated-log.js';
import type { ReplicatedLog } from '../core/replicated-log.js';
import { RaftNode } from '../raft/node.js';
import { MultiPaxos } from '../paxos/multi/multipaxos.js';
import type { ProtocolName } from './config.js';
import type { SnapshotCodec } from '../raft/options.js';
import { MultiPaxosFold, RaftFold, type DurableFold } from './durable-fold.js';

export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** What a log needs to know to start: who it is, the initial members, and how to size and encode things. */
export interface LogSetup<C, S> {
  readonly protocol: ProtocolName;
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  readonly electionTicks: number;
  /** The size of a command, for the logs' byte limits. */
  readonly commandBytes?: (command: C) => number;
  /** Snapshots as text, for Raft's chunked InstallSnapshot. Default: JSON. */
  readonly snapshotCodec?: SnapshotCodec<S>;
}

export interface LogBinding<C, S, W, M extends Message> {
  readonly log: ReplicatedLog<C, S, W, M>;
  readonly fold: DurableFold<W>;
  membership(): Membership;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyBinding<C, S> = LogBinding<C, S, any, any>;

function sorted(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

function raftBinding<C, S>(setup: LogSetup<C, S>, recovered: readonly unknown[]): AnyBinding<C, S> {
  const options = {
    id: setup.id,
    peers: sorted(setup.members),
    rng: new Prng(randomInt(0, 2 ** 47)),
    electionTimeoutTicks: setup.electionTicks,
    heartbeatTicks: 1,
    commitEvents: false,
    ...(setup.commandBytes ? { commandBytes: setup.commandBytes } : {}),
    ...(setup.snapshotCodec ? { snapshotCodec: setup.snapshotCodec } : {}),
  };
  const log = recovered.length === 0 ? RaftNode.create<C, S>(options) : RaftNode.recover<C, S>(options, recovered as Parameters<typeof RaftNode.recover<C, S>>[1]);
  const fold = new RaftFold<C, S>();
  for (const w of recovered) fold.add(w as Parameters<RaftFold<C, S>['add']>[0]);
  return {
    log,
    fold,
    membership: () => {
      const c = log.configuration();
      return { voters: [...new Set([...c.voters, ...c.outgoing])], learners: c.learners };
    },
  };
}

function multiPaxosBinding<C, S>(setup: LogSetup<C, S>, recovered: readonly unknown[]): AnyBinding<C, S> {
  const config = {
    id: setup.id,
    members: sorted(setup.members),
    rng: new Prng(randomInt(0, 2 ** 47)),
    options: { electionTicks: setup.electionTicks, heartbeatTicks: 1, trackDigests: false },
  };
  const log = recovered.length === 0 ? MultiPaxos.create<C, S>(config) : MultiPaxos.recover<C, S>(config, recovered as Parameters<typeof MultiPaxos.recover<C, S>>[1]);
  const fold = new MultiPaxosFold<C, S>();
  for (const w of recovered) fold.add(w as Parameters<MultiPaxosFold<C, S>['add']>[0]);
  return { log, fold, membership: () => ({ voters: log.status().voters, learners: [] }) };
}

export function bindProtocol<C, S>(setup: LogSetup<C, S>, recovered: readonly unknown[]): AnyBinding<C, S> {
  switch (setup.protocol) {
    case 'raft': return raftBinding(setup, recovered);
    case 'multipaxos': return multiPaxosBinding(setup, recovered);
  }
}
