// The acceptance test, with real processes: lock holders in separate
// Node processes (lock-worker.ts) contend for one lock on a real cluster.
// 1. The holder is killed with SIGKILL while holding; the waiter acquires once
//    the lease expires.
// 2. The new holder is then paused between its check and its write (a
//    stop-the-world pause, as a long GC) past its TTL; a third process
//    acquires; the paused one resumes believing it holds and writes with its
//    stale token; the fence refuses it. (SIGSTOP/SIGCONT would pause it too,
//    but on resuming the process may see the deletion of its key before its
//    timers run, and then it never attempts the stale write.)
// Afterwards the store's own history (a watch replayed from revision 1) is
// checked: accepted writes carry non-decreasing tokens, each was made while
// its token's key existed, hold intervals do not overlap, every write a worker
// saw accepted is in the history and no refused one is.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient, prefixRange } from '../../src/server/client.js';
import { BACKENDS, until, type Backend } from './backends.js';

const WORKER = fileURLToPath(new URL('./lock-worker.js', import.meta.url));
const TTL_SECONDS = 2;

class Worker {
  readonly lines: string[] = [];
  readonly proc: ChildProcess;
  constructor(readonly name: string, endpoints: string[], resumeFile: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, SYNOD_COORD_WORKER: JSON.stringify({ endpoints, lock: 'lp/lock', resource: 'lp/res', name, ttlSeconds: TTL_SECONDS, resumeFile }) };
    delete env['NODE_TEST_CONTEXT'];
    this.proc = spawn(process.execPath, [WORKER], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on('line', (l) => this.lines.push(l));
  }
  /** Tokens this worker acquired, in order. */
  get tokens(): number[] {
    return this.lines.flatMap((l) => /^acquired (\d+)/.exec(l)?.[1] ?? []).map(Number);
  }
  okWrites(token?: number): number {
    return this.lines.filter((l) => l.startsWith(`write ${token ?? ''}`) && l.includes(' ok ')).length;
  }
  signal(s: NodeJS.Signals): void {
    this.proc.kill(s);
  }
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGCONT');
    this.proc.kill('SIGKILL');
    await gone;
  }
}

interface Hold { key: string; token: number; deleted: number }
interface Write { revision: number; name: string; token: number; n: number }
interface WatchRes { canceled: boolean; cancel_reason: string; events: { type: string; kv: { key: Buffer; value: Buffer; create_revision: string; mod_revision: string } }[] }

/** The history of `lp/`, replayed by a watch from revision 1 up to a sentinel written last. */
async function history(client: EtcdClient): Promise<{ holds: Hold[]; writes: Write[] }> {
  await client.call('KV', 'Put', { key: Buffer.from('lp/~end'), value: Buffer.from('x') });
  const live = new Map<string, Hold>();
  const holds: Hold[] = [];
  const writes: Write[] = [];
  const stream = client.stream('Watch', 'Watch');
  await new Promise<void>((resolve, reject) => {
    stream.on('error', (e: Error & { code?: number }) => (e.code === 1 ? resolve() : reject(e)));
    stream.on('data', (res: WatchRes) => {
      if (res.canceled) reject(new Error(`watch canceled: ${res.cancel_reason}`));
      for (const e of res.events) {
        const key = e.kv.key.toString();
        const rev = Number(e.kv.mod_revision);
        if (key === 'lp/~end') return void stream.cancel();
        if (key.startsWith('lp/lock/')) {
          const h = live.get(key);
          if (e.type === 'DELETE' && h !== undefined) {
            h.deleted = rev;
            live.delete(key);
          } else if (e.type !== 'DELETE' && h === undefined) {
            const hold = { key, token: Number(e.kv.create_revision), deleted: Infinity };
            live.set(key, hold);
            holds.push(hold);
          }
        } else if (key === 'lp/res' && e.type !== 'DELETE') {
          const [name, token, n] = e.kv.value.toString().split(' ');
          writes.push({ revision: rev, name: name as string, token: Number(token), n: Number(n) });
        }
      }
    });
    const r = prefixRange(Buffer.from('lp/'));
    stream.write({ create_request: { key: r.key, range_end: r.end, start_revision: '1' } });
  });
  return { holds, writes };
}

/** Acquired revisions reported by the workers, by token. */
function acquisitions(workers: readonly Worker[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const w of workers) for (const l of w.lines) {
    const a = /^acquired (\d+) (\d+)$/.exec(l);
    if (a) m.set(Number(a[1]), Number(a[2]));
  }
  return m;
}

