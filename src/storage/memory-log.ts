// An in-memory RecordLog with the WAL's semantics, for tests and for hosts
// that need no durability. A `MemoryDisk` outlives the log objects opened on
// it, so a test can "crash" a log and reopen the disk: records whose append
// had not resolved may be lost, records whose append resolved are kept.

import { LogClosedError, QueueFullError, RecordTooLargeError } from './errors.js';
import { checkRecordType, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_RECORD_BYTES } from './record-log.js';
import type { LogRecord, OpenedLog, RecordLog, RecordLogLimits } from './record-log.js';

/** What survives a crash of a MemoryLog. */
export class MemoryDisk {
  records: LogRecord[] = [];
  firstSeq = 1;
  nextSeq = 1;
  /** A log object currently open on this disk (at most one, like a directory lock). */
  openLog: MemoryLog | null = null;
}

interface Pending {
  readonly record: LogRecord;
  readonly resolve: (seq: number) => void;
  readonly reject: (e: Error) => void;
}

export class MemoryLog implements RecordLog {
  readonly maxRecordBytes: number;
  private readonly maxQueuedBytes: number;
  private pending: Pending[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private open_ = true;
  private next: number;

  private constructor(
    private readonly disk: MemoryDisk,
    limits: RecordLogLimits,
  ) {
    this.maxRecordBytes = limits.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxQueuedBytes = limits.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.next = disk.nextSeq;
  }

  static open(disk: MemoryDisk, limits: RecordLogLimits = {}): Promise<OpenedLog<MemoryLog>> {
    if (disk.openLog !== null) return Promise.reject(new Error('this MemoryDisk already has an open log'));
    const log = new MemoryLog(disk, limits);
    disk.openLog = log;
    return Promise.resolve({ log, records: disk.records.slice() });
  }

  get nextSeq(): number {
    return this.next;
  }

  get firstSeq(): number {
    return this.disk.firstSeq;
  }

  append(type: number, payload: Uint8Array): Promise<number> {
    if (!this.open_) return Promise.reject(new LogClosedError('the log is closed'));
    checkRecordType(type);
    if (payload.length > this.maxRecordBytes) return Promise.reject(new RecordTooLargeError(payload.length, this.maxRecordBytes));
    if (this.queuedBytes + payload.length > this.maxQueuedBytes) {
      return Promise.reject(new QueueFullError(this.queuedBytes + payload.length, this.maxQueuedBytes));
    }
    const seq = this.next++;
    this.queuedBytes += payload.length;
    // Copy: the caller may reuse its buffer, and a disk keeps what was written.
    const record: LogRecord = { seq, type, payload: Uint8Array.from(payload) };
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  release(beforeSeq: number): Promise<void> {
    if (!Number.isSafeInteger(beforeSeq) || beforeSeq > this.disk.nextSeq) {
      return Promise.reject(
        new RangeError(`release(${beforeSeq}): must be an integer no greater than ${this.disk.nextSeq}, one past the last durable record`),
      );
    }
    if (beforeSeq > this.disk.firstSeq) {
      this.disk.records = this.disk.records.filter((r) => r.seq >= beforeSeq);
      this.disk.firstSeq = beforeSeq;
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.flush();
    this.open_ = false;
    this.disk.openLog = null;
    return Promise.resolve();
  }

  crash(): Promise<void> {
    this.open_ = false;
    const lost = this.pending;
    this.pending = [];
    this.queuedBytes = 0;
    for (const p of lost) p.reject(new LogClosedError('the log crashed before this record was durable'));
    this.disk.openLog = null;
    return Promise.resolve();
  }

  /** One group commit: everything queued becomes durable at once. */
  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    for (const p of group) {
      this.disk.records.push(p.record);
      this.disk.nextSeq = p.record.seq + 1;
      this.queuedBytes -= p.record.payload.length;
    }
    for (const p of group) p.resolve(p.record.seq);
  }
}
