// The LMDB backend of the key-value state machine: the same results and state
// as the in-memory backend (a property test over random etcd requests, with
// reopening in between), reads of batches LMDB has not committed yet, snapshot
// installs, and atomicity of the applied index with the state when the
// process is killed mid-apply.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import type { KvCommand, KvWriteOp } from '../../src/kv/command.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { LmdbBackend, StateStoreError } from '../../src/storage/lmdb-backend.js';
import { encodeState } from '../../src/storage/lmdb-records.js';
import { writeOp } from '../kv/arbitraries.js';

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-lmdb-backend-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Byte arrays as plain Uint8Arrays (msgpack decodes them as Buffers), for deep comparison. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const SESSIONS = { maxSessions: 3, maxResultsPerSession: 2 } as const;
const smOver = (backend: LmdbBackend | undefined): KvStateMachine => new KvStateMachine({ ...(backend ? { backend } : {}), sessions: SESSIONS });

/** Deterministic commands: etcd writes from a few clients, some retried, some null entries. */
function commands(seed: number, n: number): (KvCommand | null)[] {
  const rng = new Prng(seed);
  const seqs = [0, 0, 0, 0, 0];
  const out: (KvCommand | null)[] = [];
  const ops = fc.sample(writeOp, { numRuns: n, seed });
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.1)) {
      out.push(null);
      continue;
    }
    const c = rng.int(0, seqs.length - 1);
    // Now and then a retry of an earlier seq (answered from the session, or refused as stale).
    const retry = rng.chance(0.15) && (seqs[c] as number) > 0;
    const seq = retry ? rng.int(1, seqs[c] as number) : (seqs[c] = (seqs[c] as number) + 1);
    out.push({ client: ClientId(`client-${c}`), seq, op: ops[i] as KvWriteOp });
  }
  return out;
}

function snap(sm: KvStateMachine): unknown {
  return plain(sm.snapshot());
}

