// A member compacts its write-ahead log to the summary its fold computes: the
// summary alone must recover the same state as every write it replaces.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ClientId, LogIndex, NodeId, Term } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { KvNode } from '../../src/kv/adapter.js';
import type { KvCommand } from '../../src/kv/command.js';
import { snapshotMarker, type KvLogSnapshot, type KvSnapshot } from '../../src/kv/snapshot.js';
import { MemoryBackend } from '../../src/kv/backend.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { RaftWrite } from '../../src/raft/types.js';
import { DurableLog } from '../../src/storage/durable-log.js';
import { MemoryDisk, MemoryLog } from '../../src/storage/memory-log.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../../src/kv/codec.js';
import { RaftNode } from '../../src/raft/node.js';
import { MultiPaxos } from '../../src/paxos/multi/multipaxos.js';
import { MultiPaxosFold, persistAndCompact, RaftFold, StateBehindLogError, type DurableFold, type DurableState } from '../../src/server/durable-fold.js';
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

// ---------------------------------------------------------------- with a state store

/** A state store that makes everything applied durable at each flush, and counts its flushes. */
class FakeStore implements DurableState {
  flushes = 0;
  constructor(private readonly sm: () => KvStateMachine, private readonly lag = 0) {}
  flush(): Promise<number> {
    this.flushes++;
    return Promise.resolve(this.sm().appliedIndex - this.lag);
  }
  marker(index: number): unknown {
    return snapshotMarker(index);
  }
}

/** Snapshot data of every snapshot write in `writes` (Raft or Multi-Paxos). */
function snapshotData(writes: readonly unknown[]): unknown[] {
  return writes.flatMap((w) => {
    const x = w as { type: string; snapshot?: { data?: unknown } };
    if (x.type !== 'snapshot') return [];
    return [x.snapshot !== undefined && 'meta' in x.snapshot ? x.snapshot.data : x.snapshot];
  });
}

const silent = pino({ level: 'silent' });

/**
 * A single-member cluster whose state machine keeps its state in `backend`,
 * persisting through persistAndCompact with a state store; then a restart
 * from the log's records and the same backend.
 */
async function runWithStore<W, M extends Message>(create: () => KvLog<W, M>, recover: (ws: readonly W[]) => KvLog<W, M>, fold: () => DurableFold<W>): Promise<void> {
  const backend = new MemoryBackend();
  const sm = new KvStateMachine({ backend });
  const store = new FakeStore(() => sm);
  const disk = new MemoryDisk();
  const { log: durable } = DurableLog.recover<W>(await MemoryLog.open(disk));
  const node = new KvNode(create(), { snapshotEveryEntries: 16, stateMachine: sm, snapshotMarkers: true });
  const f = fold();
  const drain = async (): Promise<void> => {
    for (let fx = node.ready(); fx !== null; fx = node.ready()) {
      await persistAndCompact(durable, f, fx.persist, silent, store);
      node.advance();
    }
  };
  for (let t = 0; t < 100 && node.log.status().role !== 'leader'; t++) {
    node.tick();
    await drain();
  }
  for (let i = 1; i <= 60; i++) {
    node.request(i, { client: ClientId('c'), seq: i, op: { f: 'write', key: `k${i % 7}`, value: i } });
    await drain();
  }
  assert.ok(store.flushes >= 3, `the store was flushed at each of the ${store.flushes} compactions`);
  await durable.close();
  const { log: reopened, recovered } = DurableLog.recover<W>(await MemoryLog.open(disk));
  const data = snapshotData(recovered);
  assert.ok(data.length > 0, 'the log kept a snapshot');
  for (const d of data) assert.equal((d as KvLogSnapshot).format, 'marker', 'the log keeps markers, never the state');
  // Restart: the state machine resumes from the backend; the log re-delivers only what follows it.
  const again = KvNode.recover(recover(recovered), { stateMachine: new KvStateMachine({ backend }), snapshotMarkers: true });
  settle(again);
  // A new term may add a no-op entry of its own: at least as far, and the same data.
  assert.ok(again.sm.appliedIndex >= sm.appliedIndex, `applied ${again.sm.appliedIndex} after the restart, ${sm.appliedIndex} before`);
  assert.equal(again.sm.revision, sm.revision);
  assert.deepEqual(again.sm.entries(100), sm.entries(100));
  await reopened.close();
}

describe('durable folds with a state store: the log keeps markers', () => {
  test('Raft: snapshot writes reach the log as markers, only after a flush; a restart resumes from the store', async () => {
    const options = { id: ID, peers: [ID], rng: new Prng(1), commandBytes: kvCommandBytes };
    await runWithStore(() => RaftNode.create<KvCommand, KvLogSnapshot>(options), (ws) => RaftNode.recover<KvCommand, KvLogSnapshot>({ ...options, rng: new Prng(2) }, ws), () => new RaftFold<KvCommand, KvLogSnapshot>());
  });

  test('Multi-Paxos: snapshot writes reach the log as markers, only after a flush; a restart resumes from the store', async () => {
    const config = { id: ID, members: [ID], rng: new Prng(1) };
    await runWithStore(() => MultiPaxos.create<KvCommand, KvLogSnapshot>(config), (ws) => MultiPaxos.recover<KvCommand, KvLogSnapshot>({ ...config, rng: new Prng(2) }, ws), () => new MultiPaxosFold<KvCommand, KvLogSnapshot>());
  });

  test('a snapshot installed from a peer (whole state) is kept as a marker too', async () => {
    const sm = new KvStateMachine();
    sm.apply(LogIndex(1), { client: ClientId('c'), seq: 1, op: { type: 'put', key: new Uint8Array([97]), value: new Uint8Array([1]) } });
    const fold = new RaftFold<KvCommand, KvLogSnapshot>();
    const disk = new MemoryDisk();
    const { log: durable } = DurableLog.recover<RaftWrite<KvCommand, KvLogSnapshot>>(await MemoryLog.open(disk));
    const write: RaftWrite<KvCommand, KvLogSnapshot> = { type: 'snapshot', snapshot: { meta: { index: LogIndex(1), term: Term(1), conf: { voters: [ID], outgoing: [], learners: [], learnersNext: [] } }, data: sm.snapshot() } };
    await persistAndCompact(durable, fold, [write], silent, new FakeStore(() => sm));
    await durable.close();
    const { recovered } = DurableLog.recover<RaftWrite<KvCommand, KvLogSnapshot>>(await MemoryLog.open(disk));
    assert.deepEqual(snapshotData(recovered), [snapshotMarker(1)]);
  });

  test('a store durable only below the snapshot refuses the write: the log keeps its entries', async () => {
    const sm = new KvStateMachine();
    for (let i = 1; i <= 5; i++) sm.apply(LogIndex(i), null);
    const fold = new RaftFold<KvCommand, KvLogSnapshot>();
    const disk = new MemoryDisk();
    const { log: durable } = DurableLog.recover<RaftWrite<KvCommand, KvLogSnapshot>>(await MemoryLog.open(disk));
    const write: RaftWrite<KvCommand, KvLogSnapshot> = { type: 'snapshot', snapshot: { meta: { index: LogIndex(5), term: Term(1), conf: { voters: [ID], outgoing: [], learners: [], learnersNext: [] } }, data: snapshotMarker(5) } };
    await assert.rejects(persistAndCompact(durable, fold, [write], silent, new FakeStore(() => sm, 2)), (e: unknown) => e instanceof StateBehindLogError && /durable through index 3/.test(e.message));
    assert.equal(durable.stats().writesSinceSummary, 0, 'nothing was appended');
    await durable.close();
  });
});
