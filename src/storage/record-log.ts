// The interface every durable record log offers: the segment-file WAL
// (wal.ts) and the in-memory log (memory-log.ts). One conformance suite
// (test/storage/record-log-conformance.ts) runs against both.
//
// Records carry a caller-chosen type byte (1..255) and an opaque payload, and
// get consecutive sequence numbers. An append's promise resolves once the
// record, and every record before it, is durable.

export interface LogRecord {
  /** Consecutive from the log's first record; never reused. */
  readonly seq: number;
  /** 1..255, chosen by the caller. */
  readonly type: number;
  readonly payload: Uint8Array;
}

export interface RecordLog {
  readonly maxRecordBytes: number;
  /** The sequence number the next append will get. */
  readonly nextSeq: number;
  /** The lowest sequence number not yet released. */
  readonly firstSeq: number;
  /**
   * Queues a record; resolves with its sequence number once it and every earlier
   * record are durable. Rejects with RecordTooLargeError, QueueFullError,
   * LogClosedError or LogFailedError.
   */
  append(type: number, payload: Uint8Array): Promise<number>;
  /**
   * Records before `beforeSeq` are no longer needed (a snapshot or a summary
   * covers them). They are never replayed again; their space is reclaimed as
   * soon as whole segments are covered. `beforeSeq` may not exceed one past the
   * last durable record (RangeError).
   */
  release(beforeSeq: number): Promise<void>;
  /** Waits for queued appends to become durable, then closes. Rejects with the failure if the log had failed. */
  close(): Promise<void>;
  /**
   * For tests: stop as if the process died now. Appends not yet durable may be
   * lost (always a suffix); their promises reject with LogClosedError.
   */
  crash(): Promise<void>;
}

/** A log opened from storage, with the records that survived, in order. */
export interface OpenedLog<L extends RecordLog = RecordLog> {
  readonly log: L;
  readonly records: readonly LogRecord[];
}

export interface RecordLogLimits {
  /** Largest payload accepted by append (default 8 MiB). */
  readonly maxRecordBytes?: number;
  /** Most payload bytes waiting to become durable before appends are refused (default 256 MiB). */
  readonly maxQueuedBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

export function checkRecordType(type: number): void {
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new RangeError(`record type must be an integer in 1..255, got ${type}`);
}
