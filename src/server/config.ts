// Member configuration for `synod node`, with etcd's flag names and meanings,
// validated up front so that a mistake is reported by name before anything starts.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeId } from '../core/ids.js';
import type { TlsIdentity } from '../net/tls.js';
import { AutoCompactionConfigError, parseAutoCompaction, parseDurationMs, type AutoCompaction } from './auto-compact.js';

export type ProtocolName = 'raft' | 'multipaxos';
export const PROTOCOLS: readonly ProtocolName[] = ['raft', 'multipaxos'];

export interface MemberConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly URL[];
  readonly advertiseClientUrls: readonly URL[];
  readonly listenPeerUrls: readonly URL[];
  readonly initialAdvertisePeerUrls: readonly URL[];
  /** name -> peer URLs, from --initial-cluster. */
  readonly initialCluster: ReadonlyMap<string, readonly URL[]>;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly protocol: ProtocolName;
  readonly listenMetricsUrls: readonly URL[];
  /** Milliseconds per protocol tick (etcd's --heartbeat-interval is 100 ms; elections take 10 ticks). */
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Member ids derived from the cluster token and each member's peer URLs, as etcd does. */
  readonly memberId: NodeId;
  readonly clusterId: NodeId;
  readonly members: ReadonlyMap<NodeId, { readonly name: string; readonly peerUrls: readonly URL[] }>;
  /** etcd's --auto-compaction-mode/--auto-compaction-retention; null or absent: off. */
  readonly autoCompaction?: AutoCompaction | null;
  /** etcd's --strict-reconfig-check: refuse membership changes that leave no reachable quorum (absent: true). */
  readonly strictReconfigCheck?: boolean;
  /** etcd's --max-learners: learner members at once (absent: 1). */
  readonly maxLearners?: number;
  /** etcd's --auth-token-ttl: seconds an auth token stays valid (absent: 300). */
  readonly authTokenTtlSeconds?: number;
  /** etcd's --grpc-keepalive-min-time, --grpc-keepalive-interval, --grpc-keepalive-timeout, in ms (absent: 5 s, 2 h, 20 s). */
  readonly grpcKeepalive?: { readonly minTimeMs: number; readonly intervalMs: number; readonly timeoutMs: number };
  /** TLS for the client URLs (https://), from --cert-file, --key-file, --trusted-ca-file, --client-cert-auth. */
  readonly clientTls?: TlsIdentity;
  /** TLS between members (https:// peer URLs), from --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth. */
  readonly peerTls?: TlsIdentity;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Raw flag values as the CLI parses them (strings, before validation). */
export interface MemberFlags {
  readonly name?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly listenClientUrls?: string | undefined;
  readonly advertiseClientUrls?: string | undefined;
  readonly listenPeerUrls?: string | undefined;
  readonly initialAdvertisePeerUrls?: string | undefined;
  readonly initialCluster?: string | undefined;
  readonly initialClusterState?: string | undefined;
  readonly initialClusterToken?: string | undefined;
  readonly protocol?: string | undefined;
  readonly listenMetricsUrls?: string | undefined;
  readonly metricsPort?: string | undefined;
  readonly heartbeatInterval?: string | undefined;
  readonly electionTimeout?: string | undefined;
  readonly autoCompactionMode?: string | undefined;
  readonly autoCompactionRetention?: string | undefined;
  /** synod's own: how often revision-mode auto-compaction checks (etcd: 5 minutes). */
  readonly autoCompactionInterval?: string | undefined;
  readonly strictReconfigCheck?: string | undefined;
  readonly maxLearners?: string | undefined;
  readonly authTokenTtl?: string | undefined;
  readonly grpcKeepaliveMinTime?: string | undefined;
  readonly grpcKeepaliveInterval?: string | undefined;
  readonly grpcKeepaliveTimeout?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly trustedCaFile?: string | undefined;
  readonly clientCertAuth?: string | boolean | undefined;
  readonly peerCertFile?: string | undefined;
  readonly peerKeyFile?: string | undefined;
  readonly peerTrustedCaFile?: string | undefined;
  readonly peerClientCertAuth?: string | boolean | undefined;
}

