// Multi-Paxos ('multipaxos') in the simulator: each node is a MultiPaxos log
// wrapped by the key-value adapter (src/kv/spec.ts), serving the 'kv' workload.
// The Paxos invariants read the log's view (promises, chosen and proposed
// digests) through the adapter's extraView.

import type { NodeContext, ProtocolSpec } from '../../sim/protocol.js';
import type { KvReply, KvRequest } from '../../kv/api.js';
import type { KvCommand } from '../../kv/command.js';
import type { KvSnapshot } from '../../kv/snapshot.js';
import { kvProtocolSpec } from '../../kv/spec.js';
import { paxosInvariants } from '../invariants.js';
import { PAXOS_MUTANT_DESCRIPTIONS } from '../mutants.js';
import { MultiPaxos } from './multipaxos.js';
import { multiPaxosOperator } from './operator.js';
import type { MultiMessage, MultiWrite } from './types.js';

export type KvMultiPaxos = MultiPaxos<KvCommand, KvSnapshot>;
type M = MultiMessage<KvCommand, KvSnapshot>;
type W = MultiWrite<KvCommand, KvSnapshot>;

/** Simulated runs compact every 64 applied entries, so snapshots and 'restore' are exercised. */
export const MULTIPAXOS_SIM_SNAPSHOT_EVERY = 64;

const config = (ctx: NodeContext) => ({ id: ctx.id, members: ctx.members, rng: ctx.rng, mutants: ctx.mutants, options: ctx.options });

const kvMultiPaxosSpec: ProtocolSpec<M, W, KvRequest, KvReply> = kvProtocolSpec<W, M>({
  name: 'multipaxos',
  description: 'Multi-Paxos replicated log (stable leader, phase 1 once for all slots, batched and pipelined phase 2, catch-up, snapshots) under the key-value store',
  mutants: PAXOS_MUTANT_DESCRIPTIONS,
  tickMs: 10,
  createLog: (ctx) => MultiPaxos.create<KvCommand, KvSnapshot>(config(ctx)),
  recoverLog: (ctx, durable) => MultiPaxos.recover<KvCommand, KvSnapshot>(config(ctx), durable),
  invariants: () => paxosInvariants(),
  node: (_ctx, log) => ({
    snapshotEveryEntries: MULTIPAXOS_SIM_SNAPSHOT_EVERY,
    // The simulator builds every view after every event: key-value contents are left out to keep runs fast.
    viewKeys: 0,
    extraView: () => {
      const v = (log as KvMultiPaxos).view();
      return { promised: v.promised, ballot: v.ballot, chosenDigest: v.chosenDigest, proposedDigest: v.proposedDigest };
    },
  }),
});

export const multiPaxosSpec: ProtocolSpec<M, W, KvRequest, KvReply> = {
  ...kvMultiPaxosSpec,
  // Leadership transfers (`--faults transfer`, in `all`): src/paxos/multi/operator.ts.
  operator: multiPaxosOperator,
};
