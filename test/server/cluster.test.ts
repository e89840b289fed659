// A real three-member cluster of `synod node` processes on loopback, driven by
// etcdctl (when installed), the npm etcd3 client and synod's own client commands.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { MAIN, TestCluster } from './harness.js';
import { EtcdClient, type EtcdClientError } from '../../src/server/client.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../src/server/grpc/index.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

for (const protocol of ['raft', 'multipaxos']) describe(`a three-member cluster on ${protocol}`, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, protocol);
  });
  after(async () => {
    await cluster.stop();
  });

  test('etcdctl: put, get, prefix, del, txn, member list, endpoint status (also --cluster)', { skip: etcdctl ? false : 'etcdctl is not installed (apt-get install etcd-client)' }, () => {
    const run = (args: string[], input?: string): string =>
      execFileSync('etcdctl', ['--endpoints', cluster.endpoints.join(','), ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, ...(input === undefined ? {} : { input }) });
    assert.equal(run(['put', 'ctl/a', '1']).trim(), 'OK');
    assert.equal(run(['put', 'ctl/b', '2']).trim(), 'OK');
    assert.equal(run(['get', 'ctl/a']), 'ctl/a\n1\n');
    assert.equal(run(['get', 'ctl/', '--prefix', '--keys-only']).split('\n').filter(Boolean).join(','), 'ctl/a,ctl/b');
    assert.equal(run(['txn'], 'value("ctl/a") = "1"\n\nput ctl/a 10\n\nput ctl/a 20\n\n').split('\n')[0], 'SUCCESS');
    assert.equal(run(['get', 'ctl/a', '--print-value-only']).trim(), '10');
    assert.equal(run(['del', 'ctl/', '--prefix']).trim(), '2');
    assert.equal(run(['get', 'ctl/', '--prefix']).trim(), '');
    // An empty value reaches the server as an absent bytes field.
    assert.equal(run(['put', 'ctl/empty', '']).trim(), 'OK');
    const empty = JSON.parse(run(['get', 'ctl/empty', '-w', 'json'])) as { kvs: { value?: string; version: number }[] };
    assert.equal(empty.kvs.length, 1);
    assert.equal(empty.kvs[0]?.value ?? '', '');
    assert.equal(run(['del', 'ctl/empty']).trim(), '1');
    const members = run(['member', 'list']).trim().split('\n');
    assert.equal(members.length, 3);
    assert.ok(members.every((l) => /, started, m\d, http:\/\/127\.0\.0\.1:\d+/.test(l)), members.join('\n'));
    const status = JSON.parse(run(['endpoint', 'status', '-w', 'json'])) as { Status: { leader: number; header: { member_id: number }; dbSize: number; dbSizeInUse: number } }[];
    assert.equal(status.length, 3);
    assert.ok(status.every((s) => s.Status.dbSize > 0 && s.Status.dbSizeInUse > 0), JSON.stringify(status));
    assert.equal(status.filter((s) => s.Status.leader === s.Status.header.member_id).length, 1);
    // --cluster dials the client URLs from member list, scheme and all: the HTTP/2 :authority is "http://host:port".
    const one = ['--endpoints', cluster.endpoints[0] as string];
    const ctl = (args: string[]): string => execFileSync('etcdctl', [...one, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const all = JSON.parse(ctl(['endpoint', 'status', '--cluster', '-w', 'json'])) as { Endpoint: string }[];
    assert.deepEqual(all.map((s) => s.Endpoint.replace('http://', '')).sort(), [...cluster.endpoints].sort());
    const health = spawnSync('etcdctl', [...one, 'endpoint', 'health', '--cluster'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.equal(health.status, 0, health.stderr);
    assert.equal(`${health.stdout}${health.stderr}`.split('\n').filter((l) => / is healthy/.test(l)).length, 3);
  });

  test("etcd's HTTP endpoints on the client port: /health, /version, /metrics over HTTP/1.1, beside gRPC", async () => {
    const port = cluster.members[1]?.clientPort;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { health: 'true', reason: '' });
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/version`)).json(), { etcdserver: '3.5.0', etcdcluster: '3.5.0' });
    assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /synod_server_has_leader 1/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    assert.equal(execFileSync(process.execPath, [MAIN, 'put', 'http1/after', 'ok', '--endpoints', `127.0.0.1:${port}`], { encoding: 'utf8' }), 'OK\n');
  });

  test("gRPC's health service: every member answers SERVING", async () => {
    const def = protoLoader.loadSync('grpc/health/v1/health.proto', { includeDirs: [protoDir()], enums: String, defaults: true });
    const Health = (grpc.loadPackageDefinition(def) as Any).grpc.health.v1.Health;
    for (const e of cluster.endpoints) {
      const c = new Health(e, grpc.credentials.createInsecure());
      const res = await new Promise<Any>((resolve, reject) => c.Check({ service: '' }, (err: Error | null, r: Any) => (err ? reject(err) : resolve(r))));
      c.close();
      assert.equal(res.status, 'SERVING', e);
    }
  });

  test('the npm etcd3 client: put, get, delete, prefix, txn', async () => {
    const client = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`) });
    try {
      await client.put('e3/x').value('1');
      await client.put('e3/y').value('2');
      assert.equal(await client.get('e3/x').string(), '1');
      assert.deepEqual(await client.getAll().prefix('e3/').strings(), { 'e3/x': '1', 'e3/y': '2' });
      const txn = await client.if('e3/x', 'Value', '==', '1').then(client.put('e3/x').value('one')).else(client.put('e3/x').value('other')).commit();
      assert.equal(txn.succeeded, true);
      const again = await client.if('e3/x', 'Value', '==', '1').then(client.put('e3/z').value('no')).commit();
      assert.equal(again.succeeded, false);
      assert.equal(await client.get('e3/x').string(), 'one');
      await client.delete().key('e3/y');
      assert.equal(await client.get('e3/y').string(), null);
      assert.equal(await client.getAll().prefix('e3/').count(), 1);
    } finally {
      client.close();
    }
  });

  test('synod client commands: put, get, del, txn, member list, endpoint health', () => {
    const synod = (args: string[], input?: string): string =>
      execFileSync(process.execPath, [MAIN, ...args, '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
    assert.equal(synod(['put', 'cli/k', 'v']).trim(), 'OK');
    assert.equal(synod(['get', 'cli/k']), 'cli/k\nv\n');
    assert.equal(synod(['get', 'cli/', '--prefix', '--count-only']).trim(), '1');
    assert.equal(synod(['txn'], 'version("cli/k") = "1"\n\nput cli/k w\n\n').split('\n')[0], 'SUCCESS');
    assert.equal(synod(['get', 'cli/k', '--print-value-only', '--consistency', 's']).trim(), 'w');
    assert.equal(synod(['del', 'cli/k']).trim(), '1');
    assert.equal(synod(['member', 'list']).trim().split('\n').length, 3);
    assert.match(synod(['endpoint', 'health']), /is healthy/);
  });

  test('synod watch and lease commands', async () => {
    const synod = (args: string[]): string => execFileSync(process.execPath, [MAIN, ...args, '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8' });
    const watcher = spawn(process.execPath, [MAIN, 'watch', 'wl/', '--prefix', '--endpoints', cluster.endpoints[0] as string], { stdio: ['ignore', 'pipe', 'inherit'] });
    let seen = '';
    watcher.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    await new Promise((r) => setTimeout(r, 1000));
    const id = /^lease ([0-9a-f]+) granted with TTL\(30s\)$/.exec(synod(['lease', 'grant', '30']).trim())?.[1];
    assert.ok(id !== undefined);
    synod(['put', 'wl/a', '1', '--lease', id]);
    assert.match(synod(['lease', 'timetolive', id, '--keys']), /granted with TTL\(30s\), remaining\(\d+s\), attached keys\(\[wl\/a\]\)/);
    assert.match(synod(['lease', 'keep-alive', id, '--once']), /keepalived with TTL\(30\)/);
    assert.match(synod(['lease', 'list']), new RegExp(`found \\d+ leases[\\s\\S]*${id}`));
    assert.equal(synod(['lease', 'revoke', id]).trim(), `lease ${id} revoked`);
    assert.equal(synod(['get', 'wl/a']).trim(), '');
    const until = Date.now() + 5000;
    while (!seen.includes('DELETE') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    watcher.kill('SIGINT');
    assert.equal(seen, 'PUT\nwl/a\n1\nDELETE\nwl/a\n\n');
  });

  test('endpoint hashkv: every member hashes the same history equally (synod, and etcdctl --cluster)', async () => {
    const synod = (args: string[]): string => execFileSync(process.execPath, [MAIN, ...args, '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8' });
    for (let i = 0; i < 20; i++) synod(['put', `hash/${i % 7}`, `v${i}`]);
    const rev = Number(/hash_revision\D*(\d+)/.exec(JSON.stringify(JSON.parse(synod(['endpoint', 'hashkv', '-w', 'json']))[0]))?.[1]);
    assert.ok(rev >= 21, `revision ${rev}`);
    // Every member answers once it has applied `rev` (before, a future revision is refused).
    let rows: string[][] = [];
    for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      const r = spawnSync(process.execPath, [MAIN, 'endpoint', 'hashkv', '--rev', String(rev), '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8' });
      if (r.status === 0) {
        rows = r.stdout.trim().split('\n').map((l) => l.split(', '));
        break;
      }
    }
    assert.equal(rows.length, 3);
    assert.equal(new Set(rows.map((r) => r[1])).size, 1, rows.join('\n'));
    assert.ok(rows.every((r) => r[2] === String(rev)));
    // A later write changes the current hash but not the hash at `rev`.
    synod(['put', 'hash/0', 'later']);
    const again = synod(['endpoint', 'hashkv', '--rev', String(rev)]).trim().split('\n').map((l) => l.split(', ')[1]);
    assert.equal(again[0], rows[0]?.[1]);
    const future = spawnSync(process.execPath, [MAIN, 'endpoint', 'hashkv', '--rev', String(rev + 1000), '--endpoints', cluster.endpoints[0] as string], { encoding: 'utf8' });
    assert.notEqual(future.status, 0);
    assert.match(future.stderr, /future revision/);
    if (etcdctl) {
      const ctl = execFileSync('etcdctl', ['--endpoints', cluster.endpoints[0] as string, 'endpoint', 'hashkv', '--cluster', '--rev', String(rev)], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      const hashes = ctl.trim().split('\n').map((l) => l.split(', ')[1]);
      assert.deepEqual(hashes, [rows[0]?.[1], rows[0]?.[1], rows[0]?.[1]], ctl);
    }
  });

  test('move-leader: etcdctl and synod hand leadership to a follower', async () => {
    const eps = cluster.endpoints.join(',');
    const status = (): { id: string; leader: boolean }[] => execFileSync(process.execPath, [MAIN, 'endpoint', 'status', '--endpoints', eps], { encoding: 'utf8' })
      .trim().split('\n').map((l) => l.split(', ')).map((f) => ({ id: f[1] as string, leader: f[4] === 'true' }));
    const leaderNow = async (): Promise<string> => {
      for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        const l = status().find((s) => s.leader);
        if (l !== undefined) return l.id;
      }
      throw new Error('no leader');
    };
    const from = await leaderNow();
    const target = status().find((s) => !s.leader)?.id as string;
    const moved = spawnSync(process.execPath, [MAIN, 'move-leader', target, '--endpoints', eps], { encoding: 'utf8' });
    assert.equal(moved.status, 0, moved.stderr);
    assert.equal(moved.stdout.trim(), `Leadership transferred from ${from} to ${target}`);
    assert.equal(await leaderNow(), target);
    // Asked of a follower: etcd's "not leader"; an unknown member: "bad leader transferee".
    const follower = cluster.endpoints.find((_, i) => status()[i]?.leader === false) as string;
    const direct = spawnSync(process.execPath, [MAIN, 'move-leader', from, '--endpoints', follower], { encoding: 'utf8' });
    assert.notEqual(direct.status, 0);
    assert.match(direct.stderr, /no leader endpoint given/);
    const client = new EtcdClient({ endpoints: [follower], commandTimeoutMs: 3000 });
    try {
      await assert.rejects(client.call('Maintenance', 'MoveLeader', { targetID: BigInt(`0x${from}`).toString() }), (e: EtcdClientError) => e.code === 9 && /etcdserver: not leader/.test(e.message));
    } finally {
      client.close();
    }
    const bad = spawnSync(process.execPath, [MAIN, 'move-leader', 'abc', '--endpoints', eps], { encoding: 'utf8' });
    assert.match(bad.stderr, /bad leader transferee/);
    assert.equal(synodPut(eps), 'OK', 'writes go on under the new leader');
    if (etcdctl) {
      const back = execFileSync('etcdctl', ['--endpoints', eps, 'move-leader', from], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      assert.match(back, new RegExp(`Leadership transferred from ${target} to ${from}`));
      assert.equal(await leaderNow(), from);
    }
  });
});

function synodPut(eps: string): string {
  return execFileSync(process.execPath, [MAIN, 'put', 'moved/k', 'v', '--endpoints', eps], { encoding: 'utf8' }).trim();
}
