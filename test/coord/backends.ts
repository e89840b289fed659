// The servers the coordination tests run against: a real three-member synod
// cluster (test/server/harness.ts) and, when installed, a single etcd member.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient } from '../../src/server/client.js';
import { TestCluster, freePort } from '../server/harness.js';

export const ETCD = '/usr/bin/etcd';
export const haveEtcd = existsSync(ETCD);

export interface Backend {
  readonly name: string;
  readonly endpoints: string[];
  stop(): Promise<void>;
}

export async function startSynod(): Promise<Backend & { cluster: TestCluster }> {
  const cluster = await TestCluster.start(3, 'raft');
  return { name: 'synod', endpoints: cluster.endpoints, cluster, stop: () => cluster.stop() };
}

async function waitReady(endpoint: string, proc: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`etcd exited (${proc.exitCode}):\n${output()}`);
    const c = new EtcdClient({ endpoints: [endpoint], commandTimeoutMs: 500 });
    try {
      const s = await c.call('Maintenance', 'Status', {});
      if (s.leader !== '0') return;
    } catch {
      // not up yet
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd not ready within ${timeoutMs} ms:\n${output()}`);
}

/** One etcd member on loopback, with synod's test timings (50 ms heartbeat, 500 ms election: minimum lease TTL 1 s). */
export async function startEtcd(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const proc = spawn(ETCD, [
    '--name', 'e1', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `e1=http://127.0.0.1:${peer}`, '--heartbeat-interval', '50', '--election-timeout', '500',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-10_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const endpoint = `127.0.0.1:${client}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) await new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(endpoint, proc, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'etcd', endpoints: [endpoint], stop };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Each backend the suite should run on: synod always, etcd when installed. */
export const BACKENDS: readonly { readonly name: string; readonly start: () => Promise<Backend>; readonly skip: string | false }[] = [
  { name: 'synod (3 members, Raft)', start: startSynod, skip: false },
  { name: 'etcd', start: startEtcd, skip: haveEtcd ? false : `${ETCD} is not installed` },
];

/** A TCP proxy to `target` (host:port) that can be cut: every connection dropped, new ones refused. */
export async function startProxy(target: string): Promise<{ endpoint: string; cut(): Promise<void> }> {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(port), host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cut = async (): Promise<void> => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return { endpoint, cut };
}
