// An LMDB-backed state store: the key-value server keeps its MVCC state here,
// so start-up reads a B-tree instead of replaying history. Each `apply` writes
// a batch of mutations and the log index they bring the state up to in ONE
// LMDB transaction, and resolves only once it is flushed to disk. After a
// crash the store therefore holds exactly the state as of `appliedIndex`, and
// the host replays committed entries after that index, never twice.
//
// Why LMDB and not better-sqlite3: docs/storage.md.

import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';

export type StateKey = Uint8Array | string;

export type Mutation<V> =
  | { readonly type: 'put'; readonly key: StateKey; readonly value: V }
  | { readonly type: 'delete'; readonly key: StateKey };

export interface StateStoreOptions {
  /** Most mutations in one apply (default 100,000). */
  readonly maxBatchMutations?: number;
  /** LMDB map size in bytes: the store's maximum size (default 4 GiB; sparse, costs nothing until used). */
  readonly mapSizeBytes?: number;
}

/** LMDB's default limit on key length. */
export const MAX_KEY_BYTES = 1978;
const APPLIED = 'appliedIndex';

export class StateStore<V> {
  private readonly maxBatch: number;
  private applied: number;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly env: RootDatabase,
    private readonly data: Database<V, Buffer>,
    private readonly meta: Database<number, string>,
    options: StateStoreOptions,
  ) {
    this.maxBatch = options.maxBatchMutations ?? 100_000;
    this.applied = meta.get(APPLIED) ?? 0;
  }

  static open<V>(path: string, options: StateStoreOptions = {}): StateStore<V> {
    const env = open({ path, maxDbs: 4, mapSize: options.mapSizeBytes ?? 4 * 1024 ** 3, compression: false });
    const data = env.openDB<V, Buffer>({ name: 'data', keyEncoding: 'binary' });
    const meta = env.openDB<number, string>({ name: 'meta' });
    return new StateStore<V>(env, data, meta, options);
  }

  /** The log index the stored state reflects; 0 for an empty store. */
  get appliedIndex(): number {
    return this.applied;
  }

  get(key: StateKey): V | undefined {
    return this.data.get(toKey(key));
  }

  /** Entries with start <= key < end in byte order (end omitted: to the last key). */
  *range(start: StateKey, end?: StateKey): Generator<{ key: Buffer; value: V }> {
    const opts = end === undefined ? { start: toKey(start) } : { start: toKey(start), end: toKey(end) };
    for (const { key, value } of this.data.getRange(opts)) yield { key, value };
  }

  /**
   * Applies `mutations` and sets the applied index, atomically and durably.
   * `appliedIndex` must be greater than the current one.
   */
  apply(appliedIndex: number, mutations: readonly Mutation<V>[]): Promise<void> {
    this.checkBatch(appliedIndex, mutations.length);
    const keys = mutations.map((m) => toKey(m.key));
    this.applied = appliedIndex;
    return this.commit(() => {
      mutations.forEach((m, i) => {
        if (m.type === 'put') void this.data.put(keys[i]!, m.value);
        else void this.data.remove(keys[i]!);
      });
      void this.meta.put(APPLIED, appliedIndex);
    });
  }

  /** Replaces the whole state (installing a snapshot), atomically and durably. */
  replaceAll(appliedIndex: number, entries: readonly (readonly [StateKey, V])[]): Promise<void> {
    this.checkBatch(appliedIndex, entries.length, true);
    const keys = entries.map(([k]) => toKey(k));
    this.applied = appliedIndex;
    return this.commit(() => {
      this.data.clearSync();
      entries.forEach(([, v], i) => void this.data.put(keys[i]!, v));
      void this.meta.put(APPLIED, appliedIndex);
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.env.close();
  }

  private checkBatch(appliedIndex: number, count: number, anyIndex = false): void {
    if (!Number.isSafeInteger(appliedIndex) || appliedIndex < 0) throw new RangeError(`appliedIndex must be a non-negative safe integer, got ${appliedIndex}`);
    if (!anyIndex && appliedIndex <= this.applied) {
      throw new RangeError(`appliedIndex ${appliedIndex} does not advance past the stored ${this.applied}: entries would be applied twice`);
    }
    if (count > this.maxBatch) throw new RangeError(`batch of ${count} mutations exceeds the limit of ${this.maxBatch}`);
  }

  private commit(body: () => void): Promise<void> {
    // One LMDB transaction; then wait for the flush, since by default lmdb-js
    // resolves at commit and syncs to disk after (its "overlapping sync").
    const done = this.env.transaction(body).then(() => this.env.flushed).then(() => undefined);
    this.chain = done.catch(() => undefined);
    return done;
  }
}

function toKey(key: StateKey): Buffer {
  const b = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (b.length === 0) throw new RangeError('state keys may not be empty');
  if (b.length > MAX_KEY_BYTES) throw new RangeError(`state key of ${b.length} bytes exceeds LMDB's limit of ${MAX_KEY_BYTES} bytes`);
  return b;
}
