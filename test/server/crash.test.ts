// Crash tests with real processes: kill -9 of the leader under a steady write
// load, kill -9 of every member at once, and storage faults at start-up.
// The rule throughout: every write a client saw acknowledged must be readable,
// and the members end with the same history (equal HashKV at one revision).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from '../../src/server/client.js';
import { TestCluster, type TestMember } from './harness.js';

/** Writers that put k/<writer>/<n> = n in a loop through every endpoint, remembering what was acknowledged. */
class WriteLoad {
  readonly acked = new Map<string, string>();
  errors = 0;
  private stopped = false;
  private readonly done: Promise<void>[] = [];

  constructor(endpoints: string[], writers: number) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer(endpoints, w));
  }

  private async writer(endpoints: string[], w: number): Promise<void> {
    // Start each writer at a different endpoint so followers forward too.
    const order = endpoints.slice(w % endpoints.length).concat(endpoints.slice(0, w % endpoints.length));
    const client = new EtcdClient({ endpoints: order, commandTimeoutMs: 2000 });
    for (let n = 0; !this.stopped; n++) {
      const key = `k/${w}/${n}`;
      try {
        await client.call('KV', 'Put', { key: Buffer.from(key), value: Buffer.from(String(n)) });
        this.acked.set(key, String(n));
      } catch {
        this.errors++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    client.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.done);
  }
}

