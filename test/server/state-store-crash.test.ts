// Members keep their key-value state in LMDB and their log compacts to snapshot
// markers every 64 entries here. kill -9 in the middle of applying: the stored
// applied index and the stored state agree (nothing half-applied), and after a
// restart the member applies each entry exactly once (every put bumps the
// revision and its key's version, so an entry applied twice, or skipped, shows
// as a member out of step with the others). A member that missed more than a
// snapshot's worth of entries catches up from a snapshot the leader
// materializes from its state machine (Raft InstallSnapshot, Multi-Paxos
// catch-up), on both protocols.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EtcdClient } from '../../src/server/client.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { LmdbBackend } from '../../src/storage/lmdb-backend.js';
import { TestCluster, type TestMember } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writers that put to a few keys each, over and over, through every endpoint. */
class PutLoad {
  acked = 0;
  private stopped = false;
  private readonly done: Promise<void>[] = [];

  constructor(endpoints: string[], writers: number) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer(endpoints, w));
  }

  private async writer(endpoints: string[], w: number): Promise<void> {
    const order = endpoints.slice(w % endpoints.length).concat(endpoints.slice(0, w % endpoints.length));
    const client = new EtcdClient({ endpoints: order, commandTimeoutMs: 2000 });
    for (let n = 0; !this.stopped; n++) {
      try {
        await client.call('KV', 'Put', { key: Buffer.from(`k/${w}/${n % 5}`), value: Buffer.from(String(n)) });
        this.acked++;
      } catch {
        await sleep(20);
      }
    }
    client.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.done);
  }
}

interface LocalState {
  readonly revision: number;
  readonly kvs: string;
}

/** One member's own applied state (a serializable read: answered locally). */
async function localState(m: TestMember): Promise<LocalState> {
  const client = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
  try {
    const res = await client.call('KV', 'Range', { key: Buffer.from([0]), range_end: Buffer.from([0]), serializable: true });
    const kvs = (res.kvs as { key: Buffer; value: Buffer; version: string; mod_revision: string; create_revision: string }[])
      .map((kv) => `${kv.key.toString()}=${kv.value.toString()}@${kv.mod_revision}/${kv.create_revision}v${kv.version}`)
      .join(' ');
    return { revision: Number((res.header as { revision: string }).revision), kvs };
  } finally {
    client.close();
  }
}

/** Waits until every running member holds the same state, and returns it. */
async function converged(cluster: TestCluster, timeoutMs = 30_000): Promise<LocalState> {
  const until = Date.now() + timeoutMs;
  let last: LocalState[] = [];
  while (Date.now() < until) {
    try {
      last = await Promise.all(cluster.members.map(localState));
      const first = last[0] as LocalState;
      if (last.every((s) => s.revision === first.revision && s.kvs === first.kvs)) return first;
    } catch {
      // a member not serving yet
    }
    await sleep(200);
  }
  assert.fail(`members did not converge: revisions ${last.map((s) => s.revision).join(', ')}\n${cluster.members.map((m) => `--- ${m.name}\n${m.output.slice(-1500)}`).join('\n')}`);
}

/** Waits until member `m` has applied through `revision`. */
async function caughtUp(m: TestMember, revision: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await localState(m)).revision >= revision) return;
    } catch {
      // not serving yet
    }
    await sleep(200);
  }
  assert.fail(`${m.name} did not reach revision ${revision}:\n${m.output.slice(-3000)}`);
}

/** Opens a stopped member's LMDB store: the applied index and the state it stores must agree. */
async function checkStoredState(m: TestMember): Promise<number> {
  const backend = LmdbBackend.open(join(m.dataDir, 'state'));
  try {
    const sm = new KvStateMachine({ backend, fingerprint: false });
    const state = backend.load({ values: false });
    // Every put made one version at its own revision (no compaction here): the newest is the stored revision.
    const newest = state.versions.reduce((max, v) => Math.max(max, v.main), 1);
    assert.equal(newest, state.meta.revision, `stored revision ${state.meta.revision} but versions through ${newest}`);
    assert.equal(state.versions.length, state.meta.revision - 1, 'one version per revision');
    return sm.appliedIndex;
  } finally {
    await backend.close();
  }
}

for (const protocol of ['raft', 'multipaxos']) describe(`state in LMDB under crashes (${protocol})`, () => {
  test('kill -9 mid-apply: stored index and state agree, no entry applied twice, a lagging member catches up from a materialized snapshot', { timeout: 240_000 }, async (t) => {
    const cluster = await TestCluster.start(3, protocol, ['--snapshot-count', '64']);
    try {
      const load = new PutLoad(cluster.endpoints, 6);
      await sleep(1000);
      for (let round = 0; round < 2; round++) {
        // A follower, killed mid-apply, kept down while the others move well past a snapshot.
        const leader = await cluster.waitForLeader();
        const victim = cluster.members.find((m) => m !== leader) as TestMember;
        await cluster.kill(victim);
        const applied = await checkStoredState(victim);
        const ackedAtKill = load.acked;
        while (load.acked < ackedAtKill + 400) await sleep(100);
        const target = (await localState(leader)).revision;
        cluster.launch(victim);
        await caughtUp(victim, target);
        t.diagnostic(`round ${round}: ${victim.name} killed at applied index ${applied}; restarted after ${load.acked - ackedAtKill} more writes; caught up`);
      }
      // The leader too: its state is what the others install next.
      const leader = await cluster.waitForLeader();
      await cluster.kill(leader);
      await checkStoredState(leader);
      cluster.launch(leader);
      await sleep(1500);
      await load.stop();
      const state = await converged(cluster);
      assert.ok(load.acked > 800, `the load made progress (${load.acked} puts)`);
      assert.ok(state.revision >= load.acked + 1, `revision ${state.revision} counts every acknowledged put (${load.acked})`);
      const restored = cluster.members.filter((m) => /snapshot installed/.test(m.output));
      assert.ok(restored.length > 0, 'a restarted member caught up from a snapshot');
      t.diagnostic(`${load.acked} puts acknowledged; revision ${state.revision}; snapshot installed on ${restored.map((m) => m.name).join(', ')}`);
    } finally {
      await cluster.stop();
    }
  });
});
