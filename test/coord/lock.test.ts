// The lock (src/coord/lock.ts) against a real synod cluster and against etcd:
// mutual exclusion and increasing tokens under contention, FIFO hand-over,
// timeouts and aborts that leave the line, fencing of a released or lost
// holder, and the same keys as `etcdctl lock`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { EtcdClient, prefixRange } from '../../src/server/client.js';
import { Lock, Session, AcquireAbortedError, LockLostError, LockReleasedError, CoordError, type HeldLock } from '../../src/coord/index.js';
import { BACKENDS, sleep, startProxy, until, type Backend } from './backends.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

async function keysUnder(client: EtcdClient, prefix: string): Promise<string[]> {
  const r = await client.call('KV', 'Range', { ...rangeOf(prefix), keys_only: true });
  return (r.kvs as { key: Buffer }[]).map((kv) => kv.key.toString());
}
const rangeOf = (prefix: string): { key: Buffer; range_end: Buffer } => {
  const r = prefixRange(Buffer.from(prefix));
  return { key: r.key, range_end: r.end };
};

for (const b of BACKENDS) describe(`lock on ${b.name}`, { skip: b.skip }, () => {
  let backend: Backend;
  let client: EtcdClient;
  before(async () => {
    backend = await b.start();
    client = new EtcdClient({ endpoints: backend.endpoints });
  });
  after(async () => {
    client.close();
    await backend.stop();
  });

  test('6 contenders x 4 rounds: one holder at a time, tokens strictly increasing, every guarded write accepted', async () => {
    const lock = new Lock(client, 'lt/contention', { ttlSeconds: 5 });
    let inside = 0;
    const tokens: number[] = [];
    const contender = async (id: number): Promise<void> => {
      for (let round = 0; round < 4; round++) {
        await lock.do(async (held) => {
          assert.equal(inside, 0, `contender ${id} entered while another holds`);
          inside++;
          tokens.push(held.token);
          const w = await held.guardedPut('lt/contention-resource', `${id}:${held.token}`);
          assert.ok(w.ok, 'holder write refused');
          await sleep(5);
          inside--;
        });
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, i) => contender(i)));
    assert.equal(tokens.length, 24);
    for (let i = 1; i < tokens.length; i++) assert.ok((tokens[i] as number) > (tokens[i - 1] as number), `tokens not increasing: ${tokens.join(',')}`);
    assert.deepEqual(await keysUnder(client, 'lt/contention/'), [], 'every key removed on release');
  });

  test('waiters are served in the order they queued', async () => {
    const lock = new Lock(client, 'lt/fifo', { ttlSeconds: 5 });
    const first = await lock.acquire();
    const order: string[] = [];
    const waiting: Promise<HeldLock>[] = [];
    for (const name of ['b', 'c', 'd']) {
      const queued = (await keysUnder(client, 'lt/fifo/')).length;
      waiting.push(lock.acquire().then((h) => (order.push(name), h)));
      await until(`${name} queued`, async () => (await keysUnder(client, 'lt/fifo/')).length === queued + 1);
    }
    await first.release();
    for (const w of waiting) await (await w).release();
    assert.deepEqual(order, ['b', 'c', 'd']);
  });

  test('a timeout or an abort rejects with AcquireAbortedError and leaves the line', async () => {
    const lock = new Lock(client, 'lt/timeout', { ttlSeconds: 5 });
    const held = await lock.acquire();
    await assert.rejects(lock.acquire({ timeoutMs: 300 }), AcquireAbortedError);
    const ac = new AbortController();
    const aborted = lock.acquire({ signal: ac.signal });
    await until('the waiter queued', async () => (await keysUnder(client, 'lt/timeout/')).length === 2);
    ac.abort();
    await assert.rejects(aborted, AcquireAbortedError);
    assert.deepEqual(await keysUnder(client, 'lt/timeout/'), [held.key.toString()], 'only the holder remains');
    assert.equal((await lock.holder())?.token, held.token);
    await held.release();
    assert.equal(await lock.holder(), undefined);
  });

  test('a released holder is fenced: its signal aborts and its guarded writes are refused', async () => {
    const lock = new Lock(client, 'lt/fence', { ttlSeconds: 5 });
    const a = await lock.acquire();
    assert.ok((await a.guardedPut('lt/fence-resource', 'a')).ok);
    assert.equal(await a.release(), true);
    assert.ok(a.signal.aborted && a.signal.reason instanceof LockReleasedError);
    const b = await lock.acquire();
    assert.ok(b.token > a.token);
    assert.equal((await a.guardedPut('lt/fence-resource', 'stale')).ok, false, 'stale token accepted');
    assert.ok((await b.guardedPut('lt/fence-resource', 'b')).ok);
    await b.release();
  });

  test('a lease revoked under a holder: lost is reported, the next waiter acquires, the old token is refused', async () => {
    const lock = new Lock(client, 'lt/lost', { ttlSeconds: 5 });
    const a = await lock.acquire();
    const lost = new Promise<LockLostError>((resolve) => a.once('lost', resolve));
    const next = lock.acquire();
    await client.call('Lease', 'LeaseRevoke', { ID: a.session.leaseId });
    assert.ok((await lost) instanceof LockLostError);
    assert.ok(a.signal.aborted && a.signal.reason instanceof LockLostError);
    const b = await next;
    assert.ok(b.token > a.token);
    assert.equal((await a.guardedPut('lt/lost-resource', 'stale')).ok, false);
    await b.release();
  });

  test('a session whose renewals stop (network cut) is lost within its TTL, and so is the lock under it', async () => {
    const proxy = await startProxy(backend.endpoints[0] as string);
    const cutOff = new EtcdClient({ endpoints: [proxy.endpoint] });
    try {
      const session = await Session.create(cutOff, { ttlSeconds: 2 });
      const held = await new Lock(cutOff, 'lt/expire', { session }).acquire();
      const lost = new Promise<LockLostError>((resolve) => held.once('lost', resolve));
      await proxy.cut();
      assert.match((await lost).message, /session ended: lease [0-9a-f]+: no renewal confirmed within its TTL/);
      assert.ok(session.lost);
      // The server expires the lease (the session's revoke cannot get through): the key goes.
      await until('the key to go', async () => (await keysUnder(client, 'lt/expire/')).length === 0, 20_000);
    } finally {
      cutOff.close();
    }
  });

  test('one session holds a lock once: a second acquire on the same session is refused; two locks share it', async () => {
    const session = await Session.create(client, { ttlSeconds: 5 });
    try {
      const l1 = new Lock(client, 'lt/shared-1', { session });
      const l2 = new Lock(client, 'lt/shared-2', { session });
      const h1 = await l1.acquire();
      await assert.rejects(l1.acquire({ timeoutMs: 1000 }), CoordError);
      const h2 = await l2.acquire();
      assert.equal(h1.session, h2.session);
      assert.ok(await h1.release());
      assert.ok(h2.held, 'releasing one lock keeps the session and the other lock');
      assert.ok(await h2.release());
      assert.equal(session.signal.aborted, false, 'a given session is not closed by release');
    } finally {
      await session.close();
    }
  });

  test('same keys as etcdctl lock: etcdctl waits for our holder, and we wait for it', { skip: etcdctl ? false : 'etcdctl is not installed' }, async () => {
    const lock = new Lock(client, 'lt/etcdctl', { ttlSeconds: 5 });
    const held = await lock.acquire();
    const proc = spawn('etcdctl', ['--endpoints', backend.endpoints.join(','), 'lock', 'lt/etcdctl', '--', 'sh', '-c', 'echo got; sleep 1'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', r));
    try {
      await until('etcdctl to queue', async () => (await keysUnder(client, 'lt/etcdctl/')).length === 2);
      assert.equal(out, '', 'etcdctl got the lock while we held it');
      await held.release();
      await until('etcdctl to get the lock', () => out.includes('got'));
      // While etcdctl holds (its command sleeps 1 s), our acquire waits, then gets it.
      const ours = await lock.acquire({ timeoutMs: 10_000 });
      assert.ok(ours.token > held.token);
      assert.equal(await exited, 0, out);
      await ours.release();
    } finally {
      proc.kill();
    }
  });
});
