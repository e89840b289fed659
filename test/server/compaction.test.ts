// Compaction on real clusters: etcd's auto-compaction flags (revision mode on
// Raft, periodic mode on Multi-Paxos) compact through the log on every member,
// old versions leave the store (a snapshot no longer holds them), and
// `synod compaction` / `etcdctl compaction` in etcdctl's shape (on the Raft
// cluster, beside its auto-compactor).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { EtcdClient, EtcdClientError } from '../../src/server/client.js';
import { MAIN, TestCluster } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
const synod = (args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const COMPACTED = 'mvcc: required revision has been compacted';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** 'ok', or the error message of a read of `key` at `revision` on one member. */
async function readAt(endpoint: string, key: string, revision: number): Promise<string> {
  const c = new EtcdClient({ endpoints: [endpoint] });
  try {
    await c.call('KV', 'Range', { key: Buffer.from(key), revision: String(revision), serializable: true });
    return 'ok';
  } catch (err) {
    if (err instanceof EtcdClientError) return err.message;
    throw err;
  } finally {
    c.close();
  }
}

async function putMany(endpoints: string[], key: string, n: number): Promise<number> {
  const c = new EtcdClient({ endpoints });
  try {
    let revision = 0;
    for (let i = 0; i < n; i++) revision = Number((await c.call('KV', 'Put', { key: Buffer.from(key), value: Buffer.from(`v${i}`) })).header.revision);
    return revision;
  } finally {
    c.close();
  }
}

/** Versions a member's snapshot holds, from `synod snapshot status -w json`. */
function versionsHeld(cluster: TestCluster, endpoint: string): number {
  const file = join(cluster.dir, `v-${endpoint.replace(/\W/g, '_')}-${Date.now()}.snap`);
  const saved = synod(['snapshot', 'save', file, '--endpoints', endpoint]);
  assert.equal(saved.status, 0, saved.stderr);
  return (JSON.parse(synod(['snapshot', 'status', file, '-w', 'json']).stdout) as { versions: number }).versions;
}

describe('auto-compaction by revision on a three-member raft cluster', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, 'raft', ['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '5', '--auto-compaction-interval', '200ms']);
  });
  after(async () => {
    await cluster.stop();
  });

  test('keeps the last 5 revisions on every member: older reads are refused and their versions are gone', async () => {
    const last = await putMany(cluster.endpoints, 'ac/k', 20);
    // Writes have stopped: the leader compacts through last - 5, and every member applies it.
    for (const e of cluster.endpoints) {
      await until(`compaction on ${e}`, async () => (await readAt(e, 'ac/k', last - 6)).includes(COMPACTED));
      assert.equal(await readAt(e, 'ac/k', last - 5), 'ok');
      assert.match(await readAt(e, 'ac/k', 2), new RegExp(`OUT_OF_RANGE|${COMPACTED}`));
      // Only the versions at or after the compact revision are left: the one key's last 6 versions.
      assert.equal(versionsHeld(cluster, e), 6, e);
    }
    const leaderLogs = cluster.members.filter((m) => m.output.includes('auto-compaction: compacted'));
    assert.ok(leaderLogs.length >= 1, 'the leader logs its compactions');
    if (etcdctl) {
      const r = spawnSync('etcdctl', ['--endpoints', cluster.endpoints[0] as string, 'get', 'ac/k', '--rev', '2'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Error: etcdserver: mvcc: required revision has been compacted/);
    }
  });

  // The auto-compactor keeps the last 5 revisions: compactions nearer the head are the commands' own.
  test('synod compaction REV --physical and etcdctl compaction', async () => {
    const last = await putMany(cluster.endpoints, 'cc/k', 3);
    const r = synod(['compaction', String(last - 1), '--physical', '--endpoints', cluster.endpoints.join(',')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `compacted revision ${last - 1}\n`);
    for (const e of cluster.endpoints) await until(`the compaction on ${e}`, async () => (await readAt(e, 'cc/k', last - 2)).includes(COMPACTED));
    const again = synod(['compact', String(last - 1), '--endpoints', cluster.endpoints.join(',')]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(COMPACTED));
    const future = synod(['compact', String(last + 100), '--endpoints', cluster.endpoints.join(',')]);
    assert.match(future.stderr, /required revision is a future revision/);
    assert.equal(synod(['compact', 'x']).status, 2);
    if (etcdctl) {
      const out = execFileSync('etcdctl', ['--endpoints', cluster.endpoints.join(','), 'compaction', String(last)], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      assert.equal(out.trim(), `compacted revision ${last}`);
    }
  });
});

describe('auto-compaction by period on a three-member multipaxos cluster', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, 'multipaxos', ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1s']);
  });
  after(async () => {
    await cluster.stop();
  });

  test('history older than the retention period is compacted on every member', async () => {
    const first = await putMany(cluster.endpoints, 'pc/k', 5);
    await sleep(1500);
    await putMany(cluster.endpoints, 'pc/k', 5);
    for (const e of cluster.endpoints) await until(`periodic compaction on ${e}`, async () => (await readAt(e, 'pc/k', first - 1)).includes(COMPACTED));
  });
});
