// `synod user|role|auth ...` in etcdctl's shape: users, roles, key-range
// permissions and enabling authentication. They speak etcd's Auth service, so
// they work against synod and etcd alike; `--user name:password` logs in.

import type { Command } from 'commander';
import type { EtcdClient } from '../server/client.js';
import { EtcdClientError, prefixEnd } from '../server/client.js';
import { UsageError } from './errors.js';
import { toJson, type OutputFormat } from './output.js';
import type { WithClient } from './member-commands.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface Opts {
  endpoints: string;
  writeOut: string;
  commandTimeout: string;
}

const PERM_TYPES: Readonly<Record<string, number>> = { read: 0, write: 1, readwrite: 2 };
/** The client decodes enums as their names (src/server/client.ts). */
const READS = ['READ', 'READWRITE'];
const WRITES = ['WRITE', 'READWRITE'];

const printJson = (res: unknown): void => void process.stdout.write(JSON.stringify(toJson(res)) + '\n');
const say = (format: OutputFormat, res: unknown, line: string): void => (format === 'json' ? printJson(res) : void process.stdout.write(`${line}\n`));

/** etcdctl's permission lines: a key, [key, end), a prefix, or every key from key on. */
function permissionLine(p: Any): string {
  const key = Buffer.from(p.key ?? []).toString();
  const end = Buffer.from(p.range_end ?? []);
  if (end.length === 0) return `\t${key}`;
  if (end.length === 1 && end[0] === 0) return `\t[${key}, <open ended>`;
  const prefix = Buffer.from(key).length > 0 && prefixEnd(Buffer.from(key)).equals(end);
  return `\t[${key}, ${end.toString()})${prefix ? ` (prefix ${key})` : ''}`;
}

/** A permission's key and range end from etcdctl's arguments: a key, [key, end), or with --prefix a prefix. */
function rangeOf(key: string, end: string | undefined, prefix: boolean | undefined): { key: Buffer; range_end: Buffer } {
  if (prefix === true) {
    if (end !== undefined) throw new UsageError('--prefix takes a key, not a range end');
    return { key: Buffer.from(key), range_end: key === '' ? Buffer.from([0]) : prefixEnd(Buffer.from(key)) };
  }
  return { key: Buffer.from(key), range_end: Buffer.from(end ?? '') };
}

function nameAndPassword(arg: string, password: string | undefined, noPassword: boolean | undefined): { name: string; password: string } {
  const colon = arg.indexOf(':');
  const name = colon < 0 ? arg : arg.slice(0, colon);
  if (name === '') throw new UsageError('a user name is required');
  if (noPassword === true) return { name, password: '' };
  const pw = password ?? (colon < 0 ? undefined : arg.slice(colon + 1));
  if (pw === undefined || pw === '') throw new UsageError('a password is required: name:password, --new-user-password, or --no-password');
  return { name, password: pw };
}

