// `synod member add|remove|update|promote` in etcdctl's shape (beside
// `member list` in client-commands.ts). They speak etcd's Cluster service, so
// they work against synod and etcd alike.

import type { Command } from 'commander';
import type { EtcdClient } from '../server/client.js';
import { UsageError } from './errors.js';
import { toJson, type OutputFormat } from './output.js';

interface Opts {
  endpoints: string;
  writeOut: string;
  commandTimeout: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Runs a command with a client (client-commands.ts supplies it: option parsing, errors, exit codes). */
export type WithClient = (opts: Opts, run: (c: EtcdClient, format: OutputFormat) => Promise<void>) => Promise<void>;

/** A member id as etcdctl takes it: hexadecimal, as the decimal string the gRPC client sends. */
function memberIdArg(value: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(value)) throw new UsageError(`member ID must be hexadecimal (as \`member list\` prints it), got '${value}'`);
  return BigInt(`0x${value}`).toString();
}

function peerUrlsArg(value: string | undefined): string[] {
  const urls = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (urls.length === 0) throw new UsageError('--peer-urls is required (comma-separated, e.g. http://10.0.0.4:2380)');
  return urls;
}

/** Go's %16x: hexadecimal, right-aligned in 16 columns (etcdctl's format for these lines). */
const hex16 = (id: string | number): string => BigInt(id).toString(16).padStart(16, ' ');

const printJson = (res: unknown): void => void process.stdout.write(JSON.stringify(toJson(res)) + '\n');

/** etcdctl's lines to start the new member with. */
function startLines(name: string, newId: string, peerUrls: readonly string[], members: readonly Any[]): string {
  const cluster: string[] = [];
  for (const m of members) for (const u of m.peerURLs as string[]) cluster.push(`${m.ID === newId ? name : m.name}=${u}`);
  return [
    '',
    `ETCD_NAME=${JSON.stringify(name)}`,
    `ETCD_INITIAL_CLUSTER=${JSON.stringify(cluster.join(','))}`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS=${JSON.stringify(peerUrls.join(','))}`,
    'ETCD_INITIAL_CLUSTER_STATE="existing"',
    '',
  ].join('\n');
}

export function registerMemberChanges(member: Command, withClientOptions: (c: Command) => Command, withClient: WithClient): void {
  withClientOptions(member.command('add <name>').description('add a member to the cluster (then start it with --initial-cluster-state existing)'))
    .option('--peer-urls <urls>', "the new member's peer URLs, comma-separated")
    .option('--learner', 'add it as a learner (non-voting until promoted)')
    .action(async (name: string, opts: Opts & { peerUrls?: string; learner?: boolean }) => {
      const peerURLs = peerUrlsArg(opts.peerUrls);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Cluster', 'MemberAdd', { peerURLs, isLearner: opts.learner === true });
        if (format === 'json') return printJson(res);
        process.stdout.write(`Member ${hex16(res.member.ID)} added to cluster ${hex16(res.header.cluster_id)}\n`);
        process.stdout.write(startLines(name, res.member.ID, peerURLs, res.members));
      });
    });

  withClientOptions(member.command('remove <memberID>').description('remove a member from the cluster (hexadecimal ID)'))
    .action(async (id: string, opts: Opts) => {
      const ID = memberIdArg(id);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Cluster', 'MemberRemove', { ID });
        if (format === 'json') return printJson(res);
        process.stdout.write(`Member ${hex16(ID)} removed from cluster ${hex16(res.header.cluster_id)}\n`);
      });
    });

  withClientOptions(member.command('update <memberID>').description("change a member's peer URLs"))
    .option('--peer-urls <urls>', 'the new peer URLs, comma-separated')
    .action(async (id: string, opts: Opts & { peerUrls?: string }) => {
      const ID = memberIdArg(id);
      const peerURLs = peerUrlsArg(opts.peerUrls);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Cluster', 'MemberUpdate', { ID, peerURLs });
        if (format === 'json') return printJson(res);
        process.stdout.write(`Member ${hex16(ID)} updated in cluster ${hex16(res.header.cluster_id)}\n`);
      });
    });

  withClientOptions(member.command('promote <memberID>').description('promote a learner to a voting member (once it has caught up)'))
    .action(async (id: string, opts: Opts) => {
      const ID = memberIdArg(id);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Cluster', 'MemberPromote', { ID });
        if (format === 'json') return printJson(res);
        process.stdout.write(`Member ${hex16(ID)} promoted in cluster ${hex16(res.header.cluster_id)}\n`);
      });
    });
}
