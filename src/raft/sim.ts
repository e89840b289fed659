// Raft in the simulator: a key-value store on a Raft log (through the KV
// adapter), Raft's invariants, its mutants and its options.
//
// Options (synod sim --option name=value): electionTimeoutTicks (15: 150-300 ms
// at 10 ms a tick), heartbeatTicks (3), preVote (true), checkQuorum (true),
// readOnly ('safe' | 'lease'), maxInflightMsgs, maxEntriesPerMsg,
// snapshotChunkBytes, snapshotEveryEntries (200: the KV adapter compacts the
// log every N applied entries; 0: never).
//
// The operator (src/raft/operator.ts) changes the membership and transfers
// leadership through the leader's API when --faults names 'reconfigure' or
// 'transfer' (both are in 'all').

import { kvCommandBytes, kvSnapshotTextCodec } from '../kv/codec.js';
import type { KvCommand } from '../kv/command.js';
import type { KvSnapshot } from '../kv/snapshot.js';
import { kvProtocolSpec } from '../kv/spec.js';
import type { KvReply, KvRequest } from '../kv/api.js';
import type { NodeContext, ProtocolSpec } from '../sim/protocol.js';
import { raftInvariants } from './invariants.js';
import { raftOperator } from './operator.js';
import { raftScenarios } from './scenarios.js';
import { RaftNode } from './node.js';
import { RAFT_MUTANTS, type RaftOptions } from './options.js';
import type { RaftMessage, RaftWrite } from './types.js';

export type RaftKvMessage = RaftMessage<KvCommand>;
export type RaftKvWrite = RaftWrite<KvCommand, KvSnapshot>;

function intOption(ctx: NodeContext, name: string, fallback: number, min: number): number {
  const v = ctx.options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RangeError(`raft option ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function boolOption(ctx: NodeContext, name: string, fallback: boolean): boolean {
  const v = ctx.options[name];
  if (v === undefined) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new RangeError(`raft option ${name} must be true or false, got ${String(v)}`);
}

function readOnlyOption(ctx: NodeContext): 'safe' | 'lease' {
  const v = ctx.options['readOnly'] ?? 'safe';
  if (v !== 'safe' && v !== 'lease') throw new RangeError(`raft option readOnly must be 'safe' or 'lease', got ${String(v)}`);
  return v;
}

export function simRaftOptions(ctx: NodeContext): RaftOptions<KvCommand, KvSnapshot> {
  return {
    id: ctx.id,
    peers: ctx.members,
    rng: ctx.rng,
    electionTimeoutTicks: intOption(ctx, 'electionTimeoutTicks', 15, 2),
    heartbeatTicks: intOption(ctx, 'heartbeatTicks', 3, 1),
    preVote: boolOption(ctx, 'preVote', true),
    checkQuorum: boolOption(ctx, 'checkQuorum', true),
    readOnly: readOnlyOption(ctx),
    maxInflightMsgs: intOption(ctx, 'maxInflightMsgs', 64, 1),
    maxEntriesPerMsg: intOption(ctx, 'maxEntriesPerMsg', 256, 1),
    snapshotChunkBytes: intOption(ctx, 'snapshotChunkBytes', 4096, 1),
    commandBytes: kvCommandBytes,
    snapshotCodec: kvSnapshotTextCodec,
    mutants: ctx.mutants,
  };
}

const kvRaftSpec = kvProtocolSpec<RaftKvWrite, RaftKvMessage>({
  name: 'raft',
  description: 'Raft (PreVote, CheckQuorum, ReadIndex, snapshots in chunks, joint consensus) under a key-value store',
  mutants: RAFT_MUTANTS,
  tickMs: 10,
  createLog: (ctx) => RaftNode.create(simRaftOptions(ctx)),
  recoverLog: (ctx, durable) => RaftNode.recover(simRaftOptions(ctx), durable),
  invariants: raftInvariants,
  // Compaction is on by default so that runs exercise InstallSnapshot; the KV
  // view shows a few keys only. The KV node keeps its view object until
  // something in it changes (the simulator skips checks when no view changed).
  node: (ctx, log) => ({
    snapshotEveryEntries: intOption(ctx, 'snapshotEveryEntries', 200, 0),
    viewKeys: 4,
    extraView: () => (log as RaftNode<KvCommand, KvSnapshot>).view(),
  }),
});

/** The options simRaftOptions reads (synod sim --option name=value). */
export const RAFT_SIM_OPTIONS: Readonly<Record<string, string>> = {
  electionTimeoutTicks: 'ticks before a follower starts an election (randomized in [T, 2T)); default 15',
  heartbeatTicks: 'ticks between leader heartbeats; default 3',
  preVote: 'thesis §9.6 PreVote (true | false); default true',
  checkQuorum: 'thesis §6.2 CheckQuorum (true | false); default true',
  readOnly: "linearizable reads: 'safe' (ReadIndex) or 'lease'; default safe",
  maxInflightMsgs: 'AppendEntries in flight per follower; default 64',
  maxEntriesPerMsg: 'entries per AppendEntries; default 256',
  snapshotChunkBytes: 'InstallSnapshot chunk size; default 4096',
  snapshotEveryEntries: 'the KV node compacts the log every N applied entries (0: never); default 200',
};

export const raftSpec: ProtocolSpec<RaftKvMessage, RaftKvWrite, KvRequest, KvReply> = {
  ...kvRaftSpec,
  options: RAFT_SIM_OPTIONS,
  scenarios: raftScenarios,
  // Membership changes and leadership transfers (`--faults reconfigure,transfer`, in `all`): src/raft/operator.ts.
  operator: raftOperator,
};
