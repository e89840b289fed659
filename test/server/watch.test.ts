// etcd Watch on a real three-member cluster of `synod node` processes: etcdctl,
// the npm etcd3 client across a kill -9 of the leader, replay from an old
// revision, and a watch from a compacted revision.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { TestCluster, type TestMember } from './harness.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Seen { type: string; key: string; value: string; rev: number; prev: string | null }

function watchAll(client: Etcd3, prefix: string, startRevision?: number): { seen: Seen[]; ready: Promise<{ cancel(): Promise<void> }>; errors: Error[] } {
  const seen: Seen[] = [];
  const errors: Error[] = [];
  let b = client.watch().prefix(prefix).withPreviousKV();
  if (startRevision !== undefined) b = b.startRevision(String(startRevision));
  const ready = b.create().then((w) => {
    const note = (type: string) => (kv: { key: Buffer; value: Buffer; mod_revision: string }, prev?: { value: Buffer }): void => {
      seen.push({ type, key: kv.key.toString(), value: kv.value.toString(), rev: Number(kv.mod_revision), prev: prev ? prev.value.toString() : null });
    };
    w.on('put', note('put'));
    w.on('delete', note('delete'));
    w.on('error', (e: Error) => errors.push(e));
    return w;
  });
  return { seen, ready, errors };
}

for (const protocol of ['raft', 'multipaxos']) describe(`Watch on a three-member ${protocol} cluster`, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, protocol);
  });
  after(async () => {
    await cluster.stop();
  });

  test('etcdctl watch --prefix --prev-kv sees puts and deletes in order', { skip: etcdctl ? false : 'etcdctl is not installed' }, async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.members.find((m) => m !== leader) as TestMember;
    const proc = spawn('etcdctl', ['--endpoints', `127.0.0.1:${follower.clientPort}`, 'watch', 'ctlw/', '--prefix', '--prev-kv'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await sleep(700);
      const client = new Etcd3({ hosts: `http://127.0.0.1:${leader.clientPort}` });
      try {
        await client.put('ctlw/a').value('1');
        await client.put('ctlw/a').value('2');
        await client.put('other').value('x');
        await client.delete().key('ctlw/a');
      } finally {
        client.close();
      }
      await until('etcdctl output', () => out.split('\n').filter(Boolean).length >= 10);
      // etcdctl prints: EVENT, [prev key, prev value,] key, value.
      assert.equal(out, 'PUT\nctlw/a\n1\nPUT\nctlw/a\n1\nctlw/a\n2\nDELETE\nctlw/a\n2\nctlw/a\n\n');
    } finally {
      proc.kill();
    }
  });

  test('etcd3 client: every change in order across a kill -9 of the leader', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.members.find((m) => m !== leader) as TestMember;
    const watcherClient = new Etcd3({ hosts: `http://127.0.0.1:${follower.clientPort}` });
    const writerHosts = cluster.members.filter((m) => m !== follower).map((m) => `http://127.0.0.1:${m.clientPort}`);
    const writer = new Etcd3({ hosts: [...writerHosts, `http://127.0.0.1:${follower.clientPort}`] });
    const acked = new Map<number, string>();
    try {
      const w = watchAll(watcherClient, 'ld/');
      const watcher = await w.ready;
      let stop = false;
      let i = 0;
      const writing = (async () => {
        while (!stop) {
          const v = String(i++);
          try {
            const r = await writer.put(`ld/k${i % 5}`).value(v).exec();
            acked.set(Number(r.header.revision), v);
          } catch {
            await sleep(50); // leader gone or changing: the write may or may not have happened
          }
        }
      })();
      await until('some writes', () => acked.size >= 20);
      await cluster.kill(leader);
      await until('writes under a new leader', () => acked.size >= 60, 30_000);
      stop = true;
      await writing;
      const last = Math.max(...acked.keys());
      await until('the watcher to see the last write', () => w.seen.some((s) => s.rev >= last), 15_000);
      await watcher.cancel();
      assert.deepEqual(w.errors, []);
      const revs = w.seen.map((s) => s.rev);
      for (let k = 1; k < revs.length; k++) assert.ok((revs[k] as number) > (revs[k - 1] as number), `revisions out of order or repeated: ${revs.join(',')}`);
      for (const [rev, value] of acked) {
        const s = w.seen.find((x) => x.rev === rev);
        assert.ok(s !== undefined, `acknowledged write at revision ${rev} not seen`);
        assert.equal(s.value, value);
      }
      // What the watcher saw is exactly the history the store holds.
      const got = await watcherClient.getAll().prefix('ld/').strings();
      const latest = new Map<string, string>();
      for (const s of w.seen) latest.set(s.key, s.value);
      assert.deepEqual(Object.fromEntries(latest), got);
    } finally {
      watcherClient.close();
      writer.close();
      const gone = cluster.members.find((m) => m.proc === null);
      if (gone !== undefined) {
        cluster.launch(gone);
        await cluster.waitForLeader();
      }
    }
  });

  test('a watch from an old revision replays history; one from a compacted revision gets compact_revision', async () => {
    // At the leader: it has applied the compaction when it answers it (a follower may apply it a little later).
    const leader = await cluster.waitForLeader();
    const client = new Etcd3({ hosts: `http://127.0.0.1:${leader.clientPort}` });
    try {
      const first = await client.put('old/a').value('1').exec();
      await client.put('old/b').value('2');
      await client.put('old/a').value('3');
      const del = await client.delete().key('old/b').exec();
      const start = Number(first.header.revision);
      const w = watchAll(client, 'old/', start);
      const watcher = await w.ready;
      await until('the replay', () => w.seen.length >= 4);
      assert.deepEqual(w.seen.map((s) => [s.type, s.key, s.value, s.prev]),
        [['put', 'old/a', '1', null], ['put', 'old/b', '2', null], ['put', 'old/a', '3', '1'], ['delete', 'old/b', '', '2']]);
      assert.equal(w.seen[3]?.rev, Number(del.header.revision));
      await client.put('old/c').value('4');
      await until('a live event after the replay', () => w.seen.length >= 5);
      assert.equal(w.seen[4]?.key, 'old/c');
      await watcher.cancel();

      await client.put('old/d').value('5');
      await client.kv.compact({ revision: String(Number(del.header.revision) + 1) });
      const c = watchAll(client, 'old/', start);
      const compacted = await c.ready.then(() => until('the cancel', () => c.errors.length > 0)).then(() => c.errors[0] as Error, (e: Error) => e);
      assert.match(String(compacted), /compact|cancel/i);
      assert.deepEqual(c.seen, []);
    } finally {
      client.close();
    }
  });
});
