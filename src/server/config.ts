// Member configuration for `synod node`, with etcd's flag names and meanings,
// validated up front so that a mistake is reported by name before anything starts.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeId } from '../core/ids.js';
import { AutoCompactionConfigError, parseAutoCompaction, type AutoCompaction } from './auto-compact.js';

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
  /** TLS for the client URLs (https://), from --cert-file, --key-file, --trusted-ca-file, --client-cert-auth. */
  readonly clientTls?: ClientTls;
}

/** The client port's certificate and key (PEM), and, with client-cert-auth, the CA that client certificates must chain to. */
export interface ClientTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly clientCertAuth: boolean;
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
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly trustedCaFile?: string | undefined;
  readonly clientCertAuth?: string | boolean | undefined;
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
    if (url.protocol === 'https:' && !allowHttps) throw new ConfigError(`--${flag}: '${p}' uses https: — TLS is offered on the client URLs only; peer and metrics URLs are http://`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--${flag}: '${p}' uses ${url.protocol} — expected http:// (or https:// for client URLs)`);
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
    const urls = parseUrls('initial-cluster', item.slice(eq + 1));
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
  const listenPeerUrls = parseUrls('listen-peer-urls', flags.listenPeerUrls ?? 'http://localhost:2380');
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', flags.initialAdvertisePeerUrls ?? listenPeerUrls.map((u) => u.origin).join(','));
  const listenClientUrls = parseUrls('listen-client-urls', flags.listenClientUrls ?? 'http://localhost:2379', true);
  const advertiseClientUrls = parseUrls('advertise-client-urls', flags.advertiseClientUrls ?? listenClientUrls.map((u) => u.origin).join(','), true);
  const clientTls = resolveClientTls(flags, listenClientUrls);
  const initialCluster = parseInitialCluster(flags.initialCluster ?? `${name}=${initialAdvertisePeerUrls.map((u) => u.origin).join(',')}`);
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
    ...(clientTls === undefined ? {} : { clientTls }),
  };
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`--${flag}: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * TLS for the client port, as etcd configures it: the listen URLs' scheme
 * decides (all https or all http), https needs --cert-file and --key-file,
 * and --client-cert-auth needs --trusted-ca-file.
 */
function resolveClientTls(flags: MemberFlags, listen: readonly URL[]): ClientTls | undefined {
  const https = listen.filter((u) => u.protocol === 'https:').length;
  if (https > 0 && https < listen.length) throw new ConfigError('--listen-client-urls: mix of http:// and https:// URLs; use one scheme');
  const auth = flags.clientCertAuth === true || flags.clientCertAuth === 'true';
  if (flags.clientCertAuth !== undefined && typeof flags.clientCertAuth === 'string' && !['true', 'false'].includes(flags.clientCertAuth)) {
    throw new ConfigError(`--client-cert-auth must be 'true' or 'false', got '${flags.clientCertAuth}'`);
  }
  if (https === 0) {
    if (flags.certFile !== undefined || flags.keyFile !== undefined || auth) {
      throw new ConfigError('--cert-file, --key-file and --client-cert-auth apply to https:// client URLs; --listen-client-urls are http://');
    }
    return undefined;
  }
  if (flags.certFile === undefined || flags.keyFile === undefined) {
    throw new ConfigError('https:// client URLs need --cert-file and --key-file');
  }
  if (auth && flags.trustedCaFile === undefined) throw new ConfigError('--client-cert-auth needs --trusted-ca-file (the CA client certificates must chain to)');
  return {
    cert: readPem('cert-file', flags.certFile),
    key: readPem('key-file', flags.keyFile),
    ...(flags.trustedCaFile === undefined ? {} : { ca: readPem('trusted-ca-file', flags.trustedCaFile) }),
    clientCertAuth: auth,
  };
}
