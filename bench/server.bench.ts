// The server under etcd's published load shape: puts of 8-byte keys and
// 256-byte values against a local three-member cluster, at 1 and at 256
// clients, measured with etcdbench (etcd's own Go client; build it with
// ../shared/tools/etcdbench/build.sh) — synod on Raft, synod on Multi-Paxos,
// and etcd itself when the `etcd` binary is installed (Debian etcd-server),
// all in one run on the same machine.
//
//   npm run bench -- server            (ETCDBENCH=/path/to/etcdbench to choose the binary)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, freePort } from '../test/server/harness.js';

interface Figures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  /** CPU time (user + system, from /proc) the three members spent per put, summed. */
  cpu_us_per_put?: number;
}

interface Target {
  readonly endpoints: string[];
  /** The members' process ids, for their CPU time. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** User + system CPU of a process in ms (Linux /proc, in USER_HZ = 100 ticks); null where /proc is not there. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
  } catch {
    return null;
  }
}

function totalCpuMs(pids: readonly number[]): number | null {
  let sum = 0;
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms === null) return null;
    sum += ms;
  }
  return sum;
}

const ETCDBENCH = process.env['ETCDBENCH'] ?? '/tmp/etcdbench';
const SHAPES = [
  { clients: 1, conns: 1, total: 3000 },
  { clients: 256, conns: 8, total: 60000 },
];

function runEtcdbench(endpoints: string[], clients: number, conns: number, total: number): Figures {
  const r = spawnSync(ETCDBENCH, ['-endpoints', endpoints.join(','), '-clients', String(clients), '-conns', String(conns), '-total', String(total), '-op', 'put', '-key-size', '8', '-val-size', '256'], { encoding: 'utf8', timeout: 180_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const num = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  if (!/rps=/.test(line)) throw new Error(`etcdbench printed no figures: ${r.stdout}${r.stderr}`);
  return { rps: num('rps'), p50_ms: num('p50_ms'), p99_ms: num('p99_ms'), errors: num('errors') };
}

async function startEtcd(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
  const members = [];
  for (let i = 1; i <= 3; i++) members.push({ name: `e${i}`, client: await freePort(), peer: await freePort() });
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const procs: ChildProcess[] = members.map((m) => spawn('etcd', [
    '--name', m.name, '--data-dir', join(dir, m.name),
    '--listen-client-urls', `http://127.0.0.1:${m.client}`, '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'bench',
    '--log-level', 'error',
  ], { stdio: 'ignore', env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } }));
  const endpoints = members.map((m) => `127.0.0.1:${m.client}`);
  // Wait until a put goes through.
  for (let i = 0; i < 100; i++) {
    try {
      const f = runEtcdbench(endpoints, 1, 1, 1);
      if (f.errors === 0) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoints,
    pids: procs.map((p) => p.pid ?? 0),
    stop: async () => {
      await Promise.all(procs.map((p) => new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(name: string, start: () => Promise<Target>): Promise<Record<string, Figures>> {
  const out: Record<string, Figures> = {};
  const target = await start();
  try {
    runEtcdbench(target.endpoints, 16, 4, 2000); // warm-up
    for (const s of SHAPES) {
      const before = totalCpuMs(target.pids);
      const f = runEtcdbench(target.endpoints, s.clients, s.conns, s.total);
      const after = totalCpuMs(target.pids);
      if (before !== null && after !== null) f.cpu_us_per_put = Math.round(((after - before) * 1000) / s.total);
      out[`c${s.clients}`] = f;
      const cpu = f.cpu_us_per_put === undefined ? '' : `  members' CPU ${f.cpu_us_per_put} us/put`;
      console.log(`${name.padEnd(18)} clients=${String(s.clients).padStart(3)}  ${f.rps.toFixed(0).padStart(6)} puts/s  p50 ${f.p50_ms.toFixed(2)} ms  p99 ${f.p99_ms.toFixed(2)} ms  errors ${f.errors}${cpu}`);
    }
  } finally {
    await target.stop();
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(ETCDBENCH)) {
    console.log(`server: skipped — no etcdbench at ${ETCDBENCH}. Build it with ../shared/tools/etcdbench/build.sh (or set ETCDBENCH).`);
    return;
  }
  const synod = (protocol: string) => async () => {
    const c = await TestCluster.start(3, protocol, ['--heartbeat-interval', '100', '--election-timeout', '1000']);
    return { endpoints: c.endpoints, pids: c.members.map((m) => m.proc?.pid ?? 0), stop: () => c.stop() };
  };
  const results: Record<string, Record<string, Figures>> = {};
  results['synod-raft'] = await measure('synod (raft)', synod('raft'));
  results['synod-multipaxos'] = await measure('synod (multipaxos)', synod('multipaxos'));
  const haveEtcd = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
  if (haveEtcd) {
    results['etcd'] = await measure('etcd', startEtcd);
    const e = results['etcd'];
    for (const k of ['synod-raft', 'synod-multipaxos']) {
      const s = results[k];
      if (s === undefined || e === undefined) continue;
      console.log(`${k} / etcd: ${SHAPES.map((sh) => `clients=${sh.clients} ${((s[`c${sh.clients}`]?.rps ?? 0) / (e[`c${sh.clients}`]?.rps ?? 1)).toFixed(2)}x`).join(', ')}`);
    }
  } else {
    console.log('etcd: not installed (apt-get install etcd-server) — no comparison in this run');
  }
  console.log(JSON.stringify({ bench: 'server', shape: { keyBytes: 8, valueBytes: 256, members: 3 }, results }));
}

await main();
