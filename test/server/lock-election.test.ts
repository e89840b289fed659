// etcd's lock and election services (src/server/lock-election.ts) on a real
// three-member cluster, through @grpc/grpc-js clients built from synod's own
// v3lock.proto and v3election.proto: a second locker waits for the first to
// unlock, a lost lease hands the lock on, and an election's leader, its
// proclaimed values, its resignation and Observe's stream behave as etcd's.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../src/server/grpc/index.js';
import { TestCluster } from './harness.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(file: string): Any {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, { includeDirs: [protoDir()], keepCase: true, longs: String, defaults: true }));
}

const call = (client: Any, method: string, req: object): Promise<Any> =>
  new Promise((resolve, reject) => client[method](req, (err: Error | null, res: Any) => (err ? reject(err) : resolve(res))));

/** Resolves with `p`'s value, or 'pending' if it has not settled after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

for (const protocol of ['raft', 'multipaxos']) describe(`lock and election services on ${protocol}`, () => {
  let cluster: TestCluster;
  let lock: Any;
  let election: Any;
  let lease: Any;
  let kv: Any;
  before(async () => {
    cluster = await TestCluster.start(3, protocol);
    const ep = cluster.endpoints[0] as string;
    const creds = grpc.credentials.createInsecure();
    lock = new (load('v3lockpb/v3lock.proto').v3lockpb.Lock)(ep, creds);
    election = new (load('v3electionpb/v3election.proto').v3electionpb.Election)(ep, creds);
    const etcd = load('etcdserverpb/rpc.proto').etcdserverpb;
    lease = new etcd.Lease(ep, creds);
    kv = new etcd.KV(ep, creds);
  });
  after(async () => {
    for (const c of [lock, election, lease, kv]) c?.close();
    await cluster.stop();
  });
  const grant = async (): Promise<string> => (await call(lease, 'LeaseGrant', { TTL: 30 })).ID as string;

  test('Lock: a second locker waits until the first unlocks; a revoked lease hands the lock on', async () => {
    const [a, b, c] = [await grant(), await grant(), await grant()];
    const first = await call(lock, 'Lock', { name: Buffer.from('l1'), lease: a });
    assert.equal(first.key.toString(), `l1/${BigInt(a).toString(16)}`);
    const second = call(lock, 'Lock', { name: Buffer.from('l1'), lease: b });
    assert.equal(await within(second, 700), 'pending', 'the second locker waits');
    await call(lock, 'Unlock', { key: first.key });
    const got = await within(second, 5000);
    assert.notEqual(got, 'pending');
    assert.equal((got as Any).key.toString(), `l1/${BigInt(b).toString(16)}`);
    const third = call(lock, 'Lock', { name: Buffer.from('l1'), lease: c });
    assert.equal(await within(third, 500), 'pending');
    // The holder's lease ends: its key goes with it, and the next locker holds.
    await call(lease, 'LeaseRevoke', { ID: b });
    assert.notEqual(await within(third, 5000), 'pending');
    const keys = await call(kv, 'Range', { key: Buffer.from('l1/'), range_end: Buffer.from('l10'), keys_only: true });
    assert.deepEqual(keys.kvs.map((k: Any) => k.key.toString()), [`l1/${BigInt(c).toString(16)}`]);
  });

  test('Election: campaign, leader, proclaim, observe, resign; a stale leader key cannot proclaim', async () => {
    await assert.rejects(call(election, 'Leader', { name: Buffer.from('e1') }), /election: no leader/);
    const [a, b] = [await grant(), await grant()];
    const la = (await call(election, 'Campaign', { name: Buffer.from('e1'), lease: a, value: Buffer.from('alpha') })).leader;
    assert.equal(la.key.toString(), `e1/${BigInt(a).toString(16)}`);
    const seen: string[] = [];
    const stream = election.Observe({ name: Buffer.from('e1') });
    stream.on('data', (r: Any) => seen.push(r.kv.value.toString()));
    stream.on('error', () => {});
    const waitSeen = async (n: number): Promise<void> => {
      for (const until = Date.now() + 5000; seen.length < n && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
    };
    await waitSeen(1);
    const lb = call(election, 'Campaign', { name: Buffer.from('e1'), lease: b, value: Buffer.from('beta') });
    assert.equal(await within(lb, 500), 'pending', 'the second candidate waits');
    assert.equal((await call(election, 'Leader', { name: Buffer.from('e1') })).kv.value.toString(), 'alpha');
    await call(election, 'Proclaim', { leader: la, value: Buffer.from('alpha2') });
    await waitSeen(2);
    await call(election, 'Resign', { leader: la });
    const won = await within(lb, 5000);
    assert.notEqual(won, 'pending');
    await waitSeen(3);
    stream.cancel();
    assert.deepEqual(seen, ['alpha', 'alpha2', 'beta']);
    await assert.rejects(call(election, 'Proclaim', { leader: la, value: Buffer.from('stale') }), /election: not leader/);
    assert.equal((await call(election, 'Leader', { name: Buffer.from('e1') })).kv.value.toString(), 'beta');
  });
});
