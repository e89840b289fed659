// etcdctl (etcd's own Go client, from Debian's etcd-client) against the wire
// layer with the fake. Skipped, saying so, when etcdctl is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { FakeKv } from './fake-kv.js';
import { startServer, type Running } from './helpers.js';

const probe = spawnSync('etcdctl', ['version'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false
  : 'etcdctl not found: install Debian package etcd-client (apt-get install -y etcd-client) to run these tests';

describe('etcdctl', { skip }, () => {
  let run: Running;
  // Asynchronous: the server runs in this process and must keep answering.
  const ctl = (args: string[], input?: string): Promise<{ out: string; err: string; status: number | null }> =>
    new Promise((resolve, reject) => {
      const child = spawn('etcdctl', [`--endpoints=${run.address}`, '--command-timeout=5s', '--dial-timeout=3s', ...args],
        { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.on('error', reject);
      child.on('close', (status) => resolve({ out, err, status }));
      child.stdin.end(input ?? '');
    });
  before(async () => { run = await startServer(new FakeKv()); });
  after(() => run.server.close());

  test('put, get, get --prefix, del', async () => {
    assert.equal((await ctl(['put', 'app/a', 'alpha'])).out.trim(), 'OK');
    assert.equal((await ctl(['put', 'app/b', 'beta'])).out.trim(), 'OK');
    assert.equal((await ctl(['get', 'app/a'])).out, 'app/a\nalpha\n');
    assert.equal((await ctl(['get', '--prefix', 'app/'])).out, 'app/a\nalpha\napp/b\nbeta\n');
    assert.equal((await ctl(['get', '--prefix', '--keys-only', 'app/'])).out.replace(/\n+/g, ' ').trim(), 'app/a app/b');
    assert.equal((await ctl(['del', 'app/a'])).out.trim(), '1');
    assert.equal((await ctl(['get', '--prefix', 'app/'])).out, 'app/b\nbeta\n');
  });

  test('get -w json shows the header the handler filled in', async () => {
    const j = JSON.parse((await ctl(['get', 'app/b', '-w', 'json'])).out) as { header: { member_id: number }; count: number };
    assert.equal(j.count, 1);
    assert.ok(j.header.member_id > 2 ** 53, 'member_id kept as a 64-bit value');
  });

  test('txn with a value compare', async () => {
    const r = (await ctl(['txn'], 'value("app/b") = "beta"\n\nput app/b gamma\n\nput app/b nope\n\n'));
    assert.equal(r.out.split('\n')[0], 'SUCCESS', r.err);
    assert.equal((await ctl(['get', 'app/b', '--print-value-only'])).out.trim(), 'gamma');
    const f = (await ctl(['txn'], 'value("app/b") = "beta"\n\nput app/b nope\n\nput app/c failure-branch\n\n'));
    assert.equal(f.out.split('\n')[0], 'FAILURE', f.err);
    assert.equal((await ctl(['get', 'app/c', '--print-value-only'])).out.trim(), 'failure-branch');
  });

  test('endpoint status and member list', async () => {
    const st = (await ctl(['endpoint', 'status', '-w', 'json']));
    const s = JSON.parse(st.out) as { Endpoint: string; Status: { version: string; raft_term: number } }[];
    assert.equal(s[0]?.Endpoint, run.address);
    assert.equal(s[0]?.Status.version, '3.5.0-synod-fake');
    const ml = (await ctl(['member', 'list']));
    assert.equal(ml.out.trim(), '8e9e05c52164694d, started, fake-1, http://127.0.0.1:12380, http://127.0.0.1:2379, false');
  });

  test('watch --prefix sees a put made by another client', async () => {
    const watcher = spawn('etcdctl', [`--endpoints=${run.address}`, 'watch', '--prefix', 'w/'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    watcher.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      // The watch is created asynchronously: put until the event shows up.
      for (let i = 0; i < 50 && !out.includes('PUT\nw/1\nseen\n'); i++) {
        await ctl(['put', 'w/1', 'seen']);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      watcher.kill();
    }
    assert.ok(out.startsWith('PUT\nw/1\nseen\n'), out);
  });

  test('an RPC synod does not offer fails with its name in the message', async () => {
    const r = (await ctl(['lease', 'grant', '10']));
    assert.notEqual(r.status, 0);
    assert.match(r.err, /Unimplemented desc = synod does not offer Lease.LeaseGrant yet/);
  });
});
