// gRPC's standard health service beside etcd's API (src/server/health.ts),
// through a @grpc/grpc-js client built from proto/grpc/health/v1/health.proto:
// Check and Watch follow the member's health; unknown services are answered
// as the health-checking protocol says.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../../src/server/grpc/index.js';
import { healthHandlers } from '../../../src/server/health.js';
import { startServer, type Running } from './helpers.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function healthClient(address: string): Any {
  const def = protoLoader.loadSync('grpc/health/v1/health.proto', { includeDirs: [protoDir()], enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as Any;
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}

describe('grpc.health.v1.Health', () => {
  let healthy = true;
  let run: Running;
  let c: Any;
  before(async () => {
    run = await startServer(healthHandlers({ healthy: () => healthy, pollMs: 20 }));
    c = healthClient(run.address);
  });
  after(async () => {
    c.close();
    await run.server.close();
  });
  const check = (service: string): Promise<{ err: grpc.ServiceError | null; res: Any }> =>
    new Promise((resolve) => c.Check({ service }, (err: grpc.ServiceError | null, res: Any) => resolve({ err, res })));

  test('Check: the server and its services follow the member; an unknown service is NOT_FOUND', async () => {
    healthy = true;
    assert.equal((await check('')).res.status, 'SERVING');
    assert.equal((await check('etcdserverpb.KV')).res.status, 'SERVING');
    assert.equal((await check('grpc.health.v1.Health')).res.status, 'SERVING');
    healthy = false;
    assert.equal((await check('')).res.status, 'NOT_SERVING');
    const unknown = await check('no.such.Service');
    assert.equal(unknown.err?.code, grpc.status.NOT_FOUND);
    healthy = true;
  });

  test('Watch: the status now, then each change; an unknown service gets SERVICE_UNKNOWN and stays open', async () => {
    healthy = true;
    const seen: string[] = [];
    const w = c.Watch({ service: '' });
    w.on('data', (r: Any) => seen.push(r.status));
    w.on('error', () => {});
    const waitFor = async (n: number): Promise<void> => {
      for (const until = Date.now() + 3000; seen.length < n && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    };
    await waitFor(1);
    healthy = false;
    await waitFor(2);
    healthy = true;
    await waitFor(3);
    w.cancel();
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
    const u = c.Watch({ service: 'nope' });
    const first = await new Promise<Any>((resolve) => u.once('data', resolve));
    u.on('error', () => {});
    assert.equal(first.status, 'SERVICE_UNKNOWN');
    u.cancel();
  });
});
