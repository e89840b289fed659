// The replicated logs a member can run the key-value store on. Both offer the
// same ReplicatedLog interface; what differs is how they are built and
// recovered, and how their durable writes are folded for compaction.

import { randomInt } from 'node:crypto';
import type { NodeId } from '../core/ids.js';
import { Prng } from '../core/prng.js';
import type { Message } from '../core/replicated-log.js';
import type { KvLog } from '../kv/adapter.js';
import type { KvCommand } from '../kv/command.js';
import type { KvSnapshot } from '../kv/snapshot.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../kv/codec.js';
import { RaftNode } from '../raft/node.js';
import { MultiPaxos } from '../paxos/multi/multipaxos.js';
import type { MemberConfig } from './config.js';
import { MultiPaxosFold, RaftFold, type DurableFold } from './durable-fold.js';

export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface LogBinding<W, M extends Message> {
  readonly log: KvLog<W, M>;
  readonly fold: DurableFold<W>;
  membership(): Membership;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyBinding = LogBinding<any, any>;

function initialMembers(cfg: MemberConfig): NodeId[] {
  return [...cfg.members.keys()].sort((a, b) => a - b);
}

function raftBinding(cfg: MemberConfig, recovered: readonly unknown[]): AnyBinding {
  const options = {
    id: cfg.memberId,
    peers: initialMembers(cfg),
    rng: new Prng(randomInt(0, 2 ** 47)),
    electionTimeoutTicks: cfg.electionTicks,
    heartbeatTicks: 1,
    commandBytes: kvCommandBytes,
    snapshotCodec: kvSnapshotTextCodec,
    commitEvents: false,
  };
  type N = RaftNode<KvCommand, KvSnapshot>;
  const log: N = recovered.length === 0 ? RaftNode.create(options) : RaftNode.recover(options, recovered as Parameters<typeof RaftNode.recover<KvCommand, KvSnapshot>>[1]);
  const fold = new RaftFold<KvCommand, KvSnapshot>();
  for (const w of recovered) fold.add(w as Parameters<RaftFold<KvCommand, KvSnapshot>['add']>[0]);
  return {
    log,
    fold,
    membership: () => {
      const c = log.configuration();
      return { voters: [...new Set([...c.voters, ...c.outgoing])], learners: c.learners };
    },
  };
}

function multiPaxosBinding(cfg: MemberConfig, recovered: readonly unknown[]): AnyBinding {
  const config = {
    id: cfg.memberId,
    members: initialMembers(cfg),
    rng: new Prng(randomInt(0, 2 ** 47)),
    options: { electionTicks: cfg.electionTicks, heartbeatTicks: 1, trackDigests: false },
  };
  type P = MultiPaxos<KvCommand, KvSnapshot>;
  const log: P = recovered.length === 0 ? MultiPaxos.create(config) : MultiPaxos.recover(config, recovered as Parameters<typeof MultiPaxos.recover<KvCommand, KvSnapshot>>[1]);
  const fold = new MultiPaxosFold<KvCommand, KvSnapshot>();
  for (const w of recovered) fold.add(w as Parameters<MultiPaxosFold<KvCommand, KvSnapshot>['add']>[0]);
  return { log, fold, membership: () => ({ voters: log.status().voters, learners: [] }) };
}

export function bindProtocol(cfg: MemberConfig, recovered: readonly unknown[]): AnyBinding {
  switch (cfg.protocol) {
    case 'raft': return raftBinding(cfg, recovered);
    case 'multipaxos': return multiPaxosBinding(cfg, recovered);
  }
}
