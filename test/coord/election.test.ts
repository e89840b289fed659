// Leader election (src/coord/election.ts) against a real synod cluster and
// against etcd: campaign, proclaim, resign, leader(), observe(), fencing of a
// leader that lost its lease, and the same keys as `etcdctl elect`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EtcdClient, EtcdClientError } from '../../src/server/client.js';
import { Election, AcquireAbortedError, LockLostError, NotLeaderError, type Leader } from '../../src/coord/index.js';
import { BACKENDS, until, type Backend } from './backends.js';

const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

/** Collects what observe() yields until stopped. */
function observeInto(election: Election): { seen: Leader[]; stop(): void; done: Promise<void> } {
  const ac = new AbortController();
  const seen: Leader[] = [];
  const done = (async () => {
    for await (const l of election.observe({ signal: ac.signal })) seen.push(l);
  })();
  return { seen, stop: () => ac.abort(), done };
}

/** A client whose next `failures` Range calls fail with `code`, as when no member answers. */
class FlakyReads extends EtcdClient {
  failures = 0;
  code = 14; // UNAVAILABLE
  ranges = 0;
  override async call(service: string, method: string, request: unknown): Promise<never> {
    if (method === 'Range') {
      this.ranges++;
      if (this.failures > 0) {
        this.failures--;
        throw new EtcdClientError('127.0.0.1:1: no connection established', this.code);
      }
    }
    return super.call(service, method, request) as Promise<never>;
  }
}

/** Interrupts an etcdctl (it resigns on SIGINT), then kills it if it has not exited within 3 s. */
async function interrupt(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGINT');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

for (const b of BACKENDS) describe(`election on ${b.name}`, { skip: b.skip }, () => {
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

  test('campaign, proclaim, resign: leader() and observe() follow, tokens increase, a resigned leader cannot proclaim', async () => {
    const election = new Election(client, 'et/basic', { ttlSeconds: 5 });
    assert.equal(await election.leader(), undefined);
    const a = await election.campaign('a');
    // observe() reports from its first read on: start it, and wait for that read.
    const watch = observeInto(election);
    await until('observe to see a', () => watch.seen.length === 1);
    assert.deepEqual(await election.leader().then((l) => [l?.value.toString(), l?.token]), ['a', a.token]);
    const bElected = election.campaign('b');
    await a.proclaim('a2');
    assert.equal(a.value.toString(), 'a2');
    assert.equal((await election.leader())?.value.toString(), 'a2');
    assert.equal(await a.resign(), true);
    const bl = await bElected;
    assert.ok(bl.token > a.token, 'the next leader has a higher token');
    assert.equal((await election.leader())?.value.toString(), 'b');
    await assert.rejects(a.proclaim('late'), NotLeaderError);
    await until('observe to see b', () => watch.seen.some((l) => l.value.toString() === 'b'));
    watch.stop();
    await watch.done;
    assert.deepEqual(watch.seen.map((l) => [l.value.toString(), l.token]), [['a', a.token], ['a2', a.token], ['b', bl.token]]);
    await bl.resign();
  });

  test('a leader whose lease is revoked is told it lost, cannot proclaim, and the next candidate leads', async () => {
    const election = new Election(client, 'et/lost', { ttlSeconds: 5 });
    const a = await election.campaign('a');
    const lost = new Promise<LockLostError>((resolve) => a.once('lost', resolve));
    const next = election.campaign('b');
    await client.call('Lease', 'LeaseRevoke', { ID: a.session.leaseId });
    assert.ok((await lost) instanceof LockLostError);
    await assert.rejects(a.proclaim('stale'), NotLeaderError);
    const bl = await next;
    assert.equal((await election.leader())?.token, bl.token);
    assert.equal((await a.guardedPut('et/lost-resource', 'stale')).ok, false);
    await bl.resign();
  });

  test('observe() waits out reads that fail for want of a member, and ends on any other failure', async () => {
    const flaky = new FlakyReads({ endpoints: backend.endpoints });
    try {
      const election = new Election(client, 'et/flaky', { ttlSeconds: 5 });
      const a = await election.campaign('a');
      flaky.failures = 3; // the first read fails three times (backing off 100, 200, 400 ms), then succeeds
      const watch = observeInto(new Election(flaky, 'et/flaky', { ttlSeconds: 5 }));
      await until('observe to see a after the failed reads', () => watch.seen.length === 1);
      assert.equal(flaky.ranges, 4);
      await a.proclaim('a2');
      await until('observe to see a2', () => watch.seen.some((l) => l.value.toString() === 'a2'));
      watch.stop();
      await watch.done;
      // A refused read is not waited out: the iteration ends with its error.
      flaky.failures = 1;
      flaky.code = 3; // INVALID_ARGUMENT
      const refused = observeInto(new Election(flaky, 'et/flaky', { ttlSeconds: 5 }));
      await assert.rejects(refused.done, /no connection established/);
      await a.resign();
    } finally {
      flaky.close();
    }
  });

  test('a campaign that times out leaves the line', async () => {
    const election = new Election(client, 'et/timeout', { ttlSeconds: 5 });
    const a = await election.campaign('a');
    await assert.rejects(election.campaign('b', { timeoutMs: 300 }), AcquireAbortedError);
    await a.resign();
    assert.equal(await election.leader(), undefined, 'nobody left in the line');
  });

  test('same keys as etcdctl elect: etcdctl -l observes our leader; an etcdctl candidate leads after we resign', { skip: etcdctl ? false : 'etcdctl is not installed' }, async () => {
    const election = new Election(client, 'et/ctl', { ttlSeconds: 5 });
    const ours = await election.campaign('ours');
    const env = { ...process.env, ETCDCTL_API: '3' };
    const listener = spawn('etcdctl', ['--endpoints', backend.endpoints.join(','), 'elect', '-l', 'et/ctl'], { env });
    const candidate = spawn('etcdctl', ['--endpoints', backend.endpoints.join(','), 'elect', 'et/ctl', 'theirs'], { env });
    let heard = '';
    let elected = '';
    listener.stdout.on('data', (d: Buffer) => { heard += d.toString(); });
    candidate.stdout.on('data', (d: Buffer) => { elected += d.toString(); });
    const watch = observeInto(election);
    try {
      await until('etcdctl elect -l to print our leader', () => heard.includes(`${ours.key.toString()}\nours\n`));
      await until('the etcdctl candidate to queue', async () => (await client.call('KV', 'Range', { key: Buffer.from('et/ctl/'), range_end: Buffer.from('et/ctl0'), count_only: true })).count === '2');
      assert.equal(elected, '', 'etcdctl elected while we lead');
      await ours.resign();
      await until('the etcdctl candidate to be elected', () => elected.includes('theirs'));
      await until('observe() to see it', () => watch.seen.some((l) => l.value.toString() === 'theirs'));
      const theirs = await election.leader();
      assert.ok(theirs !== undefined && theirs.token > ours.token);
    } finally {
      watch.stop();
      await watch.done;
      await Promise.all([interrupt(listener), interrupt(candidate)]);
    }
  });
});
