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
  /**
   * The snapshot to send a lagging follower in place of the one the log holds:
   * when the log holds markers (the state lives in a durable store), this
   * produces the state machine's own snapshot at send time (docs/storage.md).
   */
  readonly materializeSnapshot?: (held: S) => S;
}

export interface LogBinding<C, S, W, M extends Message> {
  readonly log: ReplicatedLog<C, S, W, M>;
  readonly fold: DurableFold<W>;
  membership(): Membership;
  /** A message as it goes to a peer (a snapshot the log holds as a marker is materialized). */
  outgoing(msg: M): M;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyBinding<C, S> = LogBinding<C, S, any, any>;

function sorted(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

/** Raft sends snapshots as text it encodes once per snapshot index: materialize there. */
function raftCodec<C, S>(setup: LogSetup<C, S>): SnapshotCodec<S> | undefined {
  const materialize = setup.materializeSnapshot;
  if (materialize === undefined) return setup.snapshotCodec;
  const codec: SnapshotCodec<S> = setup.snapshotCodec ?? { encode: (s) => JSON.stringify(s), decode: (t) => JSON.parse(t) as S };
  return { encode: (s) => codec.encode(materialize(s)), decode: (t) => codec.decode(t) };
}

function raftBinding<C, S>(setup: LogSetup<C, S>, recovered: readonly unknown[]): AnyBinding<C, S> {
  const snapshotCodec = raftCodec(setup);
  const options = {
    id: setup.id,
    peers: sorted(setup.members),
    rng: new Prng(randomInt(0, 2 ** 47)),
    electionTimeoutTicks: setup.electionTicks,
    heartbeatTicks: 1,
    commitEvents: false,
    ...(setup.commandBytes ? { commandBytes: setup.commandBytes } : {}),
    ...(snapshotCodec ? { snapshotCodec } : {}),
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
    outgoing: (msg) => msg,
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
  return { log, fold, membership: () => ({ voters: log.status().voters, learners: [] }), outgoing: multiPaxosOutgoing(setup) };
}

/** Multi-Paxos sends a snapshot whole in one catch-up message: materialize it there, once per snapshot held. */
function multiPaxosOutgoing<C, S>(setup: LogSetup<C, S>): (msg: { readonly type: string }) => { readonly type: string } {
  const materialize = setup.materializeSnapshot;
  if (materialize === undefined) return (msg) => msg;
  let last: { held: S; sent: S } | null = null;
  return (msg) => {
    if (msg.type !== 'snapshot') return msg;
    const m = msg as { readonly type: 'snapshot'; readonly snapshot: S };
    if (last === null || last.held !== m.snapshot) last = { held: m.snapshot, sent: materialize(m.snapshot) };
    return { ...m, snapshot: last.sent };
  };
}

export function bindProtocol<C, S>(setup: LogSetup<C, S>, recovered: readonly unknown[]): AnyBinding<C, S> {
  switch (setup.protocol) {
    case 'raft': return raftBinding(setup, recovered);
    case 'multipaxos': return multiPaxosBinding(setup, recovered);
  }
}
