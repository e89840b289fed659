// `synod snapshot save|restore|status`, `synod compaction` (alias `compact`),
// `synod defrag` and `synod alarm list|disarm`, in etcdctl's shape.

import { open, readFile, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import type { EtcdClient} from '../server/client.js';
import { EtcdClientError } from '../server/client.js';
import { ConfigError, resolveConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { decodeSnapshotFile, MAX_SNAPSHOT_FILE_BYTES, SnapshotFileError, type SnapshotHeader } from '../server/snapshot-file.js';
import { restoreDataDir, RestoreError } from '../server/snapshot-restore.js';
import { UsageError, EXIT_VERDICT } from './errors.js';
import { connect, withConnectionOptions, type ConnectionOpts } from './connection.js';
import { parseFormat, table, toJson, hexId } from './output.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface ClientOpts extends ConnectionOpts {
  writeOut: string;
  commandTimeout: string;
}

function withClientOptions(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .option('-w, --write-out <format>', 'simple, json or table', 'simple')
    .option('--command-timeout <ms>', 'timeout of one request in milliseconds', '5000');
}

function client(opts: ClientOpts): EtcdClient {
  const m = /^(\d+)(ms|s)?$/.exec(opts.commandTimeout);
  const ms = m === null ? 0 : Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (ms <= 0) throw new UsageError(`--command-timeout must be milliseconds (e.g. 5000 or 5s), got '${opts.commandTimeout}'`);
  return connect(opts, ms);
}

async function run(opts: ClientOpts, body: (c: EtcdClient) => Promise<void>): Promise<void> {
  const c = client(opts);
  try {
    await c.login();
    await body(c);
  } catch (err) {
    if (!(err instanceof EtcdClientError)) throw err;
    process.stderr.write(`Error: ${err.message}\n`);
    process.exitCode = EXIT_VERDICT;
  } finally {
    c.close();
  }
}

/** Sizes as etcdctl prints them (base 1000). */
function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u] as string}`;
}

/** Receives the Snapshot stream: the file's content, then etcd's SHA-256 message last. */
async function receiveSnapshot(c: EtcdClient, endpoint: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let bytes = 0;
  const stream = c.serverStreamAt(endpoint, 'Maintenance', 'Snapshot', {});
  try {
    for await (const msg of stream as AsyncIterable<Any>) {
      const blob = msg.blob as Buffer;
      bytes += blob.length;
      if (bytes > MAX_SNAPSHOT_FILE_BYTES) throw new EtcdClientError(`${endpoint}: the snapshot is over ${MAX_SNAPSHOT_FILE_BYTES} bytes, synod's limit`, undefined);
      parts.push(Buffer.from(blob));
    }
  } catch (err) {
    stream.cancel();
    if (err instanceof EtcdClientError) throw err;
    const e = err as Error & { details?: string; code?: number };
    throw new EtcdClientError(`${endpoint}: ${e.details ?? e.message}`, e.code);
  }
  return Buffer.concat(parts);
}

async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  const part = `${path}.part`;
  const fh = await open(part, 'w', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(part, path).catch(async (err: unknown) => {
    await rm(part, { force: true });
    throw err;
  });
}

function registerSave(snapshot: Command): void {
  withClientOptions(snapshot.command('save <file>').description("save the key-value state of one member to a file (synod's snapshot format, checked before it is kept)"))
    .action(async (file: string, opts: ClientOpts) => {
      await run(opts, async (c) => {
        if (c.endpoints.length !== 1) throw new UsageError(`snapshot must be requested from one selected member, not ${c.endpoints.length} (${c.endpoints.join(', ')})`);
        const endpoint = c.endpoints[0] as string;
        const bytes = await receiveSnapshot(c, endpoint);
        try {
          decodeSnapshotFile(`the snapshot from ${endpoint}`, bytes);
        } catch (err) {
          if (err instanceof SnapshotFileError) throw new EtcdClientError(err.message, undefined);
          throw err;
        }
        await writeDurably(file, bytes);
        process.stdout.write(`Snapshot saved at ${file}\n`);
      });
    });
}

