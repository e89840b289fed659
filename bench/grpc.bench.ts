// The gRPC layer alone: an empty KV.Put handler served by synod's server (its
// own HTTP/2 layer, src/server/grpc/h2), by a bare node:http2 responder (no
// decoding, a constant answer: the floor of a node:http2 server) and by an
// @grpc/grpc-js server, under the same client load.
//
// Loads: etcdbench (etcd's own Go client; $ETCDBENCH or /tmp/etcdbench, built
// by /work/shared/tools/etcdbench/build.sh) at 1 and 256 clients, 8-byte keys
// and 256-byte values; and a pure-Node load (@grpc/grpc-js client) at 1 and 64
// calls in flight. Each server runs in its own process; rounds alternate the
// servers and the figures quoted are medians over rounds.
// Env: GRPC_BENCH_ROUNDS (default 3), GRPC_BENCH_SCALE (default 1; request counts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { EtcdGrpcServer, loadEtcdRoot, protoDir } from '../src/server/grpc/index.js';

type Impl = 'synod-h2' | 'node-http2' | 'grpc-js';
interface Figures { rps: number; p50: number; p99: number; cpuUsPerPut?: number }

const PUT_RESPONSE = { header: { cluster_id: 1, member_id: 1, revision: 1, raft_term: 1 } };
const SCALE = Number(process.env['GRPC_BENCH_SCALE'] ?? '1');
const ROUNDS = Number(process.env['GRPC_BENCH_ROUNDS'] ?? '3');
const VALUE = Buffer.alloc(256, 'v');

function loadPackage(): grpc.GrpcObject {
  const def = protoLoader.loadSync('etcdserverpb/rpc.proto', { includeDirs: [protoDir()], keepCase: true, longs: String });
  return grpc.loadPackageDefinition(def);
}

function serviceCtor(pkg: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  return (pkg['etcdserverpb'] as grpc.GrpcObject)[name] as grpc.ServiceClientConstructor;
}

// ---- child: a server --------------------------------------------------------

async function serve(impl: Impl): Promise<void> {
  let port: number;
  if (impl === 'synod-h2') {
    const server = new EtcdGrpcServer({ put: () => PUT_RESPONSE });
    port = (await server.listen(0)).port;
  } else if (impl === 'node-http2') {
    port = await bareHttp2();
  } else {
    const server = new grpc.Server();
    server.addService(serviceCtor(loadPackage(), 'KV').service, {
      Put: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, PUT_RESPONSE),
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  }
  process.stdout.write(`port ${port}\n`);
}

/** A node:http2 responder that reads nothing and answers every stream with one constant PutResponse. */
async function bareHttp2(): Promise<number> {
  const body = loadEtcdRoot().lookupType('etcdserverpb.PutResponse').encode(PUT_RESPONSE).finish();
  const message = Buffer.alloc(5 + body.length);
  message.writeUInt32BE(body.length, 1);
  message.set(body, 5);
  const server = createServer();
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(message);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function startServer(impl: Impl): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', impl], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${impl} server exited (${code}) before listening`)));
  });
}

// ---- child: a @grpc/grpc-js client load --------------------------------------

async function nodeLoad(port: number, inflight: number, total: number): Promise<void> {
  const KV = serviceCtor(loadPackage(), 'KV');
  const conns = Math.min(4, inflight);
  const clients = Array.from({ length: conns }, (_, i) =>
    new KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'synod.conn': i }));
  const put = (c: grpc.Client, key: string): Promise<void> => new Promise((resolve, reject) => {
    (c as unknown as Record<string, (r: object, cb: (e: Error | null) => void) => void>)['Put']?.(
      { key: Buffer.from(key), value: VALUE }, (e) => (e ? reject(e) : resolve()));
  });
  for (const c of clients) await put(c, 'warmup00');
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async (_, w) => {
    const c = clients[w % conns] as grpc.Client;
    while (next++ < total) {
      const s = performance.now();
      await put(c, String(next % 10000).padStart(8, '0'));
      lat.push(performance.now() - s);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.floor(p * (lat.length - 1))] ?? 0;
  process.stdout.write(JSON.stringify({ rps: lat.length / seconds, p50: pct(0.5), p99: pct(0.99) }) + '\n');
  for (const c of clients) c.close();
}

