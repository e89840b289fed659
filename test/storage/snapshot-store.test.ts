import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotStore, snapshotName } from '../../src/storage/snapshot-store.js';
import { RecordTooLargeError } from '../../src/storage/errors.js';

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-snap-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const data = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('snapshot store', () => {
  test('no snapshot in an empty or missing directory', () =>
    withDir(async (dir) => {
      assert.deepEqual(await new SnapshotStore(join(dir, 'none')).loadLatest(), { snapshot: null, skipped: [] });
    }));

  test('the newest snapshot is found; older ones beyond `keep` are removed', () =>
    withDir(async (dir) => {
      const store = new SnapshotStore(dir, { keep: 2 });
      await store.save(10, data('ten'));
      await store.save(30, data('thirty'));
      await store.save(20, data('twenty'));
      const { snapshot } = await store.loadLatest();
      assert.equal(snapshot?.index, 30);
      assert.equal(new TextDecoder().decode(snapshot?.data), 'thirty');
      assert.deepEqual((await readdir(dir)).sort(), [snapshotName(20), snapshotName(30)]);
    }));

  test('a corrupt newest snapshot is skipped and reported; the older valid one is used', () =>
    withDir(async (dir) => {
      const store = new SnapshotStore(dir);
      await store.save(1, data('old state'));
      await store.save(2, data('new state'));
      const newest = join(dir, snapshotName(2));
      const b = await readFile(newest);
      b[b.length - 1]! ^= 1;
      await writeFile(newest, b);
      const { snapshot, skipped } = await store.loadLatest();
      assert.equal(snapshot?.index, 1);
      assert.equal(skipped.length, 1);
      assert.equal(skipped[0]!.path, newest);
      assert.match(skipped[0]!.reason, /CRC-32C mismatch/);
    }));

  test('a truncated snapshot is skipped', () =>
    withDir(async (dir) => {
      const store = new SnapshotStore(dir);
      await store.save(1, data('a'));
      await store.save(2, data('bbbbbbbb'));
      await truncate(join(dir, snapshotName(2)), 26);
      assert.equal((await store.loadLatest()).snapshot?.index, 1);
    }));

  test('a leftover temporary file (crash before rename) is ignored and removed', () =>
    withDir(async (dir) => {
      const store = new SnapshotStore(dir);
      await store.save(5, data('five'));
      await writeFile(join(dir, `.${snapshotName(9)}.tmp`), data('half written'));
      assert.equal((await store.loadLatest()).snapshot?.index, 5);
      assert.deepEqual(await readdir(dir), [snapshotName(5)]);
    }));

  test('the size limit is a clear error', () =>
    withDir(async (dir) => {
      const store = new SnapshotStore(dir, { maxSnapshotBytes: 10 });
      await assert.rejects(store.save(1, new Uint8Array(11)), RecordTooLargeError);
    }));
});
