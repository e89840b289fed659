// `synod watch` and `synod lease ...`, in etcdctl's shape.

import type { Command } from 'commander';
import type { EtcdClient} from '../server/client.js';
import { EtcdClientError, prefixRange } from '../server/client.js';
import { UsageError, EXIT_VERDICT } from './errors.js';
import { connect, withConnectionOptions, type ConnectionOpts } from './connection.js';
import { parseFormat, toJson, hexId } from './output.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface ClientOpts extends ConnectionOpts {
  writeOut: string;
}

function withClientOptions(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .option('-w, --write-out <format>', 'simple or json', 'simple');
}

function client(opts: ClientOpts): EtcdClient {
  return connect(opts);
}

function leaseId(value: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(value)) throw new UsageError(`lease id must be hexadecimal (as 'lease grant' prints it), got '${value}'`);
  return BigInt(`0x${value}`).toString();
}

async function run(opts: ClientOpts, body: (c: EtcdClient, json: boolean) => Promise<void>): Promise<void> {
  const json = parseFormat(opts.writeOut) === 'json';
  const c = client(opts);
  try {
    await c.login();
    await body(c, json);
  } catch (err) {
    if (!(err instanceof EtcdClientError)) throw err;
    process.stderr.write(`Error: ${err.message}\n`);
    process.exitCode = EXIT_VERDICT;
  } finally {
    c.close();
  }
}

function registerWatch(program: Command): void {
  withClientOptions(program.command('watch <key> [range_end]').description('print changes to a key or range until interrupted'))
    .option('--prefix', 'watch keys with the given prefix')
    .option('--rev <n>', 'start from this revision (replays history still held)', '0')
    .option('--prev-kv', 'print the previous value of each change')
    .action(async (key: string, rangeEnd: string | undefined, opts: ClientOpts & { prefix?: boolean; rev: string; prevKv?: boolean }) => {
      if (!/^\d+$/.test(opts.rev)) throw new UsageError(`--rev must be a whole number, got '${opts.rev}'`);
      const json = parseFormat(opts.writeOut) === 'json';
      const range = opts.prefix ? prefixRange(Buffer.from(key)) : { key: Buffer.from(key), end: rangeEnd !== undefined ? Buffer.from(rangeEnd) : Buffer.alloc(0) };
      const c = client(opts);
      await c.login();
      const stream = c.stream('Watch', 'Watch');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          stream.cancel();
          resolve();
        };
        process.once('SIGINT', stop);
        stream.on('data', (res: Any) => {
          if (json) return void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
          if (res.canceled) process.stderr.write(`watch canceled${res.compact_revision !== '0' ? ` (revision ${res.compact_revision} compacted)` : ''}: ${res.cancel_reason}\n`);
          for (const e of res.events as Any[]) {
            process.stdout.write(`${e.type === 'DELETE' ? 'DELETE' : 'PUT'}\n`);
            if (opts.prevKv && e.prev_kv) process.stdout.write(`${e.prev_kv.key.toString()}\n${e.prev_kv.value.toString()}\n`);
            process.stdout.write(`${e.kv.key.toString()}\n${e.kv.value.toString()}\n`);
          }
        });
        stream.on('error', (err: Error & { code?: number }) => {
          if (err.code !== 1) {
            process.stderr.write(`Error: ${err.message}\n`);
            process.exitCode = EXIT_VERDICT;
          }
          resolve();
        });
        stream.on('end', resolve);
        stream.write({ create_request: { key: range.key, range_end: range.end, start_revision: opts.rev, prev_kv: opts.prevKv === true } });
      });
      c.close();
    });
}

function registerLease(program: Command): void {
  const lease = program.command('lease').description('leases: grant, revoke, timetolive, keep-alive, list');
  withClientOptions(lease.command('grant <ttl>').description('grant a lease of TTL seconds')).action(async (ttl: string, opts: ClientOpts) => {
    if (!/^\d+$/.test(ttl) || Number(ttl) === 0) throw new UsageError(`ttl must be a positive whole number of seconds, got '${ttl}'`);
    await run(opts, async (c, json) => {
      const res = await c.call('Lease', 'LeaseGrant', { TTL: ttl, ID: '0' });
      if (json) return void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
      process.stdout.write(`lease ${hexId(res.ID)} granted with TTL(${res.TTL}s)\n`);
    });
  });
  withClientOptions(lease.command('revoke <id>').description('revoke a lease and delete its keys')).action(async (id: string, opts: ClientOpts) => {
    const lid = leaseId(id);
    await run(opts, async (c, json) => {
      const res = await c.call('Lease', 'LeaseRevoke', { ID: lid });
      process.stdout.write(json ? JSON.stringify(toJson(res)) + '\n' : `lease ${id} revoked\n`);
    });
  });
  withClientOptions(lease.command('timetolive <id>').description('remaining time of a lease')).option('--keys', 'list the keys attached').action(async (id: string, opts: ClientOpts & { keys?: boolean }) => {
    const lid = leaseId(id);
    await run(opts, async (c, json) => {
      const res = await c.call('Lease', 'LeaseTimeToLive', { ID: lid, keys: opts.keys === true });
      if (json) return void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
      if (Number(res.TTL) < 0) return void process.stdout.write(`lease ${id} already expired\n`);
      const keys = opts.keys ? `, attached keys([${(res.keys as Buffer[]).map((k) => k.toString()).join(' ')}])` : '';
      process.stdout.write(`lease ${id} granted with TTL(${res.grantedTTL}s), remaining(${res.TTL}s)${keys}\n`);
    });
  });
  withClientOptions(lease.command('list').description('list the leases')).action(async (opts: ClientOpts) => {
    await run(opts, async (c, json) => {
      const res = await c.call('Lease', 'LeaseLeases', {});
      if (json) return void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
      process.stdout.write(`found ${res.leases.length} leases\n`);
      for (const l of res.leases as Any[]) process.stdout.write(`${hexId(l.ID)}\n`);
    });
  });
  withClientOptions(lease.command('keep-alive <id>').description('keep a lease alive until interrupted')).option('--once', 'renew once and exit').action(async (id: string, opts: ClientOpts & { once?: boolean }) => {
    const lid = leaseId(id);
    const c = client(opts);
    const stream = c.stream('Lease', 'LeaseKeepAlive');
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = (): void => {
        if (timer) clearInterval(timer);
        stream.cancel();
        resolve();
      };
      process.once('SIGINT', stop);
      stream.on('data', (res: Any) => {
        if (Number(res.TTL) <= 0) {
          process.stdout.write(`lease ${id} expired or revoked.\n`);
          process.exitCode = EXIT_VERDICT;
          return stop();
        }
        process.stdout.write(`lease ${id} keepalived with TTL(${res.TTL})\n`);
        if (opts.once) stop();
        else timer ??= setInterval(() => stream.write({ ID: lid }), Math.max(500, (Number(res.TTL) * 1000) / 3));
      });
      stream.on('error', (err: Error & { code?: number }) => {
        if (err.code !== 1) {
          process.stderr.write(`Error: ${err.message}\n`);
          process.exitCode = EXIT_VERDICT;
        }
        if (timer) clearInterval(timer);
        resolve();
      });
      stream.write({ ID: lid });
    });
    c.close();
  });
}

export function register(program: Command): void {
  registerWatch(program);
  registerLease(program);
}
