// The storage layer: write-ahead log, durable write log for protocol cores,
// snapshots, and the LMDB state store. See docs/storage.md.
export { crc32c } from '../core/crc32c.js';
export { CorruptionError, LogClosedError, LogFailedError, QueueFullError, RecordTooLargeError } from './errors.js';
export { DirectoryLockedError } from './dir-lock.js';
export type { LogRecord, OpenedLog, RecordLog, RecordLogLimits } from './record-log.js';
export { Wal } from './wal.js';
export type { WalOptions, WalOpenReport, WalStats } from './wal.js';
export { MemoryDisk, MemoryLog } from './memory-log.js';
export { DurableLog, ReplayError } from './durable-log.js';
export type { DurableLogOptions, DurableLogStats, RecoveredLog } from './durable-log.js';
export { SnapshotStore } from './snapshot-store.js';
export type { Snapshot, SnapshotLoad, SnapshotStoreOptions } from './snapshot-store.js';
export { StateStore, MAX_KEY_BYTES } from './state-store.js';
export type { Mutation, StateKey, StateStoreOptions } from './state-store.js';
export { openDurableLog } from './open-durable-log.js';
export type { OpenedDurableLog } from './open-durable-log.js';
export { LmdbBackend, LMDB_STATE_FORMAT, StateStoreError } from './lmdb-backend.js';
export type { LmdbBackendOptions } from './lmdb-backend.js';
