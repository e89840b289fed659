// Replay of DurableLog records (see durable-log.ts for the record types):
// reassembles fragmented writes, applies complete summaries, and ignores what a
// crash left unfinished at the end (fragments without their WRITE, a summary
// without its END).

import { Packr } from 'msgpackr';
import type { LogRecord } from './record-log.js';

// Record types, repeated here so that this module does not import durable-log.ts (no cycle).
const WRITE = 1;
const SUMMARY_BEGIN = 2;
const SUMMARY_END = 3;
const FRAGMENT = 4;
const WRITE_PLAIN = 5;

/** A replayed record that cannot be decoded or is out of place (a format or version mismatch; the CRC was fine). */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

interface Summary {
  readonly begin: number;
  readonly count: number;
  readonly writes: unknown[];
}

export function replayWrites(records: readonly LogRecord[]): { writes: unknown[]; bytesSinceSummary: number } {
  const unpackr = new Packr({ structuredClone: true });
  // Plain writes: maps are objects, and byte arrays view a copy of their record, not the segment's read buffer.
  const plainUnpackr = new Packr({ structuredClone: true, mapsAsObjects: true });
  const decode = (seq: number, payload: Uint8Array, plain = false): unknown => {
    try {
      return plain ? plainUnpackr.unpack(Buffer.from(payload)) : unpackr.unpack(payload);
    } catch (e) {
      throw new ReplayError(`record ${seq} does not decode: ${String(e)}`);
    }
  };
  let out: unknown[] = [];
  let bytes = 0;
  let summary: Summary | null = null;
  let fragments: Uint8Array[] = [];
  for (const r of records) {
    if (fragments.length > 0 && r.type !== FRAGMENT && r.type !== WRITE && r.type !== WRITE_PLAIN) {
      throw new ReplayError(`record ${r.seq} (type ${r.type}) interrupts a fragmented write`);
    }
    switch (r.type) {
      case FRAGMENT:
        fragments.push(r.payload);
        break;
      case WRITE:
      case WRITE_PLAIN: {
        const whole = fragments.length === 0 ? r.payload : Buffer.concat([...fragments, r.payload]);
        fragments = [];
        const w = decode(r.seq, whole, r.type === WRITE_PLAIN);
        if (summary !== null) summary.writes.push(w);
        else {
          out.push(w);
          bytes += whole.length;
        }
        break;
      }
      case SUMMARY_BEGIN:
        // A BEGIN with no END before it means that summary was cut short; only the newest can be.
        summary = { begin: r.seq, count: readCount(decode(r.seq, r.payload), r.seq), writes: [] };
        break;
      case SUMMARY_END: {
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
  return { writes: out, bytesSinceSummary: bytes };
}

function readCount(v: unknown, seq: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ReplayError(`record ${seq}: summary marker is not a count or sequence number`);
  return v;
}
