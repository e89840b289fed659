// `synod lock` and `synod elect` in etcdctl's shape, on src/coord's Lock and
// Election (the same keys as etcd's clientv3/concurrency, so they contend with
// etcdctl lock/elect and any etcd client's recipes).
//
//   synod lock NAME                 hold the lock until Ctrl-C (prints its key)
//   synod lock NAME -- CMD ARGS     run CMD while holding it (ETCD_LOCK_KEY, ETCD_LOCK_REV set), exit with its status
//   synod elect NAME PROPOSAL       campaign, print the leader key and value once elected, lead until Ctrl-C
//   synod elect -l NAME             print each leader (key, then value) as it changes, until Ctrl-C

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { AcquireAbortedError, CoordError } from '../coord/errors.js';
import { Election } from '../coord/election.js';
import { Lock } from '../coord/lock.js';
import type { EtcdClient } from '../server/client.js';
import { EtcdClientError } from '../server/client.js';
import { connect, withConnectionOptions, type ConnectionOpts } from './connection.js';
import { EXIT_VERDICT, UsageError } from './errors.js';

interface Opts extends ConnectionOpts {
  ttl: string;
}

function ttlOf(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--ttl must be whole seconds, at least 1, got '${value}'`);
  return Number(value);
}

/** Aborts on Ctrl-C (SIGINT) or SIGTERM. */
function interrupted(): AbortSignal {
  const c = new AbortController();
  const stop = (): void => c.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return c.signal;
}

const untilAborted = (...signals: AbortSignal[]): Promise<void> => {
  const any = AbortSignal.any(signals);
  return any.aborted ? Promise.resolve() : new Promise((resolve) => any.addEventListener('abort', () => resolve(), { once: true }));
};

async function withClient(opts: Opts, body: (c: EtcdClient) => Promise<void>): Promise<void> {
  const c = connect(opts);
  try {
    await c.login();
    await body(c);
  } catch (err) {
    if (err instanceof AcquireAbortedError) return; // Ctrl-C while waiting
    if (!(err instanceof EtcdClientError) && !(err instanceof CoordError)) throw err;
    process.stderr.write(`Error: ${err.message}\n`);
    process.exitCode = EXIT_VERDICT;
  } finally {
    c.close();
  }
}

export function register(program: Command): void {
  withConnectionOptions(program.command('lock <lockname> [command...]').description('acquire a distributed lock and hold it until Ctrl-C, or run a command (after --) while holding it'))
    .option('--ttl <seconds>', 'TTL of the lease the lock is held under', '10')
    .action(async (name: string, command: string[], opts: Opts) => {
      const ttlSeconds = ttlOf(opts.ttl);
      await withClient(opts, async (c) => {
        const stop = interrupted();
        const held = await new Lock(c, name, { ttlSeconds }).acquire({ signal: stop });
        try {
          if (command.length === 0) {
            process.stdout.write(`${held.key.toString()}\n`);
            await untilAborted(stop, held.signal);
            if (held.signal.aborted && !stop.aborted) throw new CoordError(`lock lost: ${(held.signal.reason as Error).message}`);
            return;
          }
          // etcdctl's contract: the command sees the lock's key and revision.
          const child = spawn(command[0] as string, command.slice(1), { stdio: 'inherit', env: { ...process.env, ETCD_LOCK_KEY: held.key.toString(), ETCD_LOCK_REV: String(held.token) } });
          const code = await new Promise<number>((resolve) => {
            child.once('error', (err) => {
              process.stderr.write(`Error: cannot run ${command[0]}: ${err.message}\n`);
              resolve(EXIT_VERDICT);
            });
            child.once('exit', (c2, signal) => resolve(c2 ?? (signal === null ? 0 : EXIT_VERDICT)));
          });
          process.exitCode = code;
        } finally {
          await held.release();
        }
      });
    });

  withConnectionOptions(program.command('elect <election-name> [proposal]').description('campaign with a proposal and lead until Ctrl-C, or (-l) print each leader as it changes'))
    .option('-l, --listen', 'observe the election: print each leader (key, then value) as it changes')
    .option('--ttl <seconds>', 'TTL of the lease the candidate campaigns under', '10')
    .action(async (name: string, proposal: string | undefined, opts: Opts & { listen?: boolean }) => {
      const ttlSeconds = ttlOf(opts.ttl);
      if (opts.listen !== true && proposal === undefined) throw new UsageError('a proposal is required to campaign (or -l to observe)');
      await withClient(opts, async (c) => {
        const stop = interrupted();
        const election = new Election(c, name, { ttlSeconds });
        if (opts.listen === true) {
          for await (const leader of election.observe({ signal: stop })) process.stdout.write(`${leader.key.toString()}\n${leader.value.toString()}\n`);
          return;
        }
        const leadership = await election.campaign(proposal as string, { signal: stop });
        try {
          process.stdout.write(`${leadership.key.toString()}\n${proposal as string}\n`);
          await untilAborted(stop, leadership.signal);
          if (leadership.signal.aborted && !stop.aborted) throw new CoordError(`leadership lost: ${(leadership.signal.reason as Error).message}`);
        } finally {
          await leadership.resign();
        }
      });
    });
}
