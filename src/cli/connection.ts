// How the client commands reach a cluster: etcdctl's --endpoints, its TLS
// flags (--cacert, --cert, --key) for https:// client URLs, and its --user
// and --password for a cluster with authentication enabled.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EtcdClient } from '../server/client.js';
import { UsageError } from './errors.js';

export interface ConnectionOpts {
  endpoints: string;
  cacert?: string;
  cert?: string;
  key?: string;
  user?: string;
  password?: string;
}

export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--endpoints <list>', 'comma-separated gRPC endpoints (https://host:port for TLS)', '127.0.0.1:2379')
    .option('--cacert <path>', 'CA (PEM) that signs the servers\' certificates; dials over TLS')
    .option('--cert <path>', 'client certificate (PEM), for servers started with --client-cert-auth')
    .option('--key <path>', 'private key (PEM) of --cert')
    .option('--user <name[:password]>', 'log in as this user (a cluster with authentication enabled)')
    .option('--password <password>', 'the password of --user (then --user holds the name alone)');
}

function readPem(flag: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A client for the command's endpoints; a bad endpoint or an unreadable TLS file is a usage error. */
export function connect(opts: ConnectionOpts, commandTimeoutMs?: number): EtcdClient {
  const ca = readPem('cacert', opts.cacert);
  const cert = readPem('cert', opts.cert);
  const key = readPem('key', opts.key);
  const tls = ca === undefined && cert === undefined && key === undefined ? undefined
    : { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
  const auth = credentialsOf(opts);
  try {
    return new EtcdClient({
      ...(auth === undefined ? {} : { auth }),
      endpoints: opts.endpoints.split(',').filter((s) => s.trim() !== ''),
      ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
      ...(tls === undefined ? {} : { tls }),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** etcdctl's --user name:password, or --user name with --password. */
function credentialsOf(opts: ConnectionOpts): { user: string; password: string } | undefined {
  if (opts.user === undefined) {
    if (opts.password !== undefined) throw new UsageError('--password needs --user');
    return undefined;
  }
  if (opts.password !== undefined) return { user: opts.user, password: opts.password };
  const colon = opts.user.indexOf(':');
  if (colon <= 0) throw new UsageError('--user needs a password: --user name:password, or --user name --password pw');
  return { user: opts.user.slice(0, colon), password: opts.user.slice(colon + 1) };
}
