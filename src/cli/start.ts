// `synod start`: a local three-member cluster in child processes, on etcd's
// local ports (the layout of etcd's own Procfile), one log stream with each
// line prefixed by the member's name. Ctrl-C stops every member cleanly.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

export interface LocalMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly metricsPort: number;
}

export const LOCAL_MEMBERS: readonly LocalMember[] = [
  { name: 'infra1', clientPort: 2379, peerPort: 12380, metricsPort: 12381 },
  { name: 'infra2', clientPort: 22379, peerPort: 22380, metricsPort: 22381 },
  { name: 'infra3', clientPort: 32379, peerPort: 32380, metricsPort: 32381 },
];

const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[33m'];

export function memberArgs(m: LocalMember, all: readonly LocalMember[], dataRoot: string, protocol: string): string[] {
  const peer = (x: LocalMember): string => `http://127.0.0.1:${x.peerPort}`;
  return [
    'node',
    '--name', m.name,
    '--data-dir', resolve(dataRoot, m.name),
    '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--listen-peer-urls', peer(m),
    '--initial-advertise-peer-urls', peer(m),
    '--initial-cluster', all.map((x) => `${x.name}=${peer(x)}`).join(','),
    '--initial-cluster-state', 'new',
    '--listen-metrics-urls', `http://127.0.0.1:${m.metricsPort}`,
    '--protocol', protocol,
  ];
}

function pipeWithPrefix(child: ChildProcess, prefix: string, out: NodeJS.WritableStream): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
  }
}

function banner(protocol: string, dataRoot: string): string {
  const endpoints = LOCAL_MEMBERS.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  return [
    '',
    `synod: a local 3-member cluster on ${protocol}, data in ${dataRoot}`,
    `  clients: ${LOCAL_MEMBERS.map((m) => `http://127.0.0.1:${m.clientPort}`).join('  ')}`,
    `  metrics: ${LOCAL_MEMBERS.map((m) => `http://127.0.0.1:${m.metricsPort}/metrics`).join('  ')}`,
    '',
    'Try, in another terminal:',
    '  npx synod put greeting hello',
    '  npx synod get greeting',
    '  npx synod get --prefix ""',
    `  npx synod endpoint status --endpoints ${endpoints} -w table`,
    '  npx synod member list -w table',
    '  npx synod watch --prefix ""                     # every change, as it commits',
    '  npx synod lease grant 30; npx synod snapshot save backup.db',
    `  etcdctl --endpoints ${endpoints} put foo bar     # any etcd v3 client works`,
    '  curl -s 127.0.0.1:2379/health                   # etcd\'s HTTP endpoints, on the client port too',
    '  npx synod sim --protocol raft --seeds 1..50     # the deterministic simulator',
    '  npx synod play                                  # the playground in a browser',
    '',
    `Ctrl-C stops the cluster; the data stays in ${dataRoot} (delete it to start afresh).`,
    '',
  ].join('\n');
}

export async function startLocalCluster(protocol: string, dataRoot: string): Promise<number> {
  mkdirSync(dataRoot, { recursive: true });
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const children = LOCAL_MEMBERS.map((m, i) => {
    const child = spawn(process.execPath, [main, ...memberArgs(m, LOCAL_MEMBERS, dataRoot, protocol)], {
      // The IPC channel is only a lifeline: a member stops when it closes (src/cli/node.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, SYNOD_LOG_PRETTY: process.env['SYNOD_LOG_PRETTY'] ?? (process.stdout.isTTY ? '1' : '0') },
    });
    const color = process.stdout.isTTY ? (COLORS[i] ?? '') : '';
    pipeWithPrefix(child, `${color}${m.name.padEnd(6)}|${color ? '\x1b[0m' : ''}`, process.stdout);
    return child;
  });
  process.stdout.write(banner(protocol, dataRoot));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nsynod: stopping the cluster...\n');
    for (const c of children) c.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const exits = children.map((c, i) => new Promise<{ i: number; code: number }>((res) => c.on('exit', (code) => res({ i, code: code ?? 1 }))));
  // A member that exits on its own (a port taken, a bad data directory) stops the cluster at once, naming it.
  const first = await Promise.race(exits);
  const failed = !stopping;
  if (failed) {
    process.stderr.write(`synod: ${LOCAL_MEMBERS[first.i]?.name ?? 'a member'} exited with code ${first.code}; stopping the rest (its log lines above say why)\n`);
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
  await Promise.all(exits);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return failed ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('run a local 3-member cluster (clients on 2379/22379/32379, peers on 12380/22380/32380), data under ./data')
    .option('--protocol <name>', 'raft or multipaxos', 'raft')
    .option('--data-dir <dir>', 'where the members keep their data', 'data')
    .action(async (opts: { protocol: string; dataDir: string }) => {
      if (opts.protocol !== 'raft' && opts.protocol !== 'multipaxos') throw new UsageError(`--protocol must be raft or multipaxos, got '${opts.protocol}'`);
      process.exitCode = await startLocalCluster(opts.protocol, resolve(opts.dataDir));
    });
}
