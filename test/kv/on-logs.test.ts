// The adapter on the real logs: Raft and Multi-Paxos each wrapped by
// kvProtocolSpec and run through the simulator under faults, with snapshots
// every few entries so that compaction, InstallSnapshot / catch-up and restore
// are exercised. Linearizability of the client history and State Machine
// Safety (the applied-command hash chain) must hold.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvCommand } from '../../src/kv/command.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../../src/kv/codec.js';
import type { KvSnapshot } from '../../src/kv/snapshot.js';
import { kvProtocolSpec } from '../../src/kv/spec.js';
import { MultiPaxos } from '../../src/paxos/multi/multipaxos.js';
import { RaftNode } from '../../src/raft/node.js';
import type { NodeContext } from '../../src/sim/protocol.js';
import { runSeed } from '../../src/sim/run.js';
import { parseFaults } from '../../src/sim/faults.js';
import type { AnySpec } from '../../src/sim/simulation.js';

const raftOptions = (ctx: NodeContext) => ({
  id: ctx.id,
  peers: ctx.members,
  rng: ctx.rng,
  mutants: ctx.mutants,
  commandBytes: kvCommandBytes,
  snapshotCodec: kvSnapshotTextCodec,
});

export const raftKv = kvProtocolSpec({
  name: 'raft-kv-test',
  description: 'Raft under the KV adapter',
  mutants: {},
  tickMs: 10,
  createLog: (ctx) => RaftNode.create<KvCommand, KvSnapshot>(raftOptions(ctx)),
  recoverLog: (ctx, durable) => RaftNode.recover<KvCommand, KvSnapshot>(raftOptions(ctx), durable as never),
  invariants: () => [],
});

const paxosConfig = (ctx: NodeContext) => ({ id: ctx.id, members: ctx.members, rng: ctx.rng, mutants: ctx.mutants });

export const multiPaxosKv = kvProtocolSpec({
  name: 'multipaxos-kv-test',
  description: 'Multi-Paxos under the KV adapter',
  mutants: {},
  tickMs: 10,
  createLog: (ctx) => MultiPaxos.create<KvCommand, KvSnapshot>(paxosConfig(ctx)),
  recoverLog: (ctx, durable) => MultiPaxos.recover<KvCommand, KvSnapshot>(paxosConfig(ctx), durable as never),
  invariants: () => [],
});

/** More seeds and faults: KV_SIM_SEEDS=25 KV_SIM_FAULTS=loss,dup,delay,partition,crash,pause,torn-write,slow-disk */
const SEEDS = Number(process.env['KV_SIM_SEEDS'] ?? 3);

function runMany(spec: AnySpec): void {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed({
      spec,
      seed,
      nodes: 3,
      durationMs: 3_000,
      faults: parseFaults(process.env['KV_SIM_FAULTS'] ?? 'loss,dup,delay,partition,crash'),
      mutants: new Set(),
      options: { snapshotEveryEntries: 20 },
    });
    assert.equal(r.violation, null, `seed ${seed}: ${JSON.stringify(r.violation)}`);
    for (const v of r.verdicts) assert.notEqual(v.result, 'violation', `seed ${seed}: ${JSON.stringify(v)}`);
    assert.ok((r.workload['ok'] ?? 0) > 20, `seed ${seed}: few operations completed: ${JSON.stringify(r.workload)}`);
    if (process.env['KV_SIM_VERBOSE'] !== undefined) console.log(spec.name, seed, JSON.stringify(r.workload), JSON.stringify(r.counts));
  }
}

/** The first seed (of `budget`) at which the run reports a violation, or null. */
function firstCaught(spec: AnySpec, mutant: string, budget: number, faults: string, clients: number): number | null {
  for (let seed = 1; seed <= budget; seed++) {
    const r = runSeed({ spec, seed, nodes: 3, durationMs: 3_000, faults: parseFaults(faults), clients, mutants: new Set([mutant]), options: { snapshotEveryEntries: 20 } });
    if (r.violation !== null || r.verdicts.some((v) => v.result === 'violation')) return seed;
  }
  return null;
}

describe('the KV adapter on the real replicated logs, in the simulator', () => {
  test('Raft', () => runMany(raftKv));
  test('Multi-Paxos', () => runMany(multiPaxosKv));
});

describe('the simulator catches the KV mutants', () => {
  for (const spec of [raftKv, multiPaxosKv]) {
    test(`${spec.name}: kv-reply-on-propose (acknowledged writes that never commit)`, () => {
      assert.notEqual(firstCaught(spec, 'kv-reply-on-propose', 10, 'loss,dup,delay,partition,crash', 5), null);
    });
    test(`${spec.name}: kv-local-read (stale reads)`, () => {
      // Stale reads need a read at a node that is behind: partitions and delays, more clients.
      assert.notEqual(firstCaught(spec, 'kv-local-read', 40, 'partition,delay', 10), null);
    });
  }
});
