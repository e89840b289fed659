// Client commands in etcdctl's shape: put, get, del, txn, member list (and
// add/remove/update/promote, member-commands.ts),
// endpoint status, endpoint health, endpoint hashkv, move-leader, and user,
// role and auth (auth-commands.ts). They speak the etcd v3 API, so they work
// against synod and etcd alike.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EtcdClient} from '../server/client.js';
import { EtcdClientError, prefixRange } from '../server/client.js';
import { UsageError, EXIT_VERDICT } from './errors.js';
import { parseFormat, toJson, table, hexId, type OutputFormat } from './output.js';
import { parseTxn } from './txn-parse.js';
import { registerMemberChanges } from './member-commands.js';
import { registerAuth } from './auth-commands.js';
import { connect, withConnectionOptions, type ConnectionOpts } from './connection.js';

interface GlobalOpts extends ConnectionOpts {
  writeOut: string;
  commandTimeout: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function withClientOptions(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .option('-w, --write-out <format>', 'simple, json or table', 'simple')
    .option('--command-timeout <ms>', 'timeout of one request in milliseconds', '5000');
}

function durationMs(value: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(value);
  if (m === null) throw new UsageError(`--command-timeout must be milliseconds (e.g. 5000 or 5s), got '${value}'`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

async function withClient(opts: GlobalOpts, run: (c: EtcdClient, format: OutputFormat) => Promise<void>): Promise<void> {
  const format = parseFormat(opts.writeOut);
  const client = connect(opts, durationMs(opts.commandTimeout));
  try {
    await client.login();
    await run(client, format);
  } catch (err) {
    if (err instanceof EtcdClientError) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = EXIT_VERDICT;
      return;
    }
    throw err;
  } finally {
    client.close();
  }
}

function keyRange(key: string, rangeEnd: string | undefined, prefix: boolean): { key: Buffer; end: Buffer } {
  if (prefix) return prefixRange(Buffer.from(key));
  return { key: Buffer.from(key), end: rangeEnd !== undefined ? Buffer.from(rangeEnd) : Buffer.alloc(0) };
}

const printJson = (res: unknown): void => void process.stdout.write(JSON.stringify(toJson(res)) + '\n');

function printKvs(res: Any, format: OutputFormat, opts: { keysOnly?: boolean; printValueOnly?: boolean }): void {
  if (format === 'json') return printJson(res);
  if (format === 'table') {
    const rows = (res.kvs as Any[]).map((kv) => [kv.key.toString(), opts.keysOnly ? '' : kv.value.toString()]);
    process.stdout.write(table(['KEY', 'VALUE'], rows) + '\n');
    return;
  }
  for (const kv of res.kvs as Any[]) {
    if (!opts.printValueOnly) process.stdout.write(kv.key.toString() + '\n');
    if (!opts.keysOnly) process.stdout.write(kv.value.toString() + '\n');
  }
}

function registerPutGetDel(program: Command): void {
  withClientOptions(program.command('put <key> [value]').description('put a key (the value from stdin when omitted)'))
    .option('--prev-kv', 'return the previous key-value pair')
    .option('--lease <id>', 'attach the key to a lease (hex id)')
    .action(async (key: string, value: string | undefined, opts: GlobalOpts & { prevKv?: boolean; lease?: string }) => {
      const v = value ?? readFileSync(0, 'utf8');
      await withClient(opts, async (c, format) => {
        const res = await c.call('KV', 'Put', { key: Buffer.from(key), value: Buffer.from(v), prev_kv: opts.prevKv === true, lease: opts.lease ? BigInt(`0x${opts.lease}`).toString() : '0' });
        if (format === 'json') return printJson(res);
        process.stdout.write('OK\n');
        if (opts.prevKv && res.prev_kv) process.stdout.write(`${res.prev_kv.key.toString()}\n${res.prev_kv.value.toString()}\n`);
      });
    });

  withClientOptions(program.command('get <key> [range_end]').description('get a key or a range of keys'))
    .option('--prefix', 'get keys with the given prefix')
    .option('--keys-only', 'print only keys')
    .option('--print-value-only', 'print only values (simple format)')
    .option('--count-only', 'print only the count')
    .option('--limit <n>', 'maximum number of results', '0')
    .option('--rev <n>', 'read at this revision', '0')
    .option('--consistency <l|s>', 'linearizable (l) or serializable (s)', 'l')
    .action(async (key: string, rangeEnd: string | undefined, opts: GlobalOpts & Record<string, Any>) => {
      if (opts.consistency !== 'l' && opts.consistency !== 's') throw new UsageError(`--consistency must be l or s, got '${opts.consistency}'`);
      const { key: k, end } = keyRange(key, rangeEnd, opts.prefix === true);
      await withClient(opts, async (c, format) => {
        const res = await c.call('KV', 'Range', {
          key: k, range_end: end, limit: String(Number(opts.limit)), revision: String(Number(opts.rev)),
          keys_only: opts.keysOnly === true, count_only: opts.countOnly === true, serializable: opts.consistency === 's',
        });
        if (opts.countOnly && format !== 'json') return void process.stdout.write(`${res.count}\n`);
        printKvs(res, format, { keysOnly: opts.keysOnly === true, printValueOnly: opts.printValueOnly === true });
      });
    });

  withClientOptions(program.command('del <key> [range_end]').description('delete a key or a range of keys'))
    .option('--prefix', 'delete keys with the given prefix')
    .option('--prev-kv', 'return the deleted key-value pairs')
    .action(async (key: string, rangeEnd: string | undefined, opts: GlobalOpts & { prefix?: boolean; prevKv?: boolean }) => {
      const { key: k, end } = keyRange(key, rangeEnd, opts.prefix === true);
      await withClient(opts, async (c, format) => {
        const res = await c.call('KV', 'DeleteRange', { key: k, range_end: end, prev_kv: opts.prevKv === true });
        if (format === 'json') return printJson(res);
        process.stdout.write(`${res.deleted}\n`);
        if (opts.prevKv) for (const kv of res.prev_kvs as Any[]) process.stdout.write(`${kv.key.toString()}\n${kv.value.toString()}\n`);
      });
    });
}

function printTxnResponse(res: Any, format: OutputFormat): void {
  if (format === 'json') return printJson(res);
  process.stdout.write(res.succeeded ? 'SUCCESS\n' : 'FAILURE\n');
  for (const r of res.responses as Any[]) {
    process.stdout.write('\n');
    if (r.response_put) process.stdout.write('OK\n');
    else if (r.response_delete_range) process.stdout.write(`${r.response_delete_range.deleted}\n`);
    else if (r.response_range) for (const kv of r.response_range.kvs as Any[]) process.stdout.write(`${kv.key.toString()}\n${kv.value.toString()}\n`);
  }
}

function registerTxn(program: Command): void {
  withClientOptions(program.command('txn').description("run a transaction read from stdin, in etcdctl's format: compares, a blank line, success requests, a blank line, failure requests"))
    .action(async (opts: GlobalOpts) => {
      let request;
      try {
        request = parseTxn(readFileSync(0, 'utf8'));
      } catch (err) {
        throw new UsageError(`txn: ${(err as Error).message}`);
      }
      await withClient(opts, async (c, format) => printTxnResponse(await c.call('KV', 'Txn', request), format));
    });
}

function registerMember(program: Command): void {
  const member = program.command('member').description('cluster membership');
  withClientOptions(member.command('list').description('list the members of the cluster'))
    .action(async (opts: GlobalOpts) => {
      await withClient(opts, async (c, format) => {
        const res = await c.call('Cluster', 'MemberList', {});
        if (format === 'json') return printJson(res);
        const rows = (res.members as Any[]).map((m) => [hexId(m.ID), m.name === '' ? 'unstarted' : 'started', m.name, m.peerURLs.join(','), m.clientURLs.join(','), String(m.isLearner)]);
        if (format === 'table') process.stdout.write(table(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], rows) + '\n');
        else for (const r of rows) process.stdout.write(r.join(', ') + '\n');
      });
    });
  registerMemberChanges(member, withClientOptions, withClient);
}

function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${Math.round(n / 1000)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

function registerEndpoint(program: Command): void {
  const endpoint = program.command('endpoint').description('endpoint status and health');
  withClientOptions(endpoint.command('status').description('status of each endpoint'))
    .action(async (opts: GlobalOpts) => {
      await withClient(opts, async (c, format) => {
        const all = await Promise.all(c.endpoints.map(async (e) => ({ e, res: await c.callAt(e, 'Maintenance', 'Status', {}) })));
        if (format === 'json') return void process.stdout.write(JSON.stringify(all.map(({ e, res }) => ({ Endpoint: e, Status: toJson(res) }))) + '\n');
        const rows = all.map(({ e, res }) => [e, hexId(res.header.member_id), res.version, formatBytes(Number(res.dbSize)),
          String(res.leader === res.header.member_id), String(res.isLearner), String(res.raftTerm), String(res.raftIndex), String(res.raftAppliedIndex), (res.errors as string[]).join(', ')]);
        if (format === 'table') process.stdout.write(table(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'], rows) + '\n');
        else for (const r of rows) process.stdout.write(r.join(', ') + '\n');
      });
    });
  withClientOptions(endpoint.command('health').description('check that each endpoint can serve a linearizable read'))
    .action(async (opts: GlobalOpts) => {
      await withClient(opts, async (c) => {
        let unhealthy = 0;
        for (const e of c.endpoints) {
          const start = process.hrtime.bigint();
          try {
            await c.callAt(e, 'KV', 'Range', { key: Buffer.from('health') });
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            process.stdout.write(`${e} is healthy: successfully committed proposal: took = ${ms.toFixed(3)}ms\n`);
          } catch (err) {
            unhealthy++;
            process.stdout.write(`${e} is unhealthy: failed to commit proposal: ${(err as Error).message}\n`);
          }
        }
        if (unhealthy > 0) process.exitCode = EXIT_VERDICT;
      });
    });
  withClientOptions(endpoint.command('hashkv').description('hash of each endpoint\'s key-value history up to a revision: equal on members that hold the same history'))
    .option('--rev <revision>', 'the revision to hash up to (0: each endpoint\'s current revision)', '0')
    .action(async (opts: GlobalOpts & { rev: string }) => {
      if (!/^\d+$/.test(opts.rev)) throw new UsageError(`--rev must be a revision (a whole number), got '${opts.rev}'`);
      await withClient(opts, async (c, format) => {
        const all = await Promise.all(c.endpoints.map(async (e) => ({ e, res: await c.callAt(e, 'Maintenance', 'HashKV', { revision: opts.rev }) })));
        if (format === 'json') return void process.stdout.write(JSON.stringify(all.map(({ e, res }) => ({ Endpoint: e, HashKV: toJson(res) }))) + '\n');
        const rows = all.map(({ e, res }) => [e, String(res.hash), String(res.hash_revision), String(res.compact_revision)]);
        if (format === 'table') process.stdout.write(table(['ENDPOINT', 'HASH', 'HASH REVISION', 'COMPACT REVISION'], rows) + '\n');
        else for (const r of rows) process.stdout.write(r.join(', ') + '\n');
      });
    });
}

function registerMoveLeader(program: Command): void {
  withClientOptions(program.command('move-leader <transferee-member-id>').description('hand leadership to another voting member (the leader must be among --endpoints)'))
    .action(async (target: string, opts: GlobalOpts) => {
      if (!/^[0-9a-fA-F]{1,16}$/.test(target)) throw new UsageError(`member ID must be hexadecimal (as \`member list\` prints it), got '${target}'`);
      const targetId = BigInt(`0x${target}`);
      await withClient(opts, async (c) => {
        const all = await Promise.all(c.endpoints.map(async (e) => ({ e, res: await c.callAt(e, 'Maintenance', 'Status', {}).catch(() => null) })));
        const leader = all.find(({ res }) => res !== null && String(res.leader) === String(res.header.member_id) && String(res.leader) !== '0');
        if (leader === undefined) throw new EtcdClientError(`no leader endpoint given at [${c.endpoints.join(' ')}]`, undefined);
        await c.callAt(leader.e, 'Maintenance', 'MoveLeader', { targetID: targetId.toString() });
        process.stdout.write(`Leadership transferred from ${hexId(leader.res.leader)} to ${targetId.toString(16)}\n`);
      });
    });
}

export function register(program: Command): void {
  registerPutGetDel(program);
  registerTxn(program);
  registerMember(program);
  registerEndpoint(program);
  registerMoveLeader(program);
  registerAuth(program, withClientOptions, withClient);
}