/** URLs of a list flag; `https` is allowed only where TLS is offered (the client URLs). */
export function parseUrls(flag: string, value: string, allowHttps = false): URL[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new ConfigError(`--${flag} is empty`);
  return parts.map((p) => {
    let url: URL;
    try {
      url = new URL(p);
    } catch {
      throw new ConfigError(`--${flag}: '${p}' is not a URL (expected e.g. http://127.0.0.1:2379)`);
    }
    if (url.protocol === 'https:' && !allowHttps) throw new ConfigError(`--${flag}: '${p}' uses https: — TLS is offered on client and peer URLs; metrics URLs are http://`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--${flag}: '${p}' uses ${url.protocol} — expected http:// (or https://)`);
    if (url.port === '') throw new ConfigError(`--${flag}: '${p}' has no port`);
    if (url.pathname !== '/' && url.pathname !== '') throw new ConfigError(`--${flag}: '${p}' must not have a path`);
    return url;
  });
}

export function parseInitialCluster(value: string): Map<string, URL[]> {
  const cluster = new Map<string, URL[]>();
  for (const item of value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--initial-cluster: '${item}' is not NAME=URL`);
    const name = item.slice(0, eq);
    const urls = parseUrls('initial-cluster', item.slice(eq + 1), true);
    cluster.set(name, [...(cluster.get(name) ?? []), ...urls]);
  }
  if (cluster.size === 0) throw new ConfigError('--initial-cluster is empty');
  return cluster;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`--${flag} must be a positive whole number, got '${value}'`);
  return n;
}

/** A 52-bit id (a safe integer) from a hash of the given parts. */
export function deriveId(...parts: readonly string[]): NodeId {
  const digest = createHash('sha256').update(parts.join('\n')).digest();
  const hi = digest.readUInt32BE(0) & 0xfffff;
  const lo = digest.readUInt32BE(4);
  const id = hi * 0x100000000 + lo;
  return NodeId(id === 0 ? 1 : id);
}

function sameUrls(a: readonly URL[], b: readonly URL[]): boolean {
  const norm = (u: readonly URL[]): string => u.map((x) => x.origin).sort().join(',');
  return norm(a) === norm(b);
}

export function resolveConfig(flags: MemberFlags): MemberConfig {
  const name = flags.name ?? 'default';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigError(`--name '${name}' may hold only letters, digits, '.', '_' and '-'`);
  const listenPeerUrls = parseUrls('listen-peer-urls', flags.listenPeerUrls ?? 'http://localhost:2380', true);
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', flags.initialAdvertisePeerUrls ?? listenPeerUrls.map((u) => u.origin).join(','), true);
  const listenClientUrls = parseUrls('listen-client-urls', flags.listenClientUrls ?? 'http://localhost:2379', true);
  const advertiseClientUrls = parseUrls('advertise-client-urls', flags.advertiseClientUrls ?? listenClientUrls.map((u) => u.origin).join(','), true);
  const clientTls = resolveTls(listenClientUrls, {
    urls: 'listen-client-urls', cert: 'cert-file', key: 'key-file', ca: 'trusted-ca-file', auth: 'client-cert-auth',
  }, flags.certFile, flags.keyFile, flags.trustedCaFile, flags.clientCertAuth);
  const peerTls = resolveTls(listenPeerUrls, {
    urls: 'listen-peer-urls', cert: 'peer-cert-file', key: 'peer-key-file', ca: 'peer-trusted-ca-file', auth: 'peer-client-cert-auth',
  }, flags.peerCertFile, flags.peerKeyFile, flags.peerTrustedCaFile, flags.peerClientCertAuth);
  const initialCluster = parseInitialCluster(flags.initialCluster ?? `${name}=${initialAdvertisePeerUrls.map((u) => u.origin).join(',')}`);
  // Members dial each other by address: every peer must use the scheme this member listens with.
  const peerScheme = (listenPeerUrls[0] as URL).protocol;
  for (const [memberName, urls] of initialCluster) {
    for (const u of urls) {
      if (u.protocol !== peerScheme) throw new ConfigError(`--initial-cluster: ${memberName}=${u.origin} uses ${u.protocol}// but --listen-peer-urls use ${peerScheme}//`);
    }
  }
  const own = initialCluster.get(name);
  if (own === undefined) throw new ConfigError(`--initial-cluster has no member named '${name}' (the --name of this member)`);
  if (!sameUrls(own, initialAdvertisePeerUrls)) {
    throw new ConfigError(`--initial-cluster gives ${name}=${own.map((u) => u.origin).join(',')} but --initial-advertise-peer-urls is ${initialAdvertisePeerUrls.map((u) => u.origin).join(',')}`);
  }
  const state = flags.initialClusterState ?? 'new';
  if (state !== 'new' && state !== 'existing') throw new ConfigError(`--initial-cluster-state must be 'new' or 'existing', got '${state}'`);
  const protocol = flags.protocol ?? 'raft';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got '${protocol}'`);
  const token = flags.initialClusterToken ?? 'synod-cluster';
  const strict = flags.strictReconfigCheck ?? 'true';
  if (strict !== 'true' && strict !== 'false') throw new ConfigError(`--strict-reconfig-check must be 'true' or 'false', got '${strict}'`);
  const maxLearners = positiveInt('max-learners', flags.maxLearners ?? '1');
  const authTokenTtlSeconds = positiveInt('auth-token-ttl', flags.authTokenTtl ?? '300');
  const grpcKeepalive = {
    minTimeMs: durationFlag('grpc-keepalive-min-time', flags.grpcKeepaliveMinTime ?? '5s'),
    intervalMs: durationFlag('grpc-keepalive-interval', flags.grpcKeepaliveInterval ?? '2h'),
    timeoutMs: durationFlag('grpc-keepalive-timeout', flags.grpcKeepaliveTimeout ?? '20s'),
  };
  const heartbeatMs = positiveInt('heartbeat-interval', flags.heartbeatInterval ?? '100');
  const electionMs = positiveInt('election-timeout', flags.electionTimeout ?? '1000');
  if (electionMs < 5 * heartbeatMs) throw new ConfigError(`--election-timeout (${electionMs} ms) must be at least 5 times --heartbeat-interval (${heartbeatMs} ms)`);
  let metrics: URL[] = [];
  if (flags.listenMetricsUrls !== undefined) metrics = parseUrls('listen-metrics-urls', flags.listenMetricsUrls);
  if (flags.metricsPort !== undefined) metrics.push(new URL(`http://127.0.0.1:${positiveInt('metrics-port', flags.metricsPort)}`));

  const members = new Map<NodeId, { name: string; peerUrls: readonly URL[] }>();
  for (const [memberName, urls] of initialCluster) {
    const id = deriveId(token, ...urls.map((u) => u.origin).sort());
    if (members.has(id)) throw new ConfigError(`--initial-cluster: members ${members.get(id)?.name} and ${memberName} have the same peer URLs`);
    members.set(id, { name: memberName, peerUrls: urls });
  }
  const memberId = deriveId(token, ...initialAdvertisePeerUrls.map((u) => u.origin).sort());
  let autoCompaction: AutoCompaction | null;
  try {
    autoCompaction = parseAutoCompaction(flags.autoCompactionMode, flags.autoCompactionRetention, flags.autoCompactionInterval);
  } catch (err) {
    if (err instanceof AutoCompactionConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    name,
    dataDir: flags.dataDir ?? `${name}.synod`,
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: token,
    protocol: protocol as ProtocolName,
    listenMetricsUrls: metrics,
    tickMs: heartbeatMs,
    electionTicks: Math.round(electionMs / heartbeatMs),
    memberId,
    clusterId: deriveId(token, ...[...members.keys()].sort((a, b) => a - b).map(String)),
    members,
    autoCompaction,
    strictReconfigCheck: strict === 'true',
    maxLearners,
    authTokenTtlSeconds,
    grpcKeepalive,
    ...(clientTls === undefined ? {} : { clientTls }),
    ...(peerTls === undefined ? {} : { peerTls }),
  };
}

/** A Go duration flag ("5s", "2h", "1m30s", "500ms") in milliseconds, above zero. */
function durationFlag(flag: string, value: string): number {
  const ms = parseDurationMs(value);
  if (ms === null || ms <= 0) throw new ConfigError(`--${flag} must be a duration such as 5s, 20s or 2h, got '${value}'`);
  return ms;
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`--${flag}: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

interface TlsFlagNames { readonly urls: string; readonly cert: string; readonly key: string; readonly ca: string; readonly auth: string }

/**
 * TLS for the client or the peer port, as etcd configures it: the listen
 * URLs' scheme decides (all https or all http), https needs a certificate and
 * a key, and client-cert-auth needs a trusted CA.
 */
function resolveTls(listen: readonly URL[], names: TlsFlagNames, certFile: string | undefined, keyFile: string | undefined,
  caFile: string | undefined, clientCertAuth: string | boolean | undefined): TlsIdentity | undefined {
  const https = listen.filter((u) => u.protocol === 'https:').length;
  if (https > 0 && https < listen.length) throw new ConfigError(`--${names.urls}: mix of http:// and https:// URLs; use one scheme`);
  if (typeof clientCertAuth === 'string' && !['true', 'false'].includes(clientCertAuth)) {
    throw new ConfigError(`--${names.auth} must be 'true' or 'false', got '${clientCertAuth}'`);
  }
  const auth = clientCertAuth === true || clientCertAuth === 'true';
  if (https === 0) {
    if (certFile !== undefined || keyFile !== undefined || auth) {
      throw new ConfigError(`--${names.cert}, --${names.key} and --${names.auth} apply to https:// URLs; --${names.urls} are http://`);
    }
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) throw new ConfigError(`https:// --${names.urls} need --${names.cert} and --${names.key}`);
  if (auth && caFile === undefined) throw new ConfigError(`--${names.auth} needs --${names.ca} (the CA the other side's certificates must chain to)`);
  return {
    cert: readPem(names.cert, certFile),
    key: readPem(names.key, keyFile),
    ...(caFile === undefined ? {} : { ca: readPem(names.ca, caFile) }),
    clientCertAuth: auth,
  };
}