function runNodeLoad(port: number, inflight: number, total: number): Figures {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'load', String(port), String(inflight), String(total)],
    { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`node load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Figures;
}

// ---- etcdbench ---------------------------------------------------------------

function etcdbenchPath(): string | undefined {
  const p = process.env['ETCDBENCH'] ?? '/tmp/etcdbench';
  return existsSync(p) ? p : undefined;
}

function runEtcdbench(bin: string, port: number, clients: number, total: number): Figures {
  const args = ['-endpoints', `127.0.0.1:${port}`, '-clients', String(clients), '-conns', String(Math.min(8, clients)),
    '-total', String(total), '-key-size', '8', '-val-size', '256', '-op', 'put'];
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 180_000 });
  const line = r.stdout ?? '';
  const num = (k: string): number => Number(new RegExp(`${k}=([0-9.]+)`).exec(line)?.[1] ?? NaN);
  if (r.status !== 0 || Number.isNaN(num('rps'))) throw new Error(`etcdbench ${args.join(' ')} failed: ${line}${r.stderr ?? ''}`);
  return { rps: num('rps'), p50: num('p50_ms'), p99: num('p99_ms') };
}

// ---- encode/decode cost --------------------------------------------------------

function codecCost(): { decodePutNs: number; encodePutResponseNs: number } {
  const root = loadEtcdRoot();
  const req = root.lookupType('etcdserverpb.PutRequest');
  const res = root.lookupType('etcdserverpb.PutResponse');
  const bytes = req.encode({ key: Buffer.from('00001234'), value: VALUE }).finish();
  const n = 200_000;
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += (req.decode(bytes) as unknown as { key: Buffer }).key.length;
  let t = performance.now();
  for (let i = 0; i < n; i++) sink += (req.decode(bytes) as unknown as { key: Buffer }).key.length;
  const decodePutNs = ((performance.now() - t) * 1e6) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) sink += res.encode(PUT_RESPONSE).finish().length;
  const encodePutResponseNs = ((performance.now() - t) * 1e6) / n;
  if (sink === 0) console.log('');
  return { decodePutNs, encodePutResponseNs };
}

/**
 * CPU time (user + system, ms) a process has used, from /proc (Linux); the
 * server's CPU per put is steadier than puts/s when the client shares the cores.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

// ---- main ------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
}

interface Load { name: string; run: (port: number) => Figures }

/** Requests each load sends (plus a few warm-up calls, ignored). */
const TOTALS: Record<string, number> = {
  'etcdbench-1': Math.round(4000 * SCALE),
  'etcdbench-256': Math.round(60000 * SCALE),
  'node-1': Math.round(3000 * SCALE),
  'node-64': Math.round(30000 * SCALE),
};
function puts(load: string): number {
  return TOTALS[load] ?? NaN;
}

function loads(): Load[] {
  const bin = etcdbenchPath();
  const list: Load[] = [];
  if (bin === undefined) {
    console.log('etcdbench not found at $ETCDBENCH or /tmp/etcdbench: skipping the Go-client load ' +
      '(build it with /work/shared/tools/etcdbench/build.sh)');
  } else {
    list.push({ name: 'etcdbench-1', run: (p) => runEtcdbench(bin, p, 1, puts('etcdbench-1')) });
    list.push({ name: 'etcdbench-256', run: (p) => runEtcdbench(bin, p, 256, puts('etcdbench-256')) });
  }
  list.push({ name: 'node-1', run: (p) => runNodeLoad(p, 1, puts('node-1')) });
  list.push({ name: 'node-64', run: (p) => runNodeLoad(p, 64, puts('node-64')) });
  return list;
}

async function main(): Promise<void> {
  const codec = codecCost();
  console.log(`protobufjs (reflection, runtime-compiled): decode PutRequest ${codec.decodePutNs.toFixed(0)} ns, ` +
    `encode PutResponse ${codec.encodePutResponseNs.toFixed(0)} ns`);
  const impls: Impl[] = ['synod-h2', 'node-http2', 'grpc-js'];
  const all = loads();
  const got = new Map<string, Figures[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const impl of round % 2 === 0 ? impls : [...impls].reverse()) {
      const { child, port } = await startServer(impl);
      try {
        runNodeLoad(port, 16, Math.round(3000 * SCALE)); // warm-up: JIT, buffers; not counted
        for (const load of all) {
          const c0 = cpuMs(child.pid);
          const f = load.run(port);
          const c1 = cpuMs(child.pid);
          if (c0 !== undefined && c1 !== undefined) f.cpuUsPerPut = ((c1 - c0) * 1000) / puts(load.name);
          const key = `${impl}/${load.name}`;
          got.set(key, [...(got.get(key) ?? []), f]);
          console.log(`round ${round + 1} ${key.padEnd(26)} ${f.rps.toFixed(0).padStart(7)} puts/s  p50 ${f.p50.toFixed(2)} ms  ` +
            `p99 ${f.p99.toFixed(2)} ms  server CPU ${f.cpuUsPerPut?.toFixed(0) ?? '?'} us/put`);
        }
      } finally {
        child.kill();
      }
    }
  }
  const summary: Record<string, number> = {};
  console.log(`\nmedians over ${ROUNDS} rounds (empty Put handler; server in its own process):`);
  for (const load of all) {
    const row: string[] = [];
    for (const impl of impls) {
      const fs = got.get(`${impl}/${load.name}`) ?? [];
      const rps = median(fs.map((f) => f.rps));
      const p50 = median(fs.map((f) => f.p50));
      const p99 = median(fs.map((f) => f.p99));
      const cpu = median(fs.map((f) => f.cpuUsPerPut ?? NaN));
      summary[`${load.name}_${impl}_cpu_us_per_put`] = Math.round(cpu);
      summary[`${load.name}_${impl}_rps`] = Math.round(rps);
      summary[`${load.name}_${impl}_p50_ms`] = Number(p50.toFixed(3));
      summary[`${load.name}_${impl}_p99_ms`] = Number(p99.toFixed(3));
      row.push(`${impl} ${rps.toFixed(0)}/s p50 ${p50.toFixed(2)} p99 ${p99.toFixed(2)} ms cpu ${cpu.toFixed(0)} us/put`);
    }
    const synod = summary[`${load.name}_synod-h2_rps`] ?? NaN;
    const vsHttp2 = synod / (summary[`${load.name}_node-http2_rps`] ?? NaN);
    const vsGrpcJs = synod / (summary[`${load.name}_grpc-js_rps`] ?? NaN);
    summary[`${load.name}_ratio_vs_node_http2`] = Number(vsHttp2.toFixed(2));
    summary[`${load.name}_ratio_vs_grpc_js`] = Number(vsGrpcJs.toFixed(2));
    console.log(`${load.name.padEnd(14)} ${row.join(' | ')} | synod-h2 ${vsHttp2.toFixed(2)}x node-http2, ${vsGrpcJs.toFixed(2)}x grpc-js`);
  }
  console.log(JSON.stringify({ bench: 'grpc', rounds: ROUNDS, ...summary,
    decode_put_ns: Math.round(codec.decodePutNs), encode_put_response_ns: Math.round(codec.encodePutResponseNs) }));
}

const [mode, a1, a2, a3] = process.argv.slice(2);
if (mode === 'serve') await serve(a1 as Impl);
else if (mode === 'load') await nodeLoad(Number(a1), Number(a2), Number(a3));
else await main();