// Child mode: apply a seeded workload over LMDB, a few entries per event-loop turn, until killed.
if (process.env['SYNOD_LMDB_BACKEND_CHILD'] !== undefined) {
  const backend = LmdbBackend.open(process.env['SYNOD_LMDB_BACKEND_CHILD']);
  const sm = smOver(backend);
  const cmds = commands(Number(process.env['SYNOD_LMDB_BACKEND_SEED']), 20_000);
  let i = 0;
  let told = false;
  const step = (): void => {
    for (let k = 0; k < 7 && i < cmds.length; k++, i++) sm.apply(LogIndex(i + 1), cmds[i] ?? null);
    // Told once the first 300 are stored (held batches are written every few ms), while applying goes on.
    if (i >= 300 && !told) {
      told = true;
      void backend.flush().then(() => process.stdout.write('running\n'));
    }
    if (i < cmds.length) setImmediate(step);
  };
  step();
} else {
  describe('LMDB key-value backend', () => {
    test('a fresh store is empty at applied index 0', () =>
      withDir(async (dir) => {
        const backend = LmdbBackend.open(dir);
        const sm = smOver(backend);
        assert.equal(sm.appliedIndex, 0);
        assert.equal(sm.revision, 1);
        assert.deepEqual(snap(sm), snap(smOver(undefined)));
        await backend.close();
      }));

    test('users, roles and the enabled flag are stored with the state: reopened, and through a snapshot install', () =>
      withDir(async (dir) => {
        const backend = LmdbBackend.open(dir);
        const sm = smOver(backend);
        const changes: KvCommand['op'][] = [
          { type: 'auth', change: { kind: 'user-add', name: 'root', password: 'hash', noPassword: false } },
          { type: 'auth', change: { kind: 'user-grant-role', name: 'root', role: 'root' } },
          { type: 'auth', change: { kind: 'role-add', name: 'r' } },
          { type: 'auth', change: { kind: 'role-grant-permission', name: 'r', permission: { type: 'readwrite', key: new Uint8Array([97]), rangeEnd: new Uint8Array([98]) } } },
          { type: 'auth', change: { kind: 'enable', tokenKey: 'key' } },
        ];
        changes.forEach((op, i) => sm.apply(LogIndex(i + 1), { client: ClientId('c'), seq: 0, op }));
        await backend.flush();
        await backend.close();
        const again = LmdbBackend.open(dir);
        const reopened = smOver(again);
        assert.deepEqual(plain(reopened.auth.snapshot()), plain(sm.auth.snapshot()));
        assert.ok(reopened.auth.enabled && reopened.auth.permitted('root', 'write', new Uint8Array([1])));
        // A snapshot without auth (from a cluster that never used it) clears it.
        reopened.restore(smOver(undefined).snapshot());
        assert.equal(reopened.auth.enabled, false);
        await again.flush();
        await again.close();
        const third = LmdbBackend.open(dir);
        assert.equal(smOver(third).auth.users().length, 0);
        await third.close();
      }));

    test('property: the same results and state as the in-memory backend, through commits, reopening and snapshot installs', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 20, max: 120 }), fc.array(fc.integer({ min: 0, max: 119 }), { maxLength: 4 }), async (seed, n, cuts) => {
          await withDir(async (dir) => {
            const cmds = commands(seed, n);
            const mem = smOver(undefined);
            let backend = LmdbBackend.open(dir);
            let sm = smOver(backend);
            for (let i = 0; i < n; i++) {
              const index = LogIndex(i + 1);
              assert.deepEqual(plain(sm.apply(index, cmds[i] ?? null)), plain(mem.apply(index, cmds[i] ?? null)), `entry ${index}`);
              if (!cuts.includes(i)) continue;
              // Cut points: let LMDB commit, or reopen, or install the state as a snapshot.
              switch (i % 3) {
                case 0:
                  await backend.flush();
                  break;
                case 1:
                  await backend.close();
                  backend = LmdbBackend.open(dir);
                  sm = smOver(backend);
                  break;
                default:
                  sm.restore(mem.snapshot());
              }
              assert.deepEqual(snap(sm), snap(mem), `after the cut at entry ${index}`);
            }
            assert.deepEqual(snap(sm), snap(mem), 'before commit');
            assert.equal(await backend.flush(), n);
            assert.equal(backend.pendingBatches, 0);
            assert.deepEqual(snap(sm), snap(mem), 'after commit');
            await backend.close();
            const reopened = LmdbBackend.open(dir);
            assert.equal(reopened.appliedIndex, n);
            assert.deepEqual(snap(smOver(reopened)), snap(mem), 'after reopening');
            await reopened.close();
          });
        }),
        { numRuns: 25 },
      );
    });

    test('reads see applied batches before LMDB commits them, and after', () =>
      withDir(async (dir) => {
        const backend = LmdbBackend.open(dir);
        const sm = smOver(backend);
        const put = (i: number, v: string): void => void sm.apply(LogIndex(i), { client: ClientId('c'), seq: i, op: { type: 'put', key: new Uint8Array([107]), value: new TextEncoder().encode(v) } });
        put(1, 'one');
        put(2, 'two');
        assert.ok(backend.pendingBatches > 0, 'nothing committed yet');
        assert.deepEqual(backend.get({ main: 2, sub: 0 })?.value, new TextEncoder().encode('one'));
        assert.deepEqual(backend.value({ main: 3, sub: 0 }), new TextEncoder().encode('two'));
        await backend.flush();
        assert.equal(backend.pendingBatches, 0);
        const v = backend.get({ main: 3, sub: 0 });
        assert.deepEqual(plain(v), plain({ key: 'k', main: 3, sub: 0, createRevision: 2, version: 2, lease: 0, value: new TextEncoder().encode('two'), tombstone: false }));
        assert.equal(backend.get({ main: 9, sub: 0 }), undefined);
        await backend.close();
      }));

    test('a snapshot install followed by batches in the same event-loop turn commits in order, atomically', () =>
      withDir(async (dir) => {
        const cmds = commands(7, 60);
        const mem = smOver(undefined);
        cmds.slice(0, 40).forEach((c, i) => mem.apply(LogIndex(i + 1), c));
        const backend = LmdbBackend.open(dir);
        const sm = smOver(backend);
        cmds.slice(0, 10).forEach((c, i) => sm.apply(LogIndex(i + 1), c));
        await backend.flush();
        sm.restore(mem.snapshot());
        cmds.slice(40).forEach((c, i) => {
          sm.apply(LogIndex(41 + i), c);
          mem.apply(LogIndex(41 + i), c);
        });
        await backend.close();
        const reopened = LmdbBackend.open(dir);
        assert.deepEqual(snap(smOver(reopened)), snap(mem));
        await reopened.close();
      }));

    test('applied batches are held, then written together within writeDelayMs without a flush', () =>
      withDir(async (dir) => {
        const backend = LmdbBackend.open(dir, { writeDelayMs: 30 });
        const sm = smOver(backend);
        commands(11, 40).forEach((c, i) => sm.apply(LogIndex(i + 1), c));
        assert.equal(backend.pendingBatches, 40, 'nothing is committed in the turn that applied them');
        const t0 = Date.now();
        while (backend.pendingBatches > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
        assert.equal(backend.pendingBatches, 0, 'written and committed without flush()');
        const mem = smOver(undefined);
        commands(11, 40).forEach((c, i) => mem.apply(LogIndex(i + 1), c));
        assert.deepEqual(snap(smOver(backend)), snap(mem));
        await backend.close();
      }));

    test('session changes held together are written once per client: one header, only the results kept', () =>
      withDir(async (dir) => {
        const backend = LmdbBackend.open(dir, { writeDelayMs: 10_000 });
        const sm = new KvStateMachine({ backend, sessions: { maxSessions: 8, maxResultsPerSession: 4 } });
        const writes = { headers: 0, results: 0, removed: 0 };
        const dbs = backend as unknown as Record<'sessions' | 'results', { put: (...a: unknown[]) => Promise<unknown>; remove: (...a: unknown[]) => Promise<unknown> }>;
        const count = <K extends keyof typeof writes>(db: 'sessions' | 'results', fn: 'put' | 'remove', k: K): void => {
          const orig = dbs[db][fn].bind(dbs[db]);
          dbs[db][fn] = (...a: unknown[]) => {
            writes[k]++;
            return orig(...a);
          };
        };
        count('sessions', 'put', 'headers');
        count('results', 'put', 'results');
        count('results', 'remove', 'removed');
        const put = (i: number): void => void sm.apply(LogIndex(i), { client: ClientId('c'), seq: i, op: { type: 'put', key: new Uint8Array([107]), value: new Uint8Array([i]) } });
        for (let i = 1; i <= 50; i++) put(i);
        await backend.flush();
        // 50 entries of one client: one header, the 4 results it keeps, nothing stored to remove.
        assert.deepEqual(writes, { headers: 1, results: 4, removed: 0 });
        for (let i = 51; i <= 60; i++) put(i);
        await backend.flush();
        assert.deepEqual(writes, { headers: 2, results: 8, removed: 4 }, 'the next window removes the 4 stored results it dropped');
        await backend.close();
        const reopened = LmdbBackend.open(dir);
        const mem = new KvStateMachine({ sessions: { maxSessions: 8, maxResultsPerSession: 4 } });
        for (let i = 1; i <= 60; i++) mem.apply(LogIndex(i), { client: ClientId('c'), seq: i, op: { type: 'put', key: new Uint8Array([107]), value: new Uint8Array([i]) } });
        assert.deepEqual(snap(new KvStateMachine({ backend: reopened, sessions: { maxSessions: 8, maxResultsPerSession: 4 } })), snap(mem));
        await reopened.close();
      }));

    test('a store of another layout version is refused with a clear error', () =>
      withDir(async (dir) => {
        const { open } = await import('lmdb');
        const env = open({ path: dir, maxDbs: 8 });
        await env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }).put('state', encodeState({ format: 99, seq: 1, meta: { appliedIndex: 1, revision: 1, compactRevision: 0, chain: '' } }));
        await env.close();
        assert.throws(() => LmdbBackend.open(dir), (e: unknown) => e instanceof StateStoreError && /layout version 99/.test(e.message));
      }));

    test('kill -9 mid-apply: the stored applied index and the stored state always agree', { timeout: 120_000 }, () =>
      withDir(async (dir) => {
        const seed = 4242;
        const script = fileURLToPath(import.meta.url);
        for (let round = 0; round < 3; round++) {
          const child = spawn(process.execPath, [script], { env: { ...process.env, SYNOD_LMDB_BACKEND_CHILD: dir, SYNOD_LMDB_BACKEND_SEED: String(seed) }, stdio: ['ignore', 'pipe', 'inherit'] });
          await new Promise<void>((resolve, reject) => {
            child.stdout.once('data', () => resolve());
            child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was applying`)));
          });
          await new Promise((r) => setTimeout(r, 50 + round * 120));
          await new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          });
          const backend = LmdbBackend.open(dir);
          const sm = smOver(backend);
          const applied = sm.appliedIndex;
          assert.ok(applied >= 300, `the child applied ${applied} entries before the kill`);
          // The same entries applied in memory give exactly the stored state: nothing half-applied, nothing twice.
          const mem = smOver(undefined);
          commands(seed, applied).forEach((c, i) => mem.apply(LogIndex(i + 1), c));
          assert.deepEqual(snap(sm), snap(mem), `state at applied index ${applied}`);
          await backend.close();
          // The next child starts from an empty directory again (it always replays from entry 1).
          await rm(dir, { recursive: true, force: true });
        }
      }));
  });
}