async function readSnapshot(file: string, skipHashCheck: boolean): Promise<ReturnType<typeof decodeSnapshotFile> & { totalBytes: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read snapshot ${file}: ${(err as Error).message}`);
  }
  try {
    return { ...decodeSnapshotFile(file, bytes, { skipHashCheck }), totalBytes: bytes.length };
  } catch (err) {
    if (err instanceof SnapshotFileError) throw new UsageError(`snapshot ${err.message}`);
    throw err;
  }
}

interface RestoreOpts {
  name: string;
  dataDir?: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  protocol: string;
  skipHashCheck?: boolean;
}

function registerRestore(snapshot: Command): void {
  snapshot.command('restore <file>').description('seed a new member\'s data directory from a snapshot file; start the new cluster with `synod node` and the same flags')
    .option('--data-dir <dir>', 'the data directory to create (default: NAME.synod)')
    .option('--name <name>', 'human-readable name of this member', 'default')
    .option('--initial-cluster <list>', 'every member of the new cluster: NAME=PEER_URL,...', 'default=http://localhost:2380')
    .option('--initial-cluster-token <token>', 'the new cluster\'s token (as given to synod node)', 'synod-cluster')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs", 'http://localhost:2380')
    .option('--protocol <name>', 'raft or multipaxos: the protocol the new cluster runs', 'raft')
    .option('--skip-hash-check', "do not check the snapshot's SHA-256 digest")
    .action(async (file: string, opts: RestoreOpts) => {
      const snap = await readSnapshot(file, opts.skipHashCheck === true);
      let cfg;
      try {
        cfg = resolveConfig({
          name: opts.name, dataDir: opts.dataDir, initialCluster: opts.initialCluster, initialClusterToken: opts.initialClusterToken,
          initialAdvertisePeerUrls: opts.initialAdvertisePeerUrls, listenPeerUrls: opts.initialAdvertisePeerUrls, protocol: opts.protocol,
        });
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
      try {
        await restoreDataDir(cfg, snap.snapshot, createLogger('restore'));
      } catch (err) {
        if (err instanceof RestoreError) throw new UsageError(err.message);
        throw err;
      }
      const h = snap.header;
      process.stdout.write(`Restored snapshot ${file} (revision ${h.revision}, ${h.keys} keys) into ${cfg.dataDir}: member ${cfg.name} (${hexId(cfg.memberId)}) of a ${cfg.members.size}-member ${cfg.protocol} cluster\n`);
    });
}

function statusRow(h: SnapshotHeader, digest: string, totalBytes: number): { hash: string; revision: number; totalKey: number; totalSize: number } {
  // etcd prints a 32-bit hash of its database; synod's is the first 32 bits of the file's SHA-256.
  return { hash: digest.slice(0, 8).replace(/^0+(?=.)/, ''), revision: h.revision, totalKey: h.keys, totalSize: totalBytes };
}

function registerStatus(snapshot: Command): void {
  snapshot.command('status <file>').description('check a snapshot file and print its hash, revision, key count and size')
    .option('-w, --write-out <format>', 'simple, json or table', 'simple')
    .action(async (file: string, opts: { writeOut: string }) => {
      const format = parseFormat(opts.writeOut);
      const snap = await readSnapshot(file, false);
      const row = statusRow(snap.header, snap.digest, snap.totalBytes);
      if (format === 'json') return void process.stdout.write(JSON.stringify({ ...row, compactRevision: snap.header.compactRevision, versions: snap.header.versions, leases: snap.header.leases }) + '\n');
      const cells = [row.hash, String(row.revision), String(row.totalKey), humanBytes(row.totalSize)];
      if (format === 'table') process.stdout.write(table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [cells]) + '\n');
      else process.stdout.write(cells.join(', ') + '\n');
    });
}

function registerCompaction(program: Command): void {
  withClientOptions(program.command('compaction <revision>').alias('compact').description('compact the key-value history: revisions below REVISION can no longer be read'))
    .option('--physical', "wait until the compaction is applied to the store (synod's store drops the versions when it applies the compaction, which the answer already waits for)")
    .action(async (revision: string, opts: ClientOpts & { physical?: boolean }) => {
      if (!/^\d+$/.test(revision) || Number(revision) < 1) throw new UsageError(`revision must be a positive whole number, got '${revision}'`);
      await run(opts, async (c) => {
        const res = await c.call('KV', 'Compact', { revision, physical: opts.physical === true });
        if (parseFormat(opts.writeOut) === 'json') return void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
        process.stdout.write(`compacted revision ${revision}\n`);
      });
    });
}

function registerDefragAlarm(program: Command): void {
  withClientOptions(program.command('defrag').description('defragment the storage of each endpoint (synod: nothing to reclaim; answers at once)'))
    .action(async (opts: ClientOpts) => {
      await run(opts, async (c) => {
        for (const e of c.endpoints) {
          try {
            await c.callAt(e, 'Maintenance', 'Defragment', {});
            process.stdout.write(`Finished defragmenting etcd member[${e}]\n`);
          } catch (err) {
            process.stderr.write(`Failed to defragment etcd member[${e}] (${(err as Error).message})\n`);
            process.exitCode = EXIT_VERDICT;
          }
        }
      });
    });
  const alarm = program.command('alarm').description('cluster alarms (synod raises none)');
  const printAlarms = (res: Any): void => {
    for (const a of res.alarms as Any[]) process.stdout.write(`memberID:${BigInt(a.memberID).toString()} alarm:${String(a.alarm)} \n`);
  };
  withClientOptions(alarm.command('list').description('list the alarms raised'))
    .action(async (opts: ClientOpts) => run(opts, async (c) => printAlarms(await c.call('Maintenance', 'Alarm', { action: 'GET', memberID: '0', alarm: 'NONE' }))));
  withClientOptions(alarm.command('disarm').description('disarm every alarm'))
    .action(async (opts: ClientOpts) => run(opts, async (c) => printAlarms(await c.call('Maintenance', 'Alarm', { action: 'DEACTIVATE', memberID: '0', alarm: 'NONE' }))));
}

export function register(program: Command): void {
  const snapshot = program.command('snapshot').description('save a member\'s key-value state to a file, restore a new cluster from one, or check one');
  registerSave(snapshot);
  registerRestore(snapshot);
  registerStatus(snapshot);
  registerCompaction(program);
  registerDefragAlarm(program);
}