async function readAll(endpoints: string[]): Promise<Map<string, string>> {
  const client = new EtcdClient({ endpoints, commandTimeoutMs: 5000 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await client.call('KV', 'Range', { key: Buffer.from('k/'), range_end: Buffer.from('k0') });
        return new Map((res.kvs as { key: Buffer; value: Buffer }[]).map((kv) => [kv.key.toString(), kv.value.toString()]));
      } catch (err) {
        if (attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    client.close();
  }
}

function assertNoAckedWriteLost(acked: Map<string, string>, stored: Map<string, string>): void {
  const lost = [...acked].filter(([k, v]) => stored.get(k) !== v);
  assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${acked.size} acknowledged writes are missing`);
}

async function serializableCount(m: TestMember): Promise<number> {
  const client = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
  try {
    const res = await client.call('KV', 'Range', { key: Buffer.from('k/'), range_end: Buffer.from('k0'), serializable: true, count_only: true });
    return Number(res.count);
  } finally {
    client.close();
  }
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} did not happen within ${timeoutMs} ms`);
}

/** Every member holds the same key-value history: HashKV at one revision (the lowest current one) agrees on all. */
async function assertSameHistory(members: readonly TestMember[]): Promise<void> {
  const hashAt = async (m: TestMember, rev: number): Promise<{ hash: number; rev: number }> => {
    const client = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 2000 });
    try {
      const res = await client.call('Maintenance', 'HashKV', { revision: rev });
      return { hash: Number(res.hash), rev: Number(res.hash_revision) };
    } finally {
      client.close();
    }
  };
  let rev = Infinity;
  for (const m of members) rev = Math.min(rev, (await hashAt(m, 0)).rev);
  const hashes: number[] = [];
  for (const m of members) hashes.push((await hashAt(m, rev)).hash);
  assert.equal(new Set(hashes).size, 1, `HashKV at revision ${rev} differs between members: ${hashes.join(', ')}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const protocol of ['raft', 'multipaxos']) describe(`crashes under load (${protocol})`, () => {
  test('kill -9 of the leader: writes resume on a new leader, nothing acknowledged is lost, the member catches up', async (t) => {
    const cluster = await TestCluster.start(3, protocol);
    try {
      const load = new WriteLoad(cluster.endpoints, 8);
      await sleep(1500);
      const leader = await cluster.waitForLeader();
      const before = load.acked.size;
      await cluster.kill(leader);
      const survivors = cluster.members.filter((m) => m !== leader);
      await eventually('a new leader', async () => (await cluster.waitForLeader(1000)) !== leader);
      const atNewLeader = load.acked.size;
      await eventually('writes resuming', async () => load.acked.size > atNewLeader + 50);
      cluster.launch(leader);
      await sleep(1500);
      await load.stop();
      assert.ok(before > 0, 'the load made progress before the crash');
      const stored = await readAll(survivors.map((m) => `127.0.0.1:${m.clientPort}`));
      t.diagnostic(`${load.acked.size} writes acknowledged (${before} before the crash), ${load.errors} failed tries`);
      assertNoAckedWriteLost(load.acked, stored);
      await eventually('the restarted member catching up', async () => (await serializableCount(leader)) === stored.size);
      await assertSameHistory(cluster.members);
    } finally {
      await cluster.stop();
    }
  });

  test('kill -9 of every member at once: after a restart no acknowledged write is lost', async (t) => {
    const cluster = await TestCluster.start(3, protocol);
    try {
      const load = new WriteLoad(cluster.endpoints, 8);
      await sleep(2000);
      await Promise.all(cluster.members.map((m) => cluster.kill(m)));
      await load.stop();
      assert.ok(load.acked.size > 0, 'the load made progress before the crash');
      t.diagnostic(`${load.acked.size} writes acknowledged before every member was killed`);
      for (const m of cluster.members) cluster.launch(m);
      await cluster.waitForLeader();
      assertNoAckedWriteLost(load.acked, await readAll(cluster.endpoints));
      await assertSameHistory(cluster.members);
    } finally {
      await cluster.stop();
    }
  });
});

function segments(m: TestMember): string[] {
  const dir = join(m.dataDir, 'wal');
  return readdirSync(dir).filter((f) => f.endsWith('.wal')).sort().map((f) => join(dir, f));
}

describe('storage faults at start-up', () => {
  test('a byte flipped in the middle of the log refuses start-up, naming the file and offset; a torn tail is truncated and the member rejoins', async () => {
    const cluster = await TestCluster.start(3, 'raft');
    try {
      const client = new EtcdClient({ endpoints: cluster.endpoints });
      for (let i = 0; i < 60; i++) await client.call('KV', 'Put', { key: Buffer.from(`k/${i}`), value: Buffer.alloc(100, 65 + (i % 26)) });
      client.close();
      const victim = cluster.members.find((m) => m.proc !== null) as TestMember;
      await cluster.kill(victim, 'SIGTERM');

      // Corruption in the middle: refuse to start.
      const seg = segments(victim).at(-1) as string;
      const original = readFileSync(seg);
      const flipped = Buffer.from(original);
      // Inside the records: the segment is zero-filled past the last one (src/storage/wal.ts).
      let dataEnd = flipped.length;
      while (dataEnd > 0 && flipped[dataEnd - 1] === 0) dataEnd--;
      const at = Math.floor(dataEnd / 3);
      flipped[at] = (flipped[at] as number) ^ 0xff;
      writeFileSync(seg, flipped);
      cluster.launch(victim);
      const code = await new Promise<number | null>((resolve) => victim.proc?.once('exit', (c) => resolve(c)));
      victim.proc = null;
      assert.equal(code, 1);
      assert.match(victim.output, /corrupt/i);
      assert.ok(victim.output.includes(seg.split('/').at(-1) as string), `the message names the segment file:\n${victim.output}`);
      assert.match(victim.output, /offset \d+/);

      // A torn tail: a record cut short at the end is dropped, and the member rejoins.
      writeFileSync(seg, original);
      appendFileSync(seg, Buffer.from([0x40, 0, 0, 0, 1, 2, 3]));
      const size = statSync(seg).size;
      cluster.launch(victim);
      await eventually('the member rejoining with every write', async () => (await serializableCount(victim)) === 60);
      assert.match(victim.output, /torn tail/);
      // The cut-short record is gone: what stands where it was is zero fill or new records, never its bytes.
      const after = readFileSync(seg).subarray(size - 7, size);
      assert.notDeepEqual([...after], [0x40, 0, 0, 0, 1, 2, 3]);
    } finally {
      await cluster.stop();
    }
  });
});
