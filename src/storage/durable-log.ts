// DurableLog<W>: a protocol core's durable writes (Raft hard state, entries,
// snapshots; Paxos promises and accepts) kept in a RecordLog and handed back
// in order at restart, as `recover(config, durableWrites)` expects.
//
// Each W is encoded with msgpackr in structured-clone mode (Maps, Sets,
// BigInts, typed arrays and shared references survive) into one WRITE record,
// or, with `plainData` (writes hold only plain data, as the key-value server's
// do), in the plain encoding of src/net/codec.ts into one WRITE_PLAIN record:
// about twice as fast to encode, and byte arrays come back as Buffers. A log
// may hold both kinds; each record says how to decode it.
// A write that encodes larger than the WAL's record limit (a big state-machine
// snapshot) is split: FRAGMENT records carry its first pieces and the WRITE
// record its last, so the write counts only once its WRITE record is there.
//
// Compaction writes a summary - writes that together stand for everything so
// far - framed by BEGIN and END records, then releases what came before BEGIN.
// At replay a complete summary replaces everything before it; an incomplete
// one (a crash while writing it) is ignored, and the writes before it count.

import { Packr } from 'msgpackr';
import { RecordTooLargeError } from './errors.js';
import type { OpenedLog, RecordLog } from './record-log.js';
import { replayWrites } from './durable-replay.js';

export const RECORD_WRITE = 1;
export const RECORD_SUMMARY_BEGIN = 2;
export const RECORD_SUMMARY_END = 3;
export const RECORD_FRAGMENT = 4;
export const RECORD_WRITE_PLAIN = 5;

export interface DurableLogOptions {
  /** Largest single write, after encoding (default 256 MiB). Bigger ones are refused with RecordTooLargeError. */
  readonly maxWriteBytes?: number;
  /** Writes hold only plain data (objects, arrays, numbers, strings, booleans, null, byte arrays): encode them plainly. */
  readonly plainData?: boolean;
}

export interface DurableLogStats {
  /** Writes appended since the last complete summary (or since the start): what a restart replays. */
  readonly writesSinceSummary: number;
  readonly bytesSinceSummary: number;
}

export interface RecoveredLog<W> {
  readonly log: DurableLog<W>;
  /** The writes that survived, in the order they were made. */
  readonly recovered: W[];
}

export { ReplayError } from './durable-replay.js';

export class DurableLog<W> {
  private readonly packr = new Packr({ structuredClone: true });
  private readonly writePackr: Packr;
  private readonly writeType: number;
  private readonly maxWriteBytes: number;
  private last: Promise<unknown> = Promise.resolve();
  private writesSince: number;
  private bytesSince: number;

  private constructor(
    private readonly records: RecordLog,
    stats: DurableLogStats,
    options: DurableLogOptions,
  ) {
    this.writesSince = stats.writesSinceSummary;
    this.bytesSince = stats.bytesSinceSummary;
    this.maxWriteBytes = options.maxWriteBytes ?? 256 * 1024 * 1024;
    this.writePackr = options.plainData === true ? new Packr({ useRecords: false, moreTypes: false }) : this.packr;
    this.writeType = options.plainData === true ? RECORD_WRITE_PLAIN : RECORD_WRITE;
  }

  /** Decodes the records of a freshly opened RecordLog into the writes to recover from. */
  static recover<W>(opened: OpenedLog, options: DurableLogOptions = {}): RecoveredLog<W> {
    const { writes, bytesSinceSummary } = replayWrites(opened.records);
    const log = new DurableLog<W>(opened.log, { writesSinceSummary: writes.length, bytesSinceSummary }, options);
    return { log, recovered: writes as W[] };
  }

  get recordLog(): RecordLog {
    return this.records;
  }

  stats(): DurableLogStats {
    return { writesSinceSummary: this.writesSince, bytesSinceSummary: this.bytesSince };
  }

  /**
   * Appends writes in order; resolves once they (and all earlier ones) are durable.
   * Rejects with RecordTooLargeError if one encodes larger than maxWriteBytes;
   * then none of this call's writes were queued. Any other rejection (queue full,
   * I/O failure) may leave a prefix of them queued, exactly like a crash: the host
   * must stop and restart from what recovery returns.
   */
  append(writes: readonly W[]): Promise<void> {
    const encoded = this.encodeAll(writes);
    if (encoded instanceof Error) return Promise.reject(encoded);
    if (encoded.length === 0) return this.last.then(() => undefined);
    const each = encoded.map((bytes) => {
      this.writesSince++;
      this.bytesSince += bytes.length;
      return this.appendWrite(bytes);
    });
    // Every record's promise is observed: any refusal or failure rejects the whole call.
    const all = Promise.all(each).then(() => undefined);
    this.last = all.catch(() => undefined);
    return all;
  }

  /**
   * Replaces the history so far by `summary` - writes that, replayed alone, recover
   * the same state as everything appended before this call. Once the summary is
   * durable, the records before it are released, so start-up no longer replays them.
   */
  async compact(summary: readonly W[]): Promise<void> {
    const encoded = this.encodeAll(summary);
    if (encoded instanceof Error) throw encoded;
    const beginSeq = this.records.nextSeq;
    const begin = this.records.append(RECORD_SUMMARY_BEGIN, this.packr.pack(encoded.length));
    if (this.records.nextSeq !== beginSeq + 1) {
      await begin; // refused (closed, failed, queue full): rethrows why
      throw new Error('summary begin was not queued');
    }
    const parts = encoded.map((bytes) => this.appendWrite(bytes));
    const end = this.records.append(RECORD_SUMMARY_END, this.packr.pack(beginSeq));
    const all = Promise.all([begin, ...parts, end]);
    this.last = all.catch(() => undefined);
    this.writesSince = summary.length;
    this.bytesSince = 0;
    await all;
    await this.records.release(beginSeq);
  }

  close(): Promise<void> {
    return this.records.close();
  }

  crash(): Promise<void> {
    return this.records.crash();
  }

  /** One write as FRAGMENT records (if it is bigger than a record) and a final WRITE (or WRITE_PLAIN) record. */
  private appendWrite(bytes: Uint8Array): Promise<unknown> {
    const max = this.records.maxRecordBytes;
    const parts: Promise<number>[] = [];
    let at = 0;
    while (bytes.length - at > max) {
      parts.push(this.records.append(RECORD_FRAGMENT, bytes.subarray(at, at + max)));
      at += max;
    }
    parts.push(this.records.append(this.writeType, bytes.subarray(at)));
    return Promise.all(parts);
  }

  private encodeAll(writes: readonly W[]): Uint8Array[] | RecordTooLargeError {
    const out: Uint8Array[] = [];
    for (const w of writes) {
      const bytes = this.writePackr.pack(w);
      if (bytes.length > this.maxWriteBytes) return new RecordTooLargeError(bytes.length, this.maxWriteBytes);
      out.push(bytes);
    }
    return out;
  }
}
