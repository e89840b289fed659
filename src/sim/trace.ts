// The one trace stream of a simulated run (VOPR; brief §8). Every event the
// simulator executes, every fault, every protocol event and every client
// operation becomes one `TraceEvent`, a discriminated union on `type`. The CLI
// printer, the tests and the playground all subscribe to this same stream.
//
// Every event carries `i`, the number of the simulator step it happened in
// (the same number a violation reports), and `t`, virtual time in ms.
// Serialization is JSON Lines; the same seed gives the same lines byte for byte.

import type { ProtocolEvent } from '../core/replicated-log.js';

/** Why a message did not arrive. */
export type DropReason = 'loss' | 'partition' | 'down' | 'queue-full' | 'manual';

/** The partition shapes of Jepsen's nemeses, plus arbitrary groups from a script. */
export type PartitionShape = 'isolate' | 'halves' | 'bridge' | 'ring' | 'one-way' | 'groups';

interface At {
  /** The simulator step this happened in. */
  readonly i: number;
  /** Virtual time, ms. */
  readonly t: number;
}

export type TraceEvent =
  | (At & { readonly type: 'send'; readonly id: number; readonly from: number; readonly to: number; readonly msg: unknown; readonly deliverAt: number })
  | (At & { readonly type: 'deliver'; readonly id: number; readonly from: number; readonly to: number })
  | (At & { readonly type: 'drop'; readonly id: number; readonly from: number; readonly to: number; readonly reason: DropReason })
  | (At & { readonly type: 'duplicate'; readonly id: number; readonly of: number; readonly deliverAt: number })
  | (At & { readonly type: 'crash'; readonly node: number; readonly lostWrites: number; readonly tornKept: number })
  | (At & { readonly type: 'restart'; readonly node: number; readonly durableWrites: number })
  | (At & { readonly type: 'pause'; readonly node: number })
  | (At & { readonly type: 'resume'; readonly node: number })
  /** `blocked` lists every directed link [from, to] that drops messages. */
  | (At & { readonly type: 'partition'; readonly shape: PartitionShape; readonly blocked: readonly (readonly [number, number])[] })
  | (At & { readonly type: 'heal' })
  /** Network conditions changed: loss and duplication probabilities, extra latency (ms). */
  | (At & { readonly type: 'network'; readonly loss: number; readonly dup: number; readonly extraDelayMs: number })
  /** A node's disk became slower (factor > 1) or normal again (factor 1). */
  | (At & { readonly type: 'disk'; readonly node: number; readonly slowFactor: number })
  | (At & { readonly type: 'persist'; readonly node: number; readonly records: number; readonly syncAt: number })
  | (At & { readonly type: 'synced'; readonly node: number; readonly records: number })
  | (At & { readonly type: 'tick'; readonly node: number })
  | (At & { readonly type: 'protocol'; readonly node: number; readonly event: ProtocolEvent })
  /** A client request reached a node (`requestId` routes the reply back). */
  | (At & { readonly type: 'request'; readonly node: number; readonly requestId: number; readonly req: unknown })
  | (At & { readonly type: 'reply'; readonly node: number; readonly requestId: number; readonly reply: unknown })
  /** A client operation began / ended (the history the checker reads). */
  | (At & { readonly type: 'invoke'; readonly process: number; readonly op: unknown })
  | (At & { readonly type: 'complete'; readonly process: number; readonly outcome: string; readonly result: unknown })
  | (At & { readonly type: 'phase'; readonly phase: 'safety' | 'liveness' | 'end' })
  | (At & { readonly type: 'violation'; readonly invariant: string; readonly message: string });

export type TraceType = TraceEvent['type'];

export const TRACE_TYPES: readonly TraceType[] = [
  'send', 'deliver', 'drop', 'duplicate', 'crash', 'restart', 'pause', 'resume', 'partition', 'heal',
  'network', 'disk', 'persist', 'synced', 'tick', 'protocol', 'request', 'reply', 'invoke', 'complete',
  'phase', 'violation',
];

export type TraceSink = (e: TraceEvent) => void;

/** One JSON line (without the newline). */
export function traceToJson(e: TraceEvent): string {
  return JSON.stringify(e);
}

export function traceToJsonLines(events: readonly TraceEvent[]): string {
  let out = '';
  for (const e of events) out += traceToJson(e) + '\n';
  return out;
}

export class TraceParseError extends Error {
  override readonly name = 'TraceParseError';
}

/** Parses JSON Lines back into trace events; checks the envelope of each line. */
export function parseTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]?.trim() ?? '';
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TraceParseError(`trace line ${n + 1}: not JSON`);
    }
    out.push(checkEvent(value, n + 1));
  }
  return out;
}

function checkEvent(value: unknown, line: number): TraceEvent {
  if (typeof value !== 'object' || value === null) throw new TraceParseError(`trace line ${line}: not an object`);
  const v = value as Record<string, unknown>;
  if (typeof v['type'] !== 'string' || !(TRACE_TYPES as readonly string[]).includes(v['type'])) {
    throw new TraceParseError(`trace line ${line}: unknown event type ${JSON.stringify(v['type'])}`);
  }
  if (typeof v['i'] !== 'number' || typeof v['t'] !== 'number') {
    throw new TraceParseError(`trace line ${line}: missing step number "i" or time "t"`);
  }
  return v as unknown as TraceEvent;
}

/** Collects a trace in memory (tests, the playground's history). */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  readonly sink: TraceSink = (e) => {
    this.events.push(e);
  };
}
