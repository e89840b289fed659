// The embedding API with real TCP and a real write-ahead log: three replicas of
// a counter in one process.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplica, ReplicaError, type Replica, type StateMachine } from '../../src/server/replica.js';
import { freePort } from './harness.js';

type Cmd = { add: number };
class Counter implements StateMachine<Cmd, number, number> {
  value = 0;
  apply(c: Cmd): number {
    this.value += c.add;
    return this.value;
  }
  snapshot(): number {
    return this.value;
  }
  restore(s: number): void {
    this.value = s;
  }
}

let groups = 0;
async function group(protocol: 'raft' | 'multipaxos', dir: string, members?: Record<string, string>) {
  const groupToken = `test-group-${++groups}`;
  const m = members ?? { a: `127.0.0.1:${await freePort()}`, b: `127.0.0.1:${await freePort()}`, c: `127.0.0.1:${await freePort()}` };
  const counters = new Map<string, Counter>();
  const start = async (id: string): Promise<Replica<Cmd, number, number>> => {
    const c = new Counter();
    counters.set(id, c);
    return startReplica({ id, members: m, dataDir: join(dir, id), stateMachine: c, protocol, tickMs: 20, snapshotEveryEntries: 25, groupToken });
  };
  const replicas = new Map<string, Replica<Cmd, number, number>>();
  for (const id of Object.keys(m)) replicas.set(id, await start(id));
  return { members: m, counters, replicas, start };
}

for (const protocol of ['raft', 'multipaxos'] as const) {
  describe(`embedded replicas on ${protocol}`, () => {
    test('proposals from every replica apply once, in one order; a stopped replica restarts from its log and catches up', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'synod-replica-'));
      const g = await group(protocol, dir);
      try {
        const [a, b, c] = ['a', 'b', 'c'].map((id) => g.replicas.get(id) as Replica<Cmd, number, number>);
        const results = await Promise.all(Array.from({ length: 60 }, (_, i) => [a, b, c][i % 3]!.propose({ add: 1 })));
        // Every proposal saw a distinct total: each applied exactly once, in one order.
        assert.deepEqual([...results].sort((x, y) => x - y), Array.from({ length: 60 }, (_, i) => i + 1));
        assert.equal(await c!.read((sm) => (sm as Counter).value), 60);

        await c!.stop();
        for (let i = 0; i < 40; i++) await a!.propose({ add: 2 });
        const restarted = await g.start('c');
        g.replicas.set('c', restarted);
        assert.equal(await restarted.read((sm) => (sm as Counter).value), 140);
        assert.equal(g.counters.get('c')?.value, 140);
      } catch (err) {
        const states = [...g.replicas].map(([id, r]) => `${id}: ${JSON.stringify(r.status())}`).join('\n');
        throw new Error(`${(err as Error).message}\n${states}`, { cause: err });
      } finally {
        await Promise.all([...g.replicas.values()].map((r) => r.stop().catch(() => undefined)));
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('embedded replica options', () => {
  test('bad options are refused by name', async () => {
    const c = new Counter();
    await assert.rejects(startReplica({ id: 'x', members: { a: '127.0.0.1:1' }, dataDir: '/tmp/none', stateMachine: c }), (e: unknown) => e instanceof ReplicaError && /id 'x' is not one of the members/.test(e.message));
    await assert.rejects(startReplica({ id: 'a', members: { a: 'nohost' }, dataDir: join(tmpdir(), 'synod-bad-addr'), stateMachine: c }), /members\.a: 'nohost' is not host:port/);
  });
});
