// The npm `etcd3` client, unchanged, against the wire layer with the fake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { FakeKv } from './fake-kv.js';
import { startServer, type Running } from './helpers.js';

describe('npm etcd3 client', () => {
  let run: Running;
  let etcd: Etcd3;
  before(async () => {
    run = await startServer(new FakeKv());
    etcd = new Etcd3({ hosts: `http://${run.address}` });
  });
  after(async () => {
    etcd.close();
    await run.server.close();
  });

  test('put and get', async () => {
    await etcd.put('greeting').value('hello');
    assert.equal(await etcd.get('greeting').string(), 'hello');
    assert.equal(await etcd.get('missing').string(), null);
  });

  test('getAll with a prefix', async () => {
    await etcd.put('dir/a').value('1');
    await etcd.put('dir/b').value('2');
    await etcd.put('dirx').value('3');
    assert.deepEqual(await etcd.getAll().prefix('dir/').strings(), { 'dir/a': '1', 'dir/b': '2' });
    assert.equal(await etcd.getAll().prefix('dir/').count(), 2);
  });

  test('delete a key and a prefix', async () => {
    await etcd.delete().key('greeting');
    assert.equal(await etcd.get('greeting').string(), null);
    await etcd.delete().prefix('dir/');
    assert.deepEqual(await etcd.getAll().prefix('dir/').keys(), []);
  });

  test('txn: if value == x then put else put', async () => {
    await etcd.put('lock').value('free');
    const taken = await etcd.if('lock', 'Value', '==', 'free').then(etcd.put('lock').value('mine')).else(etcd.put('other').value('no')).commit();
    assert.equal(taken.succeeded, true);
    assert.equal(await etcd.get('lock').string(), 'mine');
    const again = await etcd.if('lock', 'Value', '==', 'free').then(etcd.put('lock').value('theirs')).commit();
    assert.equal(again.succeeded, false);
    assert.equal(await etcd.get('lock').string(), 'mine');
  });
});
