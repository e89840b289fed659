// A member compacts its write-ahead log to the summary its fold computes: the
// summary alone must recover the same state as every write it replaces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId, NodeId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { KvNode } from '../../src/kv/adapter.js';
import type { KvCommand } from '../../src/kv/command.js';
import type { KvSnapshot } from '../../src/kv/snapshot.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../../src/kv/codec.js';
import { RaftNode } from '../../src/raft/node.js';
import { MultiPaxos } from '../../src/paxos/multi/multipaxos.js';
import { MultiPaxosFold, RaftFold, type DurableFold } from '../../src/server/durable-fold.js';
import type { KvLog } from '../../src/kv/adapter.js';
import type { Message } from '../../src/core/replicated-log.js';

const ID = NodeId(1);

/** Runs a single-member cluster: 60 puts, a snapshot every 16 entries; returns every durable write made. */
function run<W, M extends Message>(log: KvLog<W, M>): { writes: W[]; node: KvNode<W, M> } {
  const node = new KvNode(log, { snapshotEveryEntries: 16 });
  const writes: W[] = [];
  const drain = (): void => {
    for (let fx = node.ready(); fx !== null; fx = node.ready()) {
      writes.push(...fx.persist);
      node.advance();
    }
  };
  for (let t = 0; t < 100 && node.log.status().role !== 'leader'; t++) {
    node.tick();
    drain();
  }
  assert.equal(node.log.status().role, 'leader');
  for (let i = 1; i <= 60; i++) {
    node.request(i, { client: ClientId('c'), seq: i, op: { f: 'write', key: `k${i % 7}`, value: i } });
    drain();
  }
  return { writes, node };
}

function settle<W, M extends Message>(node: KvNode<W, M>): void {
  for (let t = 0; t < 50; t++) {
    node.tick();
    for (let fx = node.ready(); fx !== null; fx = node.ready()) node.advance();
  }
}

function compare<W, M extends Message>(writes: W[], fold: DurableFold<W>, recover: (ws: readonly W[]) => KvLog<W, M>): void {
  for (const w of writes) fold.add(w);
  const summary = fold.summary();
  assert.ok(summary.length < writes.length / 4, `summary of ${summary.length} writes for ${writes.length}`);
  const full = KvNode.recover(recover(writes), {});
  const short = KvNode.recover(recover(summary), {});
  settle(full);
  settle(short);
  assert.equal(short.sm.revision, full.sm.revision);
  assert.equal(short.sm.appliedIndex, full.sm.appliedIndex);
  assert.deepEqual(short.sm.entries(100), full.sm.entries(100));
}

describe('durable folds', () => {
  test('Raft: snapshot, chunked entries and hard state recover what every write recovers', () => {
    const options = { id: ID, peers: [ID], rng: new Prng(1), commandBytes: kvCommandBytes, snapshotCodec: kvSnapshotTextCodec };
    const { writes } = run(RaftNode.create<KvCommand, KvSnapshot>(options));
    compare(writes, new RaftFold<KvCommand, KvSnapshot>(), (ws) => RaftNode.recover<KvCommand, KvSnapshot>({ ...options, rng: new Prng(2) }, ws));
  });
  test('Multi-Paxos: snapshot, accepted slots, round and promise recover what every write recovers', () => {
    const config = { id: ID, members: [ID], rng: new Prng(1) };
    const { writes } = run(MultiPaxos.create<KvCommand, KvSnapshot>(config));
    compare(writes, new MultiPaxosFold<KvCommand, KvSnapshot>(), (ws) => MultiPaxos.recover<KvCommand, KvSnapshot>({ ...config, rng: new Prng(2) }, ws));
  });
});
