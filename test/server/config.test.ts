import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseInitialCluster, parseUrls, resolveConfig } from '../../src/server/config.js';

const cluster = 'infra1=http://127.0.0.1:12380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380';

describe('member configuration (etcd flags)', () => {
  test('a member of a three-member cluster', () => {
    const c = resolveConfig({
      name: 'infra2',
      initialCluster: cluster,
      listenPeerUrls: 'http://127.0.0.1:22380',
      listenClientUrls: 'http://127.0.0.1:22379',
    });
    assert.equal(c.members.size, 3);
    assert.equal(c.members.get(c.memberId)?.name, 'infra2');
    assert.equal(c.dataDir, 'infra2.synod');
    assert.equal(c.protocol, 'raft');
    assert.equal(c.advertiseClientUrls[0]?.port, '22379');
    assert.equal(c.tickMs, 100);
    assert.equal(c.electionTicks, 10);
    assert.equal(c.maxLearners, 1);
    assert.equal(resolveConfig({ maxLearners: '3' }).maxLearners, 3);
  });
  test('every member derives the same ids', () => {
    const ids = ['infra1', 'infra2', 'infra3'].map((name, i) =>
      resolveConfig({ name, initialCluster: cluster, listenPeerUrls: `http://127.0.0.1:${(i + 1) * 10000 + 2380}` }));
    assert.equal(new Set(ids.map((c) => c.clusterId)).size, 1);
    assert.equal(new Set(ids.map((c) => c.memberId)).size, 3);
    assert.deepEqual([...ids[0]!.members.keys()].sort(), ids.map((c) => c.memberId).sort());
  });
  test('mistakes are named', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ name: 'x', initialCluster: cluster }, /no member named 'x'/],
      [{ name: 'infra1', initialCluster: cluster, listenPeerUrls: 'http://127.0.0.1:1' }, /initial-advertise-peer-urls/],
      [{ listenClientUrls: 'localhost:2379' }, /listen-client-urls/],
      [{ listenClientUrls: 'https://127.0.0.1:2379' }, /need --cert-file and --key-file/],
      [{ listenPeerUrls: 'https://127.0.0.1:2380' }, /need --peer-cert-file and --peer-key-file/],
      [{ listenMetricsUrls: 'https://127.0.0.1:2381' }, /metrics URLs are http:\/\//],
      [{ listenClientUrls: 'ftp://127.0.0.1:2379' }, /expected http:\/\//],
      [{ listenClientUrls: 'http://127.0.0.1' }, /no port/],
      [{ initialClusterState: 'old' }, /'new' or 'existing'/],
      [{ protocol: 'zab' }, /--protocol/],
      [{ strictReconfigCheck: 'maybe' }, /--strict-reconfig-check must be 'true' or 'false', got 'maybe'/],
      [{ heartbeatInterval: '100', electionTimeout: '200' }, /at least 5 times/],
      [{ maxLearners: '0' }, /--max-learners must be a positive whole number, got '0'/],
      [{ name: 'a b' }, /--name/],
    ];
    for (const [flags, re] of bad) assert.throws(() => resolveConfig(flags), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(flags));
  });
  test('URL lists and the initial cluster parse', () => {
    assert.equal(parseUrls('x', 'http://a:1, http://b:2').length, 2);
    assert.throws(() => parseInitialCluster('infra1'), /NAME=URL/);
    assert.equal(parseInitialCluster('a=http://h:1,a=http://h:2').get('a')?.length, 2);
  });
});
