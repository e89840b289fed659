// `synod node`: run one member, with etcd's flag names.

import type { Command } from 'commander';
import { ConfigError, resolveConfig, type MemberFlags } from '../server/config.js';
import { startMember } from '../server/member.js';
import { createLogger } from '../server/logger.js';
import { CorruptionError } from '../storage/errors.js';
import { UsageError, EXIT_VERDICT } from './errors.js';

export function register(program: Command): void {
  program
    .command('node')
    .description('run one member of a synod cluster (etcd-compatible flags)')
    .option('--name <name>', 'human-readable name of this member', 'default')
    .option('--data-dir <dir>', 'where this member keeps its data (default: NAME.synod)')
    .option('--listen-client-urls <urls>', 'URLs to serve the etcd v3 gRPC API on', 'http://localhost:2379')
    .option('--advertise-client-urls <urls>', "this member's client URLs as told to others (default: the listen URLs)")
    .option('--listen-peer-urls <urls>', 'URLs to listen on for other members', 'http://localhost:2380')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs as told to others (default: the listen URLs)")
    .option('--initial-cluster <list>', 'every member of the new cluster: NAME=PEER_URL,...')
    .option('--initial-cluster-state <state>', 'new, or existing to join a running cluster', 'new')
    .option('--initial-cluster-token <token>', 'distinguishes clusters that share hosts', 'synod-cluster')
    .option('--protocol <name>', 'raft or multipaxos', 'raft')
    .option('--listen-metrics-urls <urls>', 'URLs to serve /metrics and /health on')
    .option('--metrics-port <port>', 'serve /metrics and /health on 127.0.0.1:PORT')
    .option('--heartbeat-interval <ms>', 'milliseconds per protocol tick (heartbeats go every tick)', '100')
    .option('--election-timeout <ms>', 'milliseconds without a leader before an election', '1000')
    .option('--snapshot-count <n>', 'entries applied between snapshots (the log is compacted at each)', '10000')
    .option('--auto-compaction-mode <mode>', "periodic or revision: how --auto-compaction-retention is read", 'periodic')
    .option('--auto-compaction-retention <value>', 'history kept by auto-compaction: hours or a duration (periodic, e.g. 1, 30m), or revisions (revision); 0: off', '0')
    .option('--auto-compaction-interval <duration>', 'how often revision-mode auto-compaction checks (synod\'s own flag)', '5m')
    .option('--cert-file <path>', 'certificate (PEM) for https:// client URLs')
    .option('--key-file <path>', 'private key (PEM) of --cert-file')
    .option('--trusted-ca-file <path>', 'CA (PEM) that client certificates must chain to, with --client-cert-auth')
    .option('--client-cert-auth', 'require a client certificate signed by --trusted-ca-file on https:// client URLs')
    .option('--peer-cert-file <path>', 'certificate (PEM) for https:// peer URLs (TLS between members)')
    .option('--peer-key-file <path>', 'private key (PEM) of --peer-cert-file')
    .option('--peer-trusted-ca-file <path>', 'CA (PEM) that other members\' certificates must chain to')
    .option('--peer-client-cert-auth', 'members dialling this one must present a certificate signed by --peer-trusted-ca-file')
    .option('--max-learners <n>', 'learner members the cluster may have at once', '1')
    .option('--auth-token-ttl <seconds>', 'how long an auth token (from Authenticate) stays valid', '300')
    .option('--grpc-keepalive-min-time <duration>', 'least time between client pings while streams are open (closer pings, three times over, end the connection)', '5s')
    .option('--grpc-keepalive-interval <duration>', 'ping a client silent this long', '2h')
    .option('--grpc-keepalive-timeout <duration>', 'close a connection whose client does not answer a ping this long', '20s')
    .option('--strict-reconfig-check <bool>', 'refuse a membership change that would leave the voters without a quorum the leader reaches (true or false)', 'true')
    .action(async (flags: MemberFlags & { snapshotCount: string }) => {
      let cfg;
      try {
        cfg = resolveConfig(flags);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
      const snapshotEveryEntries = Number(flags.snapshotCount);
      if (!Number.isInteger(snapshotEveryEntries) || snapshotEveryEntries < 1) throw new UsageError(`--snapshot-count must be a positive whole number, got '${flags.snapshotCount}'`);
      const logger = createLogger(cfg.name);
      let member;
      // A member removed from the cluster stops by itself; the command then ends (status 0).
      let removed = (): void => undefined;
      const whenRemoved = new Promise<void>((r) => (removed = r));
      try {
        member = await startMember(cfg, logger, { snapshotEveryEntries, onRemoved: () => removed() });
      } catch (err) {
        const e = err as Error & { code?: string };
        if (err instanceof CorruptionError) {
          logger.fatal({ err: e.message }, 'refusing to start: the write-ahead log is corrupt');
        } else if (e.code === 'EADDRINUSE') {
          logger.fatal({ err: e.message }, 'refusing to start: an address is already in use (is another member running?)');
        } else {
          logger.fatal({ err: e.message }, 'cannot start');
        }
        logger.flush();
        process.exitCode = EXIT_VERDICT;
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void member.stop().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Started by `synod start` (which gives its members an IPC channel): stop when that
        // process is gone, even if it was killed outright and could not stop its members.
        if (process.channel !== undefined) {
          process.channel.unref();
          process.once('disconnect', stop);
        }
        void whenRemoved.then(() => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        });
      });
    });
}
