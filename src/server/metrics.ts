// Prometheus metrics and the /health endpoint, with etcd's metric names under
// the synod_ prefix, so that dashboards built for etcd read naturally.

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly hasLeader = new Gauge({ name: 'synod_server_has_leader', help: '1 when this member knows a leader, else 0', registers: [this.registry] });
  readonly isLeader = new Gauge({ name: 'synod_server_is_leader', help: '1 when this member is the leader, else 0', registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: 'synod_server_leader_changes_seen_total', help: 'Leader changes seen by this member', registers: [this.registry] });
  readonly proposalsCommitted = new Gauge({ name: 'synod_server_proposals_committed_total', help: 'Highest committed log index', registers: [this.registry] });
  readonly proposalsApplied = new Gauge({ name: 'synod_server_proposals_applied_total', help: 'Highest applied log index', registers: [this.registry] });
  readonly proposalsPending = new Gauge({ name: 'synod_server_proposals_pending', help: 'Client requests awaiting a reply', registers: [this.registry] });
  readonly proposalsFailed = new Counter({ name: 'synod_server_proposals_failed_total', help: 'Client requests answered with an error', registers: [this.registry] });
  readonly applyLag = new Gauge({ name: 'synod_server_apply_lag_entries', help: 'Committed but not yet applied entries', registers: [this.registry] });
  readonly fsyncDuration = new Histogram({
    name: 'synod_disk_wal_fsync_duration_seconds', help: 'Time to make one batch of writes durable',
    buckets: [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry],
  });
  readonly batchWrites = new Histogram({ name: 'synod_disk_wal_batch_writes', help: 'Write records per durable batch', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers: [this.registry] });
  readonly applyDuration = new Histogram({
    name: 'synod_server_apply_duration_seconds', help: 'Time to execute one effects batch after it is durable (send, apply, reply)',
    buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05], registers: [this.registry],
  });
  readonly droppedPeerMessages = new Counter({ name: 'synod_network_peer_dropped_total', help: 'Peer messages dropped because the inbox was full', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'synod_process_' });
  }
}

/** Serves GET /metrics and GET /health. `healthy` answers whether the member has a leader. */
/**
 * The plain-HTTP endpoints etcd serves: /metrics (Prometheus), /health (also
 * /livez and /readyz) and /version. Served on --listen-metrics-urls, and for
 * HTTP/1.1 requests on the client port, as etcd does.
 */
export function httpEndpoints(metrics: Metrics, healthy: () => { ok: boolean; reason: string }, version: string): RequestListener {
  return (req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('only GET\n');
      return;
    }
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
      return;
    }
    if (req.url === '/health' || req.url === '/livez' || req.url === '/readyz') {
      const h = healthy();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ health: String(h.ok), reason: h.reason }) + '\n');
      return;
    }
    if (req.url === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ etcdserver: version, etcdcluster: version }) + '\n');
      return;
    }
    res.writeHead(404).end('not found: try /metrics, /health or /version\n');
  };
}

export function serveMetrics(handler: RequestListener, host: string, port: number): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, address: server.address() as AddressInfo });
    });
  });
}
