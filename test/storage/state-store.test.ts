import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StateStore, MAX_KEY_BYTES } from '../../src/storage/state-store.js';

interface Rev {
  readonly value: string;
  readonly modRevision: number;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-lmdb-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Child mode: apply one batch, then die by SIGKILL right after it is durable.
if (process.env['SYNOD_LMDB_CHILD'] !== undefined) {
  const store = StateStore.open<Rev>(process.env['SYNOD_LMDB_CHILD']);
  await store.apply(7, [
    { type: 'put', key: 'a', value: { value: 'x', modRevision: 7 } },
    { type: 'put', key: 'b', value: { value: 'y', modRevision: 7 } },
  ]);
  process.kill(process.pid, 'SIGKILL');
} else {
  describe('LMDB state store', () => {
    test('a fresh store is empty at applied index 0', () =>
      withDir(async (dir) => {
        const s = StateStore.open<Rev>(dir);
        assert.equal(s.appliedIndex, 0);
        assert.equal(s.get('k'), undefined);
        await s.close();
      }));

    test('mutations and the applied index are stored together and read back after reopening', () =>
      withDir(async (dir) => {
        const s = StateStore.open<Rev>(dir);
        await s.apply(3, [
          { type: 'put', key: 'foo', value: { value: 'bar', modRevision: 3 } },
          { type: 'put', key: new Uint8Array([0, 255]), value: { value: 'bin', modRevision: 3 } },
          { type: 'put', key: 'gone', value: { value: 'soon', modRevision: 3 } },
        ]);
        await s.apply(4, [{ type: 'delete', key: 'gone' }]);
        await s.close();
        const r = StateStore.open<Rev>(dir);
        assert.equal(r.appliedIndex, 4);
        assert.deepEqual(r.get('foo'), { value: 'bar', modRevision: 3 });
        assert.deepEqual(r.get(new Uint8Array([0, 255])), { value: 'bin', modRevision: 3 });
        assert.equal(r.get('gone'), undefined);
        await r.close();
      }));

    test('range scans in byte order with an exclusive end', () =>
      withDir(async (dir) => {
        const s = StateStore.open<number>(dir);
        await s.apply(1, ['b', 'a', 'c', 'ab', 'd'].map((k, i) => ({ type: 'put' as const, key: k, value: i })));
        assert.deepEqual([...s.range('a', 'c')].map((e) => e.key.toString()), ['a', 'ab', 'b']);
        assert.deepEqual([...s.range('c')].map((e) => e.key.toString()), ['c', 'd']);
        await s.close();
      }));

    test('an applied index that does not advance is refused (entries would apply twice)', () =>
      withDir(async (dir) => {
        const s = StateStore.open<number>(dir);
        await s.apply(5, [{ type: 'put', key: 'k', value: 1 }]);
        assert.throws(() => void s.apply(5, []), /does not advance/);
        assert.throws(() => void s.apply(2, []), RangeError);
        await s.close();
      }));

    test('replaceAll installs a snapshot: the old state is gone', () =>
      withDir(async (dir) => {
        const s = StateStore.open<number>(dir);
        await s.apply(5, [{ type: 'put', key: 'old', value: 1 }]);
        await s.replaceAll(100, [['new', 2]]);
        assert.equal(s.appliedIndex, 100);
        assert.equal(s.get('old'), undefined);
        assert.equal(s.get('new'), 2);
        await s.close();
      }));

    test('limits: empty keys, keys over LMDB\'s limit and oversized batches are clear errors', () =>
      withDir(async (dir) => {
        const s = StateStore.open<number>(dir, { maxBatchMutations: 2 });
        assert.throws(() => void s.apply(1, [{ type: 'put', key: '', value: 1 }]), /may not be empty/);
        assert.throws(() => void s.apply(1, [{ type: 'put', key: 'x'.repeat(MAX_KEY_BYTES + 1), value: 1 }]), /exceeds LMDB's limit/);
        const three = [1, 2, 3].map((i) => ({ type: 'put' as const, key: `k${i}`, value: i }));
        assert.throws(() => void s.apply(1, three), /exceeds the limit of 2/);
        assert.equal(s.appliedIndex, 0);
        await s.close();
      }));

    test('a batch acknowledged as durable survives SIGKILL of the process', () =>
      withDir(async (dir) => {
        const env: NodeJS.ProcessEnv = { ...process.env, SYNOD_LMDB_CHILD: dir };
        delete env['NODE_TEST_CONTEXT']; // the child is not a test run
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env });
        assert.equal(r.signal, 'SIGKILL', r.stderr.toString());
        const s = StateStore.open<Rev>(dir);
        assert.equal(s.appliedIndex, 7);
        assert.deepEqual(s.get('b'), { value: 'y', modRevision: 7 });
        await s.close();
      }));
  });
}
