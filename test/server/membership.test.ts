// Membership at runtime on a real Raft cluster of `synod node` processes:
// a learner added and started with --initial-cluster-state existing catches
// up and is promoted; a follower and then the leader are removed while the
// cluster keeps serving; etcdctl and synod's member commands agree.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { EtcdClient } from '../../src/server/client.js';
import { freePort, MAIN, TestCluster, type TestMember } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`);
}

function exited(m: TestMember, timeoutMs = 15_000): Promise<number | null> {
  const proc = m.proc;
  if (proc === null) return Promise.resolve(null);
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${m.name} did not stop within ${timeoutMs} ms; output:\n${m.output.slice(-3000)}`)), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

describe('membership at runtime (raft)', () => {
  let cluster: TestCluster;
  const live = (): TestMember[] => cluster.members.filter((m) => m.proc !== null && m.proc.exitCode === null);
  const endpoints = (): string => live().map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  const synod = (args: string[]): { out: string; err: string; code: number | null } => {
    const r = spawnSync(process.execPath, [MAIN, ...args, '--endpoints', endpoints(), '--command-timeout', '10000'], { encoding: 'utf8' });
    return { out: r.stdout, err: r.stderr, code: r.status };
  };
  const ctl = (args: string[]): string => execFileSync('etcdctl', ['--endpoints', endpoints(), '--command-timeout', '10s', ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  const status = async (m: TestMember): Promise<{ id: string; cluster: string; learner: boolean; leader: string }> => {
    const c = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
    try {
      const s = await c.call('Maintenance', 'Status', {});
      return { id: BigInt(s.header.member_id).toString(16), cluster: BigInt(s.header.cluster_id).toString(16), learner: s.isLearner === true, leader: BigInt(s.leader).toString(16) };
    } finally {
      c.close();
    }
  };
  const list = (): { id: string; status: string; name: string; peer: string; learner: boolean }[] =>
    synod(['member', 'list']).out.trim().split('\n').map((l) => {
      const [id, st, name, peer, , learner] = l.split(', ');
      return { id: id ?? '', status: st ?? '', name: name ?? '', peer: peer ?? '', learner: learner === 'true' };
    });
  const leaderOf = async (): Promise<TestMember> => cluster.waitForLeader(20_000);

  before(async () => {
    cluster = await TestCluster.start(3);
  });
  after(async () => {
    await cluster.stop();
  });

  test('a learner is added, joins with --initial-cluster-state existing, catches up and is promoted', async () => {
    const c = new EtcdClient({ endpoints: cluster.endpoints, commandTimeoutMs: 5000 });
    try {
      for (let i = 0; i < 20; i++) await c.call('KV', 'Put', { key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) });
    } finally {
      c.close();
    }
    const m4 = await cluster.newMember('m4');
    const url = `http://127.0.0.1:${m4.peerPort}`;
    const added = synod(['member', 'add', 'm4', '--peer-urls', url, '--learner']);
    assert.equal(added.code, 0, added.err);
    const id = /^Member\s+([0-9a-f]+) added to cluster\s+([0-9a-f]+)$/m.exec(added.out)?.[1];
    assert.ok(id !== undefined, added.out);
    const initial = /^ETCD_INITIAL_CLUSTER="(.*)"$/m.exec(added.out)?.[1] ?? '';
    assert.deepEqual(initial.split(',').sort(), [...cluster.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`), `m4=${url}`].sort());
    assert.match(added.out, /^ETCD_NAME="m4"$/m);
    assert.match(added.out, /^ETCD_INITIAL_CLUSTER_STATE="existing"$/m);
    const before4 = list().find((m) => m.id === id);
    assert.deepEqual(before4, { id, status: 'unstarted', name: '', peer: url, learner: true });

    cluster.launchJoining(m4, initial);
    // It learns the data from the leader (entries or a snapshot) and serves it serializably.
    const got = await until('the learner serves k19', async () => {
      const r = spawnSync(process.execPath, [MAIN, 'get', 'k19', '--consistency', 's', '--print-value-only', '--endpoints', `127.0.0.1:${m4.clientPort}`], { encoding: 'utf8' });
      return r.stdout.trim() === 'v19' ? r.stdout.trim() : undefined;
    });
    assert.equal(got, 'v19');
    const s4 = await status(m4);
    assert.equal(s4.id, id, 'the id derived from --initial-cluster is the one MemberAdd returned');
    assert.equal(s4.learner, true);
    assert.equal(s4.cluster, (await status(cluster.members[0] as TestMember)).cluster, 'the joined member reports the cluster id of the others');
    // A learner cannot be promoted before it is in sync; retry until it is.
    await until('the learner is promoted', async () => {
      const r = synod(['member', 'promote', id]);
      if (r.code === 0) return r.out;
      assert.match(r.err, /in sync with leader|not leader|timed out|leader changed/);
      return undefined;
    });
    const after4 = await until('m4 published its name', async () => list().find((m) => m.id === id && m.name === 'm4'));
    assert.deepEqual(after4, { id, status: 'started', name: 'm4', peer: url, learner: false });
    assert.equal((await status(m4)).learner, false);
    // A voter now: a linearizable read through it works.
    const r = spawnSync(process.execPath, [MAIN, 'get', 'k3', '--print-value-only', '--endpoints', `127.0.0.1:${m4.clientPort}`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'v3');
  });

  test("a member's peer URLs are updated; restarted on them, it keeps its id and rejoins", async () => {
    const m4 = cluster.members.find((m) => m.name === 'm4') as TestMember;
    const id = (await status(m4)).id;
    const moved: TestMember = { ...m4, peerPort: await freePort(), proc: null, output: '' };
    const url = `http://127.0.0.1:${moved.peerPort}`;
    const r = synod(['member', 'update', id, '--peer-urls', url]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^Member\\s+${id} updated in cluster\\s+[0-9a-f]+$`, 'm'));
    assert.equal(list().find((m) => m.id === id)?.peer, url);
    await cluster.kill(m4, 'SIGTERM');
    cluster.members[cluster.members.indexOf(m4)] = moved;
    cluster.launchJoining(moved, cluster.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(','));
    await until('the moved member serves a linearizable read', async () => {
      const g = spawnSync(process.execPath, [MAIN, 'get', 'k5', '--print-value-only', '--endpoints', `127.0.0.1:${moved.clientPort}`], { encoding: 'utf8' });
      return g.stdout.trim() === 'v5' ? true : undefined;
    });
    assert.equal((await status(moved)).id, id);
  });

  test('bad changes are refused with etcd\'s messages', () => {
    const unknown = synod(['member', 'remove', 'abc123']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /etcdserver: member not found/);
    const taken = synod(['member', 'add', 'dup', '--peer-urls', `http://127.0.0.1:${(cluster.members[1] as TestMember).peerPort}`]);
    assert.equal(taken.code, 1);
    assert.match(taken.err, /etcdserver: member ID already exist|Peer URLs already exists/);
    const voter = list()[0]?.id ?? '';
    const promote = synod(['member', 'promote', voter]);
    assert.equal(promote.code, 1);
    assert.match(promote.err, /etcdserver: can only promote a learner member/);
    assert.equal(synod(['member', 'add', 'x', '--peer-urls', 'ftp://nowhere']).code, 1);
  });

  test('a follower is removed: it stops, and the cluster keeps serving', async () => {
    const leader = await leaderOf();
    const victim = cluster.members.find((m) => m !== leader && m.name !== 'm4' && m.proc !== null) as TestMember;
    const id = (await status(victim)).id;
    const r = synod(['member', 'remove', id]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^Member\\s+${id} removed from cluster\\s+[0-9a-f]+$`, 'm'));
    assert.equal(await exited(victim), 0);
    assert.match(victim.output, /this member has been removed from the cluster; stopping/);
    assert.equal(synod(['put', 'after-follower', 'yes']).out.trim(), 'OK');
    assert.equal(synod(['get', 'after-follower', '--print-value-only']).out.trim(), 'yes');
    assert.deepEqual(list().map((m) => m.id).includes(id), false);
    assert.equal(list().length, 3);
  });

  test('the leader is removed: it steps down once the change commits, and the rest elect a leader', async () => {
    const leader = await leaderOf();
    const id = (await status(leader)).id;
    if (etcdctl) assert.match(ctl(['member', 'remove', id]), new RegExp(`Member\\s+${id} removed`));
    else assert.equal(synod(['member', 'remove', id]).code, 0);
    assert.equal(await exited(leader), 0);
    assert.match(leader.output, /this member has been removed from the cluster; stopping/);
    const next = await leaderOf();
    assert.notEqual(next, leader);
    await until('a put after the leader left', async () => (synod(['put', 'after-leader', 'yes']).out.trim() === 'OK' ? true : undefined));
    assert.equal(synod(['get', 'after-leader', '--print-value-only']).out.trim(), 'yes');
  });

  test('etcdctl member list shows the live configuration', { skip: etcdctl ? false : 'etcdctl is not installed (apt-get install etcd-client)' }, async () => {
    const rows = await until('two started members', async () => {
      const lines = ctl(['member', 'list', '-w', 'table']).trim().split('\n');
      const body = lines.filter((l) => /^\| [ 0-9a-f]+ \|/.test(l));
      return body.length === 2 && body.every((l) => l.includes('started')) ? { lines, body } : undefined;
    });
    assert.match(rows.lines[1] ?? '', /ID.*STATUS.*NAME.*PEER ADDRS.*CLIENT ADDRS.*IS LEARNER/);
    for (const m of live()) {
      assert.ok(rows.body.some((l) => l.includes(` ${m.name} `) && l.includes(`http://127.0.0.1:${m.peerPort}`) && l.includes('false')), rows.lines.join('\n'));
    }
    const json = JSON.parse(ctl(['member', 'list', '-w', 'json'])) as { members: { name: string; isLearner?: boolean }[] };
    assert.deepEqual(json.members.map((m) => m.name).sort(), live().map((m) => m.name).sort());
  });
});

describe('strict reconfiguration check (raft, three members)', () => {
  let cluster: TestCluster;
  const endpoints = (): string => cluster.members.filter((m) => m.proc !== null && m.proc.exitCode === null).map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  const synod = (args: string[]): { out: string; err: string; code: number | null } => {
    const r = spawnSync(process.execPath, [MAIN, ...args, '--endpoints', endpoints(), '--command-timeout', '10000'], { encoding: 'utf8' });
    return { out: r.stdout, err: r.stderr, code: r.status };
  };
  const memberIds = (): string[] => synod(['member', 'list']).out.trim().split('\n').map((l) => l.split(', ')[0] ?? '').sort();
  before(async () => {
    cluster = await TestCluster.start(3);
  });
  after(async () => {
    await cluster.stop();
  });

  test('with a follower down, adding a voter or removing the other follower is refused, and nothing changes', async () => {
    const leader = await cluster.waitForLeader(20_000);
    const [down, other] = cluster.members.filter((m) => m !== leader) as [TestMember, TestMember];
    const idOf = async (m: TestMember): Promise<string> => {
      const c = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
      try {
        return BigInt((await c.call('Maintenance', 'Status', {})).header.member_id).toString(16);
      } finally {
        c.close();
      }
    };
    const otherId = await idOf(other);
    const before = memberIds();
    await cluster.kill(down, 'SIGTERM');
    try {
      // Four voters would need three of the two the leader reaches.
      const add = await until('the leader notices the member is gone', async () => {
        const r = synod(['member', 'add', 'extra', '--peer-urls', `http://127.0.0.1:${await freePort()}`]);
        assert.notEqual(r.code, 0, `the add was accepted: ${r.out}`);
        return /not enough started members/.test(r.err) ? r : undefined;
      });
      assert.match(add.err, /etcdserver: re-configuration failed due to not enough started members/);
      // Removing the other follower would leave the leader and the member that is down.
      const remove = synod(['member', 'remove', otherId]);
      assert.equal(remove.code, 1);
      assert.match(remove.err, /etcdserver: unhealthy cluster/);
      assert.deepEqual(memberIds(), before, 'nothing changed');
      assert.equal(synod(['put', 'while-down', 'yes']).out.trim(), 'OK', 'the two left still serve');
    } finally {
      cluster.launch(down);
      await cluster.waitForServing();
    }
  });
});

describe('a member removed while it was down (raft, three members)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3);
  });
  after(async () => {
    await cluster.stop();
  });

  test('restarted on its old data, it learns of its removal from a peer and stops (the member with the highest id, which dials no one, probes)', { timeout: 90_000 }, async () => {
    await cluster.waitForLeader(20_000);
    const idOf = async (m: TestMember): Promise<bigint> => {
      const c = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
      try {
        return BigInt((await c.call('Maintenance', 'Status', {})).header.member_id);
      } finally {
        c.close();
      }
    };
    const all = await Promise.all(cluster.members.map(async (m) => ({ m, id: await idOf(m) })));
    // The lower id dials (src/net/tcp-transport.ts): the highest id is dialled by the others and dials no one,
    // so once they forget it only its probe can reach them. (Were it the leader, the other two elect another.)
    const gone = all.reduce((x, y) => (x.id > y.id ? x : y));
    await cluster.kill(gone.m, 'SIGTERM');
    const live = cluster.members.filter((m) => m !== gone.m).map((m) => `127.0.0.1:${m.clientPort}`).join(',');
    const r = await until('the removal, once the other two have a leader', async () => {
      const x = spawnSync(process.execPath, [MAIN, 'member', 'remove', gone.id.toString(16), '--endpoints', live, '--command-timeout', '10000'], { encoding: 'utf8' });
      return x.status === 0 ? x : undefined;
    });
    assert.match(r.stdout, /removed from cluster/);
    // Past the time the others keep a removed member's connection (3 s), so its hello meets a member that no longer knows it.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    cluster.launch(gone.m);
    assert.equal(await exited(gone.m, 40_000), 0);
    assert.match(gone.m.output, /refused its connection: the cluster removed this member while it was away/);
  });
});

describe('membership at runtime (multipaxos)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(1, 'multipaxos');
  });
  after(async () => {
    await cluster.stop();
  });

  test('changes are refused with FAILED_PRECONDITION naming the reason; member list works', async () => {
    const c = new EtcdClient({ endpoints: cluster.endpoints, commandTimeoutMs: 5000 });
    try {
      await assert.rejects(c.call('Cluster', 'MemberPromote', { ID: '12345' }), (err: { code?: number; message: string }) => err.code === 9 && /need --protocol raft/.test(err.message));
    } finally {
      c.close();
    }
    const run = (args: string[]): { out: string; err: string; code: number | null } => {
      const r = spawnSync(process.execPath, [MAIN, ...args, '--endpoints', cluster.endpoints.join(',')], { encoding: 'utf8' });
      return { out: r.stdout, err: r.stderr, code: r.status };
    };
    const add = run(['member', 'add', 'x', '--peer-urls', 'http://127.0.0.1:9']);
    assert.equal(add.code, 1);
    assert.match(add.err, /membership changes at runtime need --protocol raft/);
    assert.match(run(['member', 'list']).out, /, started, m1, http:\/\/127\.0\.0\.1:\d+/);
  });
});
