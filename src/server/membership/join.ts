// Joining a running cluster (`--initial-cluster-state existing`). The new
// member was first added with MemberAdd, so the running members know its id
// and peer URL. It cannot derive the cluster id (etcd's joiner fetches it from
// its peers, too): it takes it from the configuration in its own log when it
// has one, or else learns it from the first running member that accepts its
// connection (the TCP transport's hello carries the cluster id).

import type { Logger } from 'pino';
import { NodeId } from '../../core/ids.js';
import type { MemberConfig } from '../config.js';
import { TcpTransport } from '../../net/tcp-transport.js';
import { peerAddress } from './runtime.js';

/** How often a joining member says it is still waiting to be let in. */
const WAITING_LOG_MS = 5000;

export async function learnClusterId(cfg: MemberConfig, logger: Logger): Promise<NodeId> {
  const peers = new Map<NodeId, { host: string; port: number }>();
  for (const [id, m] of cfg.members) if (id !== cfg.memberId) peers.set(id, peerAddress((m.peerUrls[0] as URL).origin));
  if (peers.size === 0) throw new Error('--initial-cluster-state existing needs --initial-cluster to list the running members as well as this one');
  const transport = new TcpTransport<unknown>({
    id: cfg.memberId, clusterId: '', listen: peerAddress((cfg.listenPeerUrls[0] as URL).origin), peers, logger: logger.child({ part: 'join' }), plainData: true,
  });
  await transport.start();
  const started = Date.now();
  let told = started;
  try {
    while (transport.clusterId === '') {
      if (Date.now() - told >= WAITING_LOG_MS) {
        told = Date.now();
        logger.warn({ waitedMs: told - started, member: cfg.memberId.toString(16) }, 'waiting for a running member to accept this one (was `synod member add` run with its peer URLs?)');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await transport.stop();
  }
  const id = Number.parseInt(transport.clusterId, 16);
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`a peer sent cluster id '${transport.clusterId}', which is not one synod makes`);
  logger.info({ cluster: transport.clusterId }, 'joining the running cluster');
  return NodeId(id);
}