export function registerAuth(program: Command, withClientOptions: (c: Command) => Command, withClient: WithClient): void {
  const user = program.command('user').description('users (authentication)');
  withClientOptions(user.command('add <name[:password]>').description('add a user'))
    .option('--new-user-password <password>', 'the password (instead of name:password)')
    .option('--no-password', 'a user without a password: it cannot log in (etcd 3.5)')
    .action(async (arg: string, opts: Opts & { newUserPassword?: string; password?: boolean }) => {
      const u = nameAndPassword(arg, opts.newUserPassword, opts.password === false);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Auth', 'UserAdd', { name: u.name, password: u.password, options: { no_password: u.password === '' } });
        say(format, res, `User ${u.name} created`);
      });
    });
  withClientOptions(user.command('delete <name>').description('delete a user')).action(async (name: string, opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'UserDelete', { name }), `User ${name} deleted`));
  });
  withClientOptions(user.command('get <name>').description("a user's roles")).action(async (name: string, opts: Opts) => {
    await withClient(opts, async (c, format) => {
      const res = await c.call('Auth', 'UserGet', { name });
      say(format, res, `User: ${name}\nRoles:${(res.roles as string[]).map((r) => ` ${r}`).join('')}`);
    });
  });
  withClientOptions(user.command('list').description('every user')).action(async (opts: Opts) => {
    await withClient(opts, async (c, format) => {
      const res = await c.call('Auth', 'UserList', {});
      if (format === 'json') return printJson(res);
      for (const u of res.users as string[]) process.stdout.write(`${u}\n`);
    });
  });
  withClientOptions(user.command('passwd <name>').description("change a user's password"))
    .requiredOption('--new-user-password <password>', 'the new password')
    .action(async (name: string, opts: Opts & { newUserPassword: string }) => {
      await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'UserChangePassword', { name, password: opts.newUserPassword }), 'Password updated'));
    });
  withClientOptions(user.command('grant-role <user> <role>').description('grant a role to a user')).action(async (u: string, role: string, opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'UserGrantRole', { user: u, role }), `Role ${role} is granted to user ${u}`));
  });
  withClientOptions(user.command('revoke-role <user> <role>').description('revoke a role from a user')).action(async (u: string, role: string, opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'UserRevokeRole', { name: u, role }), `Role ${role} is revoked from user ${u}`));
  });

  const role = program.command('role').description('roles and their key-range permissions (authentication)');
  withClientOptions(role.command('add <role>').description('add a role')).action(async (name: string, opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'RoleAdd', { name }), `Role ${name} created`));
  });
  withClientOptions(role.command('delete <role>').description('delete a role (and take it from every user)')).action(async (name: string, opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'RoleDelete', { role: name }), `Role ${name} deleted`));
  });
  withClientOptions(role.command('get <role>').description("a role's permissions")).action(async (name: string, opts: Opts) => {
    await withClient(opts, async (c, format) => {
      const res = await c.call('Auth', 'RoleGet', { role: name });
      const perms = res.perm as Any[];
      const kind = (types: string[]): string[] => perms.filter((p) => types.includes(String(p.permType))).map(permissionLine);
      say(format, res, [`Role ${name}`, 'KV Read:', ...kind(READS), 'KV Write:', ...kind(WRITES)].join('\n'));
    });
  });
  withClientOptions(role.command('list').description('every role')).action(async (opts: Opts) => {
    await withClient(opts, async (c, format) => {
      const res = await c.call('Auth', 'RoleList', {});
      if (format === 'json') return printJson(res);
      for (const r of res.roles as string[]) process.stdout.write(`${r}\n`);
    });
  });
  withClientOptions(role.command('grant-permission <role> <type> <key> [rangeEnd]').description('grant read, write or readwrite on a key, a range or (--prefix) a prefix'))
    .option('--prefix', 'the key is a prefix')
    .action(async (name: string, type: string, key: string, end: string | undefined, opts: Opts & { prefix?: boolean }) => {
      const permType = PERM_TYPES[type.toLowerCase()];
      if (permType === undefined) throw new UsageError(`permission type must be read, write or readwrite, got '${type}'`);
      const range = rangeOf(key, end, opts.prefix);
      await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'RoleGrantPermission', { name, perm: { permType, ...range } }), `Role ${name} updated`));
    });
  withClientOptions(role.command('revoke-permission <role> <key> [rangeEnd]').description('revoke the permission on a key, a range or (--prefix) a prefix'))
    .option('--prefix', 'the key is a prefix')
    .action(async (name: string, key: string, end: string | undefined, opts: Opts & { prefix?: boolean }) => {
      const range = rangeOf(key, end, opts.prefix);
      await withClient(opts, async (c, format) => {
        const res = await c.call('Auth', 'RoleRevokePermission', { role: name, ...range });
        say(format, res, range.range_end.length === 0 ? `Permission of key ${key} is revoked from role ${name}` : `Permission of range [${key}, ${range.range_end.toString()}) is revoked from role ${name}`);
      });
    });

  const auth = program.command('auth').description('enable or disable authentication');
  withClientOptions(auth.command('enable').description('enable authentication (adds the root role to the user root if it lacks it)')).action(async (opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await enable(c), 'Authentication Enabled'));
  });
  withClientOptions(auth.command('disable').description('disable authentication')).action(async (opts: Opts) => {
    await withClient(opts, async (c, format) => say(format, await c.call('Auth', 'AuthDisable', {}), 'Authentication Disabled'));
  });
  withClientOptions(auth.command('status').description('whether authentication is enabled, and the auth revision')).action(async (opts: Opts) => {
    await withClient(opts, async (c, format) => {
      const res = await c.call('Auth', 'AuthStatus', {});
      say(format, res, `Authentication Status: ${res.enabled === true}\nAuthRevision: ${String(res.authRevision ?? 0)}`);
    });
  });
}

/** etcdctl's auth enable: when root lacks the root role, add the role, grant it, and try again. */
async function enable(c: EtcdClient): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await c.call('Auth', 'AuthEnable', {});
    } catch (err) {
      if (attempt > 0 || !(err instanceof EtcdClientError) || !/root user does not have root role/.test(err.message)) throw err;
      await c.call('Auth', 'RoleAdd', { name: 'root' }).catch((e: unknown) => {
        if (!(e instanceof EtcdClientError) || !/role name already exists/.test(e.message)) throw e;
      });
      await c.call('Auth', 'UserGrantRole', { user: 'root', role: 'root' });
    }
  }
}