function checkHistory(holds: readonly Hold[], writes: readonly Write[], workers: readonly Worker[]): void {
  const byToken = new Map(holds.map((h) => [h.token, h]));
  // Tokens of accepted writes never go down.
  for (let i = 1; i < writes.length; i++) {
    const [prev, cur] = [writes[i - 1] as Write, writes[i] as Write];
    assert.ok(cur.token >= prev.token, `write at ${cur.revision} with token ${cur.token} after one with token ${prev.token}`);
  }
  // Each accepted write was made while its token's key existed.
  for (const w of writes) {
    const h = byToken.get(w.token);
    assert.ok(h !== undefined && w.revision > h.token && w.revision < h.deleted, `write at ${w.revision} (token ${w.token}) outside its hold ${JSON.stringify(h)}`);
  }
  // Holds do not overlap: each holder was confirmed by a read at a revision
  // that already included the deletion of the previous holder's key.
  const acquired = acquisitions(workers);
  const tokens = [...acquired.keys()].sort((a, b) => a - b);
  for (let i = 1; i < tokens.length; i++) {
    const prev = byToken.get(tokens[i - 1] as number) as Hold;
    assert.ok((acquired.get(tokens[i] as number) as number) >= prev.deleted, `token ${tokens[i]} acquired at ${acquired.get(tokens[i] as number)} before token ${prev.token}'s key was deleted at ${prev.deleted}`);
  }
  // Workers' view matches the store: accepted writes are there, refused ones are not.
  const stored = new Set(writes.map((w) => `${w.name} ${w.token} ${w.n}`));
  for (const wk of workers) for (const l of wk.lines) {
    const m = /^write (\d+) (\d+) (ok|refused)/.exec(l);
    if (m) assert.equal(stored.has(`${wk.name} ${m[1]} ${m[2]}`), m[3] === 'ok', `${wk.name}: ${l}`);
  }
}

for (const b of BACKENDS) describe(`lock holders in separate processes on ${b.name}`, { skip: b.skip }, () => {
  let backend: Backend;
  let client: EtcdClient;
  before(async () => {
    backend = await b.start();
    client = new EtcdClient({ endpoints: backend.endpoints });
  });
  after(async () => {
    client.close();
    await backend.stop();
  });

  test('holder killed with SIGKILL, then a holder paused past its TTL: never two valid holders, the stale write refused', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-coord-'));
    const resumeFile = join(dir, 'resume');
    const workers = [new Worker('a', backend.endpoints, resumeFile), new Worker('b', backend.endpoints, resumeFile)];
    let paused: Worker | undefined;
    let t2 = 0;
    try {
      await until('a first holder', () => workers.some((w) => w.tokens.length > 0));
      const first = workers.find((w) => w.tokens.length > 0) as Worker;
      const second = workers.find((w) => w !== first) as Worker;
      paused = second;
      const t1 = first.tokens[0] as number;
      await until('the first holder to write', () => first.okWrites(t1) >= 5);
      first.signal('SIGKILL');
      await until('the waiter to acquire after the lease expires', () => second.tokens.length > 0, 20_000);
      t2 = second.tokens[0] as number;
      assert.ok(t2 > t1, `token ${t2} not above ${t1}`);
      await until('the second holder to write', () => second.okWrites(t2) >= 5);

      const third = new Worker('c', backend.endpoints, resumeFile);
      workers.push(third);
      await until('the third worker to queue', async () => (await client.call('KV', 'Range', { ...rangeOf('lp/lock/'), count_only: true })).count === '2');
      second.signal('SIGUSR2');
      await until('the second holder to pause', () => second.lines.includes(`pausing ${t2}`));
      await until('the third to acquire while the second is paused', () => third.tokens.length > 0, 20_000);
      const t3 = third.tokens[0] as number;
      assert.ok(t3 > t2);
      await until('the third holder to write', () => third.okWrites(t3) >= 5);
      writeFileSync(resumeFile, '');
      await until('the resumed holder to be refused', () => second.lines.some((l) => l.startsWith(`write ${t2} `) && l.includes('refused')));
      await until('the resumed holder to be told it lost', () => second.lines.includes(`lost ${t2}`));
      await until('the third holder to keep writing', () => third.okWrites(t3) >= 10);
    } finally {
      await Promise.all(workers.map((w) => w.kill()));
      rmSync(dir, { recursive: true, force: true });
    }
    const { holds, writes } = await history(client);
    checkHistory(holds, writes, workers);
    assert.ok(writes.length >= 20, `only ${writes.length} accepted writes`);
    // The write right after the pause carried the stale token and was refused.
    const afterPause = paused.lines.slice(paused.lines.indexOf(`pausing ${t2}`) + 1).find((l) => l.startsWith('write '));
    assert.match(afterPause ?? '', new RegExp(`^write ${t2} \\d+ refused`));
  });
});

const rangeOf = (prefix: string): { key: Buffer; range_end: Buffer } => {
  const r = prefixRange(Buffer.from(prefix));
  return { key: r.key, range_end: r.end };
};
