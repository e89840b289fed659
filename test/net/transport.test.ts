import pino from 'pino';
import { NodeId } from '../../src/core/ids.js';
import { MemoryNetwork } from '../../src/net/memory-transport.js';
import { TcpTransport } from '../../src/net/tcp-transport.js';
import type { PeerAddress } from '../../src/net/tcp-transport.js';
import type { QueueLimits, Transport } from '../../src/net/transport.js';
import { transportConformance } from './transport-conformance.js';
import type { TestCluster } from './transport-conformance.js';

transportConformance('MemoryTransport', (ids, limits) => {
  const net = new MemoryNetwork();
  const nodes = new Map<number, Transport<unknown>>();
  const make = async (id: number): Promise<Transport<unknown>> => {
    const t = net.transport<unknown>(NodeId(id), ids.map(NodeId), limits);
    nodes.set(id, t);
    await t.start();
    return t;
  };
  return Promise.all(ids.map(make)).then(
    (): TestCluster => ({
      node: (id) => nodes.get(id)!,
      stopNode: (id) => nodes.get(id)!.stop(),
      startNode: make,
      close: async () => {
        for (const t of nodes.values()) await t.stop();
      },
    }),
  );
});

/** A TCP cluster on 127.0.0.1 with ephemeral ports, for tests. */
export async function tcpCluster(ids: readonly number[], limits: QueueLimits & { readonly plainData?: boolean }, logger = pino({ level: 'silent' })): Promise<TestCluster & { nodes: Map<number, TcpTransport<unknown>>; addrs: Map<number, PeerAddress> }> {
  const nodes = new Map<number, TcpTransport<unknown>>();
  const addrs = new Map<number, PeerAddress>();
  const create = (id: number, port: number): TcpTransport<unknown> =>
    new TcpTransport<unknown>({
      ...limits,
      id: NodeId(id),
      clusterId: 'test-cluster',
      listen: { host: '127.0.0.1', port },
      peers: new Map(ids.filter((p) => p !== id).map((p) => [NodeId(p), addrs.get(p) ?? null])),
      logger,
      backoffInitialMs: 10,
      backoffMaxMs: 100,
    });
  for (const id of ids) {
    const t = create(id, 0);
    await t.start();
    nodes.set(id, t);
    addrs.set(id, t.address());
  }
  for (const [id, t] of nodes) for (const p of ids) if (p !== id) t.setPeer(NodeId(p), addrs.get(p)!);
  return {
    nodes,
    addrs,
    node: (id) => nodes.get(id)!,
    stopNode: (id) => nodes.get(id)!.stop(),
    startNode: async (id) => {
      const t = create(id, addrs.get(id)!.port);
      await t.start();
      nodes.set(id, t);
      return t;
    },
    close: async () => {
      for (const t of nodes.values()) await t.stop();
    },
  };
}

transportConformance('TcpTransport (127.0.0.1)', (ids, limits) => tcpCluster(ids, limits));
transportConformance('TcpTransport (127.0.0.1), plain encoding', (ids, limits) => tcpCluster(ids, { ...limits, plainData: true }), 'plain');
