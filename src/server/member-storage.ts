// A member's two stores, opened together at start-up (docs/storage.md):
//
//   <data-dir>/wal     the write-ahead log: the protocol core's durable writes
//                      (entries, hard state, promises), and snapshot *markers*
//   <data-dir>/state   LMDB: the key-value state and the applied index
//
// Start-up opens the WAL (cutting a torn tail, refusing corruption), then
// LMDB, and rebuilds the in-memory index from LMDB; the log then re-delivers
// only committed entries after LMDB's applied index. The log may forget
// entries only up to a snapshot whose state LMDB holds durably
// (persistAndCompact with `state`), and it keeps a marker, not the state.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { kvSnapshotTextCodec } from '../kv/codec.js';
import { isSnapshotMarker, snapshotMarker, type KvLogSnapshot } from '../kv/snapshot.js';
import { KvStateMachine } from '../kv/state-machine.js';
import type { SnapshotCodec } from '../raft/options.js';
import { DurableLog } from '../storage/durable-log.js';
import { LmdbBackend } from '../storage/lmdb-backend.js';
import { Wal } from '../storage/wal.js';
import { persistAndCompact, StateBehindLogError, type DurableFold, type DurableState } from './durable-fold.js';

export interface MemberStorage {
  readonly durable: DurableLog<unknown>;
  /** The protocol core's writes that survived, in order. */
  readonly recovered: unknown[];
  readonly backend: LmdbBackend;
  /** The state machine over LMDB, at LMDB's applied index. */
  readonly sm: KvStateMachine;
  /** Makes a batch of core writes durable: snapshots as markers once LMDB holds them, then compaction. */
  persist(fold: DurableFold<unknown>, writes: readonly unknown[]): Promise<void>;
  /** The snapshot to send a lagging follower: the state machine's own in place of a marker. */
  materialize(held: KvLogSnapshot): KvLogSnapshot;
  /** Refuses to start when the log's snapshot stands for state LMDB does not hold. */
  checkRecovered(fold: DurableFold<unknown>): void;
  close(): Promise<void>;
}

/** Raft's text codec for the log's snapshots; markers are materialized before they get here. */
export const memberSnapshotCodec: SnapshotCodec<KvLogSnapshot> = {
  encode(s) {
    if (isSnapshotMarker(s)) throw new Error(`synod: a snapshot marker (index ${s.index}) was about to be sent; it must be materialized first`);
    return kvSnapshotTextCodec.encode(s);
  },
  decode: (text) => kvSnapshotTextCodec.decode(text),
};

export async function openMemberStorage(dataDir: string, logger: Logger): Promise<MemberStorage> {
  await mkdir(dataDir, { recursive: true });
  // The WAL first: its directory lock keeps a second process off both stores.
  const opened = await Wal.open(join(dataDir, 'wal'));
  if (opened.report.tornTail !== null) logger.warn({ tornTail: opened.report.tornTail }, 'write-ahead log had a torn tail (a write cut short by a crash); truncated it');
  let backend: LmdbBackend;
  let recovered: { log: DurableLog<unknown>; recovered: unknown[] };
  try {
    // The core's writes hold only plain data (commands travel encoded): the plain encoding (durable-log.ts).
    recovered = DurableLog.recover<unknown>(opened, { plainData: true });
    backend = LmdbBackend.open(join(dataDir, 'state'));
  } catch (e) {
    await opened.log.close();
    throw e;
  }
  const t0 = performance.now();
  // The hash chain over applied commands serves the simulator's state-machine-safety check; a member skips it.
  const sm = new KvStateMachine({ backend, fingerprint: false });
  logger.info({ appliedIndex: sm.appliedIndex, revision: sm.revision, keys: sm.keyCount, loadMs: Math.round(performance.now() - t0) }, 'state store opened');
  const durable = recovered.log;
  const state: DurableState = { flush: () => backend.flush(), marker: snapshotMarker };
  return {
    durable,
    recovered: recovered.recovered,
    backend,
    sm,
    persist: (fold, writes) => persistAndCompact(durable, fold, writes, logger, state),
    materialize: (held) => (isSnapshotMarker(held) ? sm.snapshot() : held),
    checkRecovered: (fold) => checkRecovered(fold, recovered.recovered, sm.appliedIndex),
    close: async () => {
      await durable.close();
      await backend.close();
    },
  };
}

function checkRecovered(fold: DurableFold<unknown>, writes: readonly unknown[], applied: number): void {
  if (writes.length === 0 && applied > 0) {
    // A new log would number different entries from 1: the stored state would skip them.
    throw new StateBehindLogError(`the state store (LMDB) holds state through index ${applied} but the write-ahead log is empty: the log was lost or replaced. Restore this member from a snapshot (synod snapshot restore) or remove it and add it back empty`);
  }
  // Recovery starts from the last snapshot write.
  const last = writes.findLast((w) => fold.snapshotIndex(w) !== null);
  if (last === undefined) return;
  const index = fold.snapshotIndex(last) as number;
  const data = fold.snapshotData(last) as KvLogSnapshot | undefined;
  if (index > applied && data !== undefined && isSnapshotMarker(data)) {
      throw new StateBehindLogError(`the write-ahead log's snapshot at index ${index} stands for state kept in the state store (LMDB), but the store holds only index ${applied}: the state store was lost or replaced. Restore this member from a snapshot (synod snapshot restore) or remove it and add it back empty`);
  }
}
