// A job that runs under a lock and writes its result with the fencing token,
// as in the README. Start a cluster first (npm start), then:
//   npm run build && node dist/examples/lock.js
import { EtcdClient, Lock } from '../src/index.js';

const client = new EtcdClient({ endpoints: (process.env['ENDPOINTS'] ?? '127.0.0.1:2379').split(',') });
const lock = new Lock(client, 'jobs/nightly', { ttlSeconds: 10 });
const held = await lock.acquire({ timeoutMs: 30_000 });
try {
  const w = await held.guardedPut('reports/nightly', `written under token ${held.token}`);
  if (!w.ok) throw new Error('lost the lock: nothing written');
  console.log(`wrote reports/nightly under token ${held.token}`);
} finally {
  await held.release();
  client.close();
}
