// etcd's authentication on a real three-member cluster: etcdctl's user, role
// and auth commands, permission checks on KV, Watch and Maintenance, the npm
// etcd3 client logging in, and the auth state surviving a restart of every
// member (users, roles, the enabled flag and the token key are in the store).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { MAIN, TestCluster } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

for (const protocol of ['raft', 'multipaxos']) describe(`auth on ${protocol}`, { skip: etcdctl ? false : 'etcdctl is not installed (apt-get install etcd-client)' }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, protocol);
  });
  after(async () => {
    await cluster.stop();
  });

  /** etcdctl's exit status and what it printed (stderr without the client's retry warnings). */
  const ctl = (...args: string[]): { status: number | null; out: string; err: string } => {
    const r = spawnSync('etcdctl', ['--endpoints', cluster.endpoints.join(','), ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr.split('\n').filter((l) => l.startsWith('Error')).join('\n') };
  };
  const root = (...args: string[]) => ctl('--user', 'root:rootpw', ...args);
  const alice = (...args: string[]) => ctl('--user', 'alice:alicepw', ...args);

  test('etcdctl: enable auth, users and roles, and what each may do', () => {
    assert.equal(ctl('user', 'add', 'root:rootpw').out, 'User root created');
    // etcdctl adds the root role and grants it when the server says root lacks it (etcd's error, matched by message).
    assert.equal(ctl('auth', 'enable').out, 'Authentication Enabled');
    assert.match(ctl('put', 'k', 'v').err, /etcdserver: user name is empty/);
    assert.match(ctl('--user', 'root:wrong', 'get', 'k').err, /authentication failed, invalid user ID or password/);
    assert.equal(root('put', 'k', 'v').out, 'OK');
    assert.equal(root('role', 'add', 'r1').out, 'Role r1 created');
    assert.equal(root('role', 'grant-permission', 'r1', '--prefix=true', 'readwrite', 'a/').out, 'Role r1 updated');
    assert.equal(root('role', 'grant-permission', 'r1', 'read', 'k').out, 'Role r1 updated');
    assert.equal(root('user', 'add', 'alice:alicepw').out, 'User alice created');
    assert.equal(root('user', 'grant-role', 'alice', 'r1').out, 'Role r1 is granted to user alice');
    assert.equal(root('user', 'get', 'alice').out, 'User: alice\nRoles: r1');
    assert.equal(root('user', 'list').out, 'alice\nroot');
    assert.match(root('role', 'get', 'r1').out, /KV Read:\n\t\[a\/, a0\) \(prefix a\/\)\n\tk\nKV Write:\n\t\[a\/, a0\) \(prefix a\/\)/);

    assert.equal(alice('put', 'a/1', 'x').out, 'OK');
    assert.equal(alice('get', 'a/', '--prefix').out, 'a/1\nx');
    assert.equal(alice('get', 'k', '--print-value-only').out, 'v');
    for (const denied of [['put', 'k', 'no'], ['get', '', '--prefix'], ['del', 'k'], ['user', 'list'], ['auth', 'disable'], ['endpoint', 'hashkv'], ['compaction', '1']]) {
      const r = alice(...denied);
      assert.notEqual(r.status, 0, denied.join(' '));
      assert.match(r.err, /etcdserver: permission denied/, denied.join(' '));
    }
    assert.equal(alice('user', 'get', 'alice').out, 'User: alice\nRoles: r1', 'a user may read itself');
    // A txn is checked whole: the failure branch writes outside alice's range.
    const txn = spawnSync('etcdctl', ['--endpoints', cluster.endpoints.join(','), '--user', 'alice:alicepw', 'txn'], { input: 'value("a/1") = "x"\n\nput a/2 y\n\nput zz y\n\n', encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.match(txn.stderr, /permission denied/);
    assert.match(root('user', 'delete', 'root').err, /invalid auth management/);
    assert.match(root('endpoint', 'hashkv').out, /^127\.0\.0\.1:\d+, \d+/);
  });

  test('a watch outside the user\'s range is canceled with the reason; inside it delivers', async () => {
    const watch = (range: string) => spawn('etcdctl', ['--endpoints', cluster.endpoints[0] as string, '--user', 'alice:alicepw', 'watch', range, '--prefix'], { env: { ...process.env, ETCDCTL_API: '3' } });
    const denied = watch('z');
    let deniedOut = '';
    denied.stdout.on('data', (d: Buffer) => (deniedOut += d.toString()));
    denied.stderr.on('data', (d: Buffer) => (deniedOut += d.toString()));
    const code = await new Promise<number | null>((resolve) => denied.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(deniedOut, /permission denied/);
    const allowed = watch('a/');
    let seen = '';
    allowed.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(alice('put', 'a/w', '1').out, 'OK');
    for (const until = Date.now() + 5000; !seen.includes('a/w') && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
    allowed.kill('SIGINT');
    assert.equal(seen, 'PUT\na/w\n1\n');
  });

  test('the npm etcd3 client logs in and meets the same rules', async () => {
    const client = new Etcd3({ hosts: cluster.endpoints, auth: { username: 'alice', password: 'alicepw' } });
    try {
      await client.put('a/etcd3').value('1');
      assert.equal(await client.get('a/etcd3').string(), '1');
      await assert.rejects(async () => client.put('k').value('no'), /permission denied/);
    } finally {
      client.close();
    }
    const anonymous = new Etcd3({ hosts: cluster.endpoints });
    try {
      await assert.rejects(async () => anonymous.get('a/etcd3').string(), /user name is empty/);
    } finally {
      anonymous.close();
    }
  });

  test('after every member restarts, auth is still on with the same users and rules', async () => {
    await Promise.all(cluster.members.map((m) => cluster.kill(m)));
    for (const m of cluster.members) cluster.launch(m);
    await cluster.waitForLeader();
    let got = ctl('--user', 'alice:alicepw', 'get', 'a/1', '--print-value-only');
    for (const until = Date.now() + 10_000; got.status !== 0 && Date.now() < until; got = alice('get', 'a/1', '--print-value-only')) await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.out, 'x');
    assert.match(ctl('get', 'a/1').err, /user name is empty/);
    assert.match(alice('put', 'k', 'no').err, /permission denied/);
    assert.equal(root('auth', 'disable').out, 'Authentication Disabled');
    assert.equal(ctl('put', 'k', 'free').out, 'OK');
  });

  test("synod's own user, role and auth commands, and --user on its client commands", () => {
    const synod = (...args: string[]): { status: number | null; out: string; err: string } => {
      const r = spawnSync(process.execPath, [MAIN, ...args, '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8' });
      return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
    };
    assert.equal(synod('user', 'add', 'bob:bobpw').out, 'User bob created');
    assert.equal(synod('role', 'add', 'rb').out, 'Role rb created');
    assert.equal(synod('role', 'grant-permission', 'rb', 'readwrite', 'b/', '--prefix').out, 'Role rb updated');
    assert.equal(synod('role', 'grant-permission', 'rb', 'read', 'k').out, 'Role rb updated');
    assert.equal(synod('user', 'grant-role', 'bob', 'rb').out, 'Role rb is granted to user bob');
    assert.equal(synod('auth', 'enable').out, 'Authentication Enabled');
    assert.match(synod('auth', 'status', '--user', 'root:rootpw').out, /^Authentication Status: true\nAuthRevision: \d+$/);
    assert.equal(synod('role', 'get', 'rb', '--user', 'root', '--password', 'rootpw').out, 'Role rb\nKV Read:\n\t[b/, b0) (prefix b/)\n\tk\nKV Write:\n\t[b/, b0) (prefix b/)');
    assert.equal(synod('put', 'b/1', 'x', '--user', 'bob:bobpw').out, 'OK');
    assert.equal(synod('get', 'b/', '--prefix', '--user', 'bob:bobpw').out, 'b/1\nx');
    const denied = synod('put', 'k', 'no', '--user', 'bob:bobpw');
    assert.notEqual(denied.status, 0);
    assert.match(denied.err, /permission denied/);
    assert.match(synod('get', 'k').err, /user name is empty/);
    assert.match(synod('get', 'k', '--user', 'bob:wrong').err, /authentication failed/);
    assert.match(synod('get', 'k', '--user', 'ghost:x').err, /authentication failed, invalid user ID or password/, 'an unknown user gets the same answer');
    assert.match(synod('get', 'k', '--user', 'bob').err, /--user needs a password/);
    assert.equal(synod('role', 'revoke-permission', 'rb', 'k', '--user', 'root:rootpw').out, 'Permission of key k is revoked from role rb');
    assert.match(synod('get', 'k', '--user', 'bob:bobpw').err, /permission denied/);
    assert.equal(synod('user', 'list', '--user', 'root:rootpw').out, 'alice\nbob\nroot');
    assert.equal(synod('auth', 'disable', '--user', 'root:rootpw').out, 'Authentication Disabled');
  });
});
