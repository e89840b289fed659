// Snapshots of real clusters: `etcdctl snapshot save` (Raft) and `synod snapshot
// save` (Multi-Paxos) of a three-member cluster with data, restored with
// `synod snapshot restore` into a new three-member cluster that then serves the
// same keys, values, revisions and leases; damaged files refused; etcdctl's
// defrag and alarm list.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from '../../src/server/client.js';
import { MAIN, TestCluster } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
const ctl = (endpoints: string, args: string[]): string =>
  execFileSync('etcdctl', ['--endpoints', endpoints, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
const synod = (args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Writes a history: overwrites, a delete, a lease with a key. Returns the lease id (decimal). */
async function fill(endpoints: string[]): Promise<string> {
  const c = new EtcdClient({ endpoints });
  try {
    const put = (k: string, v: string, lease = '0'): Promise<unknown> => c.call('KV', 'Put', { key: Buffer.from(k), value: Buffer.from(v), lease });
    for (let i = 0; i < 5; i++) await put(`snap/k${i}`, `v${i}`);
    await put('snap/k1', 'v1-again');
    await c.call('KV', 'DeleteRange', { key: Buffer.from('snap/k2') });
    const lease = await c.call('Lease', 'LeaseGrant', { TTL: '600', ID: '0' });
    await put('snap/leased', 'x', lease.ID);
    await put('other', '\u00ff binary-ish \u0000');
    return String(lease.ID);
  } finally {
    c.close();
  }
}

/** Every key with its revisions, and the store revision, as one member answers. */
async function dump(endpoint: string): Promise<{ revision: string; kvs: string[]; leases: string[] }> {
  const c = new EtcdClient({ endpoints: [endpoint] });
  try {
    const r = await c.call('KV', 'Range', { key: Buffer.from([0]), range_end: Buffer.from([0]) });
    const l = await c.call('Lease', 'LeaseLeases', {});
    return {
      revision: String(r.header.revision),
      kvs: (r.kvs as Any[]).map((kv) => `${kv.key.toString('hex')}=${kv.value.toString('hex')} c${kv.create_revision} m${kv.mod_revision} v${kv.version} l${kv.lease}`),
      leases: (l.leases as Any[]).map((x) => String(x.ID)),
    };
  } finally {
    c.close();
  }
}

/** A new three-member cluster whose members were restored from `file`. */
async function restoreInto(file: string, protocol: string): Promise<TestCluster> {
  const c = await TestCluster.create(3, protocol);
  for (const m of c.members) {
    const r = synod(['snapshot', 'restore', file, '--data-dir', m.dataDir, '--name', m.name, '--initial-cluster', c.initialCluster,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--protocol', protocol]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Restored snapshot .* into ${m.dataDir}: member ${m.name} \\([0-9a-f]+\\) of a 3-member ${protocol} cluster`));
  }
  for (const m of c.members) c.launch(m);
  await c.waitForLeader();
  await c.waitForServing();
  return c;
}

type Dump = Awaited<ReturnType<typeof dump>>;

/** `before`: the saving member's data, read (linearizably, so applied there) before the save. */
async function checkRestored(before: Dump, file: string, protocol: string, leaseId: string): Promise<void> {
  const restored = await restoreInto(file, protocol);
  try {
    for (const e of restored.endpoints) assert.deepEqual(await dump(e), before, `member ${e}`);
    assert.deepEqual(before.leases, [leaseId]);
    assert.ok(before.kvs.length === 6);
    const c = new EtcdClient({ endpoints: restored.endpoints });
    try {
      const put = await c.call('KV', 'Put', { key: Buffer.from('after'), value: Buffer.from('restore') });
      assert.equal(Number(put.header.revision), Number(before.revision) + 1, 'the restored cluster carries on from the snapshot revision');
      const old = await c.call('KV', 'Range', { key: Buffer.from('snap/k1'), revision: String(Number(before.revision) - 4) });
      assert.equal(old.kvs[0].value.toString(), 'v1', 'history older than the snapshot revision is kept');
    } finally {
      c.close();
    }
  } finally {
    await restored.stop();
  }
}

describe('snapshots of a three-member raft cluster', () => {
  let cluster: TestCluster;
  let leaseId: string;
  before(async () => {
    cluster = await TestCluster.start(3, 'raft');
    leaseId = await fill(cluster.endpoints);
  });
  after(async () => {
    await cluster.stop();
  });

  test('etcdctl snapshot save, synod snapshot status, synod snapshot restore into a new cluster: the same data', { skip: etcdctl ? false : 'etcdctl is not installed' }, async () => {
    const endpoint = cluster.endpoints[1] as string;
    const before = await dump(endpoint);
    const file = join(cluster.dir, 'etcdctl.snap');
    assert.match(ctl(endpoint, ['snapshot', 'save', file]), new RegExp(`Snapshot saved at ${file}`));
    // synod's own client gets the very same bytes from the same member.
    const mine = join(cluster.dir, 'synod.snap');
    const saved = synod(['snapshot', 'save', mine, '--endpoints', endpoint]);
    assert.equal(saved.status, 0, saved.stderr);
    assert.deepEqual(readFileSync(mine), readFileSync(file));
    const status = synod(['snapshot', 'status', file, '-w', 'json']);
    assert.equal(status.status, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { revision: number; totalKey: number; totalSize: number; versions: number };
    assert.equal(String(s.revision), before.revision);
    assert.equal(s.totalKey, 6);
    assert.equal(s.totalSize, readFileSync(file).length);
    await checkRestored(before, file, 'raft', leaseId);
  });

  test('a truncated or damaged snapshot is refused, naming the file and the fault, and no data dir is made', async () => {
    const file = join(cluster.dir, 'good.snap');
    assert.equal(synod(['snapshot', 'save', file, '--endpoints', cluster.endpoints[0] as string]).status, 0);
    const bytes = readFileSync(file);
    const cases: [string, Buffer, RegExp][] = [
      ['truncated.snap', bytes.subarray(0, bytes.length - 100), /truncated: \d+ bytes, and its header promises \d+ \(100 missing\)/],
      ['flipped.snap', Buffer.from(bytes).fill(0x41, 300, 301), /corrupt: its SHA-256 does not match/],
      ['empty.snap', Buffer.alloc(0), /is empty/],
    ];
    for (const [name, content, re] of cases) {
      const path = join(cluster.dir, name);
      writeFileSync(path, content);
      const dir = join(cluster.dir, `restored-${name}`);
      const r = synod(['snapshot', 'restore', path, '--data-dir', dir]);
      assert.equal(r.status, 2, name);
      assert.ok(r.stderr.includes(path), `${name}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(existsSync(dir), false);
      assert.equal(synod(['snapshot', 'status', path]).status, 2);
    }
    const two = synod(['snapshot', 'save', join(cluster.dir, 'x.snap'), '--endpoints', cluster.endpoints.slice(0, 2).join(',')]);
    assert.equal(two.status, 2);
    assert.match(two.stderr, /one selected member/);
  });

  test('etcdctl defrag and alarm list; synod defrag, alarm list, alarm disarm', { skip: etcdctl ? false : 'etcdctl is not installed' }, () => {
    const all = cluster.endpoints.join(',');
    assert.deepEqual(ctl(all, ['defrag']).trim().split('\n'), cluster.endpoints.map((e) => `Finished defragmenting etcd member[${e}]`));
    assert.equal(ctl(all, ['alarm', 'list']), '');
    assert.equal(ctl(all, ['alarm', 'disarm']), '');
    const d = synod(['defrag', '--endpoints', all]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout.trim().split('\n').length, 3);
    for (const verb of ['list', 'disarm']) {
      const a = synod(['alarm', verb, '--endpoints', all]);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(a.stdout, '');
    }
  });
});

describe('snapshots of a three-member multipaxos cluster', () => {
  let cluster: TestCluster;
  let leaseId: string;
  before(async () => {
    cluster = await TestCluster.start(3, 'multipaxos');
    leaseId = await fill(cluster.endpoints);
  });
  after(async () => {
    await cluster.stop();
  });

  test('synod snapshot save, synod snapshot restore into a new cluster: the same data', async () => {
    const file = join(cluster.dir, 'mp.snap');
    const before = await dump(cluster.endpoints[2] as string);
    const saved = synod(['snapshot', 'save', file, '--endpoints', cluster.endpoints[2] as string]);
    assert.equal(saved.status, 0, saved.stderr);
    assert.equal(saved.stdout, `Snapshot saved at ${file}\n`);
    const table = synod(['snapshot', 'status', file, '-w', 'table']);
    assert.match(table.stdout, /\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|/);
    await checkRestored(before, file, 'multipaxos', leaseId);
  });
});
