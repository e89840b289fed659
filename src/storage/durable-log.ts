// DurableLog<W>: a protocol core's durable writes (Raft hard state, entries,
// snapshots; Paxos promises and accepts) kept in a RecordLog and handed back
// in order at restart, as `recover(config, durableWrites)` expects.
//
// Each W is one record, encoded with msgpackr in structured-clone mode (Maps,
// Sets, BigInts, typed arrays and shared references survive). Compaction
// writes a summary - writes that together stand for everything so far - framed
// by BEGIN and END records, then releases what came before BEGIN. At replay a
// complete summary replaces everything before it; an incomplete one (a crash
// while writing it) is ignored, and the writes before it still count.

import { Packr } from 'msgpackr';
import { RecordTooLargeError } from './errors.js';
import type { OpenedLog, RecordLog } from './record-log.js';

export const RECORD_WRITE = 1;
export const RECORD_SUMMARY_BEGIN = 2;
export const RECORD_SUMMARY_END = 3;

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

/** A replayed record that cannot be decoded or is out of place (a format or version mismatch; the CRC was fine). */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

export class DurableLog<W> {
  private readonly packr = new Packr({ structuredClone: true });
  private last: Promise<unknown> = Promise.resolve();
  private writesSince: number;
  private bytesSince: number;

  private constructor(
    private readonly records: RecordLog,
    stats: DurableLogStats,
  ) {
    this.writesSince = stats.writesSinceSummary;
    this.bytesSince = stats.bytesSinceSummary;
  }

  /** Decodes the records of a freshly opened RecordLog into the writes to recover from. */
  static recover<W>(opened: OpenedLog): RecoveredLog<W> {
    const unpackr = new Packr({ structuredClone: true });
    const decode = (seq: number, payload: Uint8Array): unknown => {
      try {
        return unpackr.unpack(payload);
      } catch (e) {
        throw new ReplayError(`record ${seq} does not decode: ${String(e)}`);
      }
    };
    let out: W[] = [];
    let bytes = 0;
    let summary: { begin: number; count: number; writes: W[] } | null = null;
    for (const r of opened.records) {
      switch (r.type) {
        case RECORD_WRITE:
          if (summary !== null) summary.writes.push(decode(r.seq, r.payload) as W);
          else {
            out.push(decode(r.seq, r.payload) as W);
            bytes += r.payload.length;
          }
          break;
        case RECORD_SUMMARY_BEGIN:
          // A BEGIN with no END before it means that summary was cut short; only the newest can be.
          summary = { begin: r.seq, count: readCount(decode(r.seq, r.payload), r.seq), writes: [] };
          break;
        case RECORD_SUMMARY_END: {
          const begin = readCount(decode(r.seq, r.payload), r.seq);
          if (summary === null || summary.begin !== begin || summary.writes.length !== summary.count) {
            throw new ReplayError(`summary end at record ${r.seq} does not match its begin (${begin})`);
          }
          out = summary.writes;
          bytes = 0;
          summary = null;
          break;
        }
        default:
          throw new ReplayError(`record ${r.seq} has unknown type ${r.type}`);
      }
    }
    const log = new DurableLog<W>(opened.log, { writesSinceSummary: out.length, bytesSinceSummary: bytes });
    return { log, recovered: out };
  }

  get recordLog(): RecordLog {
    return this.records;
  }

  stats(): DurableLogStats {
    return { writesSinceSummary: this.writesSince, bytesSinceSummary: this.bytesSince };
  }

  /**
   * Appends writes in order; resolves once they (and all earlier ones) are durable.
   * Rejects with RecordTooLargeError if one encodes larger than the record limit;
   * then none of this call's writes were queued. Any other rejection (queue full,
   * I/O failure) may leave a prefix of them queued, exactly like a crash: the host
   * must stop and restart from what recovery returns.
   */
  append(writes: readonly W[]): Promise<void> {
    const payloads = writes.map((w) => this.encode(w));
    if (payloads.some((p) => p instanceof Error)) return Promise.reject(payloads.find((p) => p instanceof Error) as Error);
    if (payloads.length === 0) return this.last.then(() => undefined);
    const each = (payloads as Uint8Array[]).map((payload) => {
      this.writesSince++;
      this.bytesSince += payload.length;
      return this.records.append(RECORD_WRITE, payload);
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
    const payloads = summary.map((w) => this.encode(w));
    const bad = payloads.find((p) => p instanceof Error);
    if (bad !== undefined) throw bad;
    const beginSeq = this.records.nextSeq;
    const begin = this.records.append(RECORD_SUMMARY_BEGIN, this.packr.pack(payloads.length));
    if (this.records.nextSeq !== beginSeq + 1) {
      await begin; // refused (closed, failed, queue full): rethrows why
      throw new Error('summary begin was not queued');
    }
    for (const payload of payloads as Uint8Array[]) void this.records.append(RECORD_WRITE, payload).catch(() => undefined);
    const end = this.records.append(RECORD_SUMMARY_END, this.packr.pack(beginSeq));
    this.last = end.catch(() => undefined);
    this.writesSince = summary.length;
    this.bytesSince = 0;
    await begin;
    await end;
    await this.records.release(beginSeq);
  }

  close(): Promise<void> {
    return this.records.close();
  }

  crash(): Promise<void> {
    return this.records.crash();
  }

  private encode(w: W): Uint8Array | Error {
    const bytes = this.packr.pack(w);
    if (bytes.length > this.records.maxRecordBytes) {
      return new RecordTooLargeError(bytes.length, this.records.maxRecordBytes);
    }
    return bytes;
  }
}

function readCount(v: unknown, seq: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ReplayError(`record ${seq}: summary marker is not a count or sequence number`);
  return v;
}
