// etcd leases on a real three-member cluster: etcdctl's lease verbs, keep-alive
// through a follower, expiry carried through the log (every member deletes the
// key at the same revision), and a new leader extending TTLs after a kill -9.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { TestCluster, type TestMember } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A watcher per member on `key`; resolves each member's delete revision. */
function deleteRevisions(cluster: TestCluster, key: string): { revs: (number | null)[]; ready: Promise<unknown>; close(): Promise<void> } {
  const clients = cluster.members.map((m) => new Etcd3({ hosts: `http://127.0.0.1:${m.clientPort}` }));
  const revs: (number | null)[] = clients.map(() => null);
  const watchers = Promise.all(clients.map(async (c, i) => {
    const w = await c.watch().key(key).create();
    w.on('delete', (kv: { mod_revision: string }) => { revs[i] = Number(kv.mod_revision); });
    return w;
  }));
  const close = async (): Promise<void> => {
    for (const w of await watchers.catch(() => [])) await w.cancel();
    for (const c of clients) c.close();
  };
  return { revs, ready: watchers, close };
}

for (const protocol of ['raft', 'multipaxos']) describe(`leases on a three-member ${protocol} cluster`, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, protocol);
  });
  after(async () => {
    await cluster.stop();
  });

  test('etcdctl: lease grant, put --lease, timetolive --keys, list, keep-alive --once, revoke', { skip: etcdctl ? false : 'etcdctl is not installed' }, () => {
    const run = (args: string[]): string => execFileSync('etcdctl', ['--endpoints', cluster.endpoints.join(','), ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const granted = /lease ([0-9a-f]+) granted with TTL\((\d+)s\)/.exec(run(['lease', 'grant', '30']));
    assert.ok(granted, 'grant output');
    const id = granted[1] as string;
    assert.equal(granted[2], '30');
    assert.equal(run(['put', 'lz/a', '1', '--lease', id]).trim(), 'OK');
    const ttl = run(['lease', 'timetolive', id, '--keys']);
    assert.match(ttl, new RegExp(`lease ${id} granted with TTL\\(30s\\), remaining\\((2\\d|30)s\\), attached keys\\(\\[lz/a\\]\\)`));
    assert.match(run(['lease', 'list']), new RegExp(`\\b${id}\\b`));
    assert.match(run(['lease', 'keep-alive', '--once', id]), new RegExp(`lease ${id} keepalived with TTL\\(30\\)`));
    assert.match(run(['lease', 'revoke', id]), /revoked/);
    assert.equal(run(['get', 'lz/a']).trim(), '');
    assert.match(run(['lease', 'timetolive', id]), /already expired/);
  });

  test('keep-alive through a follower holds the key; without it the leader expires it and every member deletes it at one revision', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.members.find((m) => m !== leader) as TestMember;
    const client = new Etcd3({ hosts: `http://127.0.0.1:${follower.clientPort}` });
    const watch = deleteRevisions(cluster, 'lz/kept');
    try {
      await watch.ready;
      const lease = client.lease(2);
      await lease.put('lz/kept').value('v');
      await sleep(4500);
      assert.equal(await client.get('lz/kept').string(), 'v', 'kept alive past its TTL');
      const start = Date.now();
      lease.release();
      await until('the expiry on every member', () => watch.revs.every((r) => r !== null));
      assert.ok(Date.now() - start >= 1000, 'not expired before its TTL');
      assert.equal(new Set(watch.revs).size, 1, `delete revisions differ: ${watch.revs.join(',')}`);
      assert.equal(await client.get('lz/kept').string(), null);
    } finally {
      client.close();
      await watch.close();
    }
  });

  test('a new leader after kill -9 restarts the TTL instead of expiring the lease at once', async () => {
    const leader = await cluster.waitForLeader();
    const others = cluster.members.filter((m) => m !== leader);
    const client = new Etcd3({ hosts: others.map((m) => `http://127.0.0.1:${m.clientPort}`) });
    try {
      const lease = client.lease(4, { autoKeepAlive: false });
      await lease.put('lz/failover').value('v');
      const killedAt = Date.now();
      await cluster.kill(leader);
      await cluster.waitForLeader();
      assert.equal(await client.get('lz/failover').string(), 'v', 'still there under the new leader');
      await until('the expiry', async () => (await client.get('lz/failover').string()) === null, 20_000);
      const gone = Date.now() - killedAt;
      assert.ok(gone >= 3900, `expired ${gone} ms after the kill, before a full TTL under the new leader`);
    } finally {
      client.close();
      cluster.launch(leader);
    }
  });
});
