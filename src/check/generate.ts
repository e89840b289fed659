// Linearizable key-value histories from a real sequential execution, for
// tests and benchmarks. Concurrent client processes invoke reads, writes and
// cas on a set of registers; each operation takes effect at one instant
// between its invoke and its completion (its linearization point), so the
// history is linearizable by construction. Some operations end "info": they
// took effect before the client lost track, or never do, or take effect later
// (a delayed message), which is why their return time is open-ended.

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import type { HistoryEvent, OpFunction, Value } from './history.js';

export interface GenerateOptions {
  readonly operations: number;
  readonly processes: number;
  readonly keys: number;
  /** Values written are drawn from 1..values (small domains make checking harder). */
  readonly values: number;
  /** Probability that an operation ends "info". */
  readonly infoRate?: number;
  /** Probability that an operation is a read, and that it is a cas (the rest are writes). */
  readonly readRate?: number;
  readonly casRate?: number;
}

interface Pending {
  readonly f: OpFunction;
  readonly key: string;
  readonly value: Value | readonly [Value, Value];
  applied: boolean;
  result: { ok: boolean; read: Value } | null;
}

/** A linearizable history (see the file comment). */
export function generateRegisterHistory(prng: Prng, o: GenerateOptions): HistoryEvent[] {
  assert(o.processes > 0 && o.keys > 0 && o.values > 0, 'generateRegisterHistory: empty domain');
  const state = new Map<string, Value>();
  const events: HistoryEvent[] = [];
  const pending = new Map<number, Pending>();
  const zombies: Pending[] = [];
  let invoked = 0;
  const apply = (p: Pending): void => {
    const cur = state.get(p.key) ?? null;
    if (p.f === 'read') p.result = { ok: true, read: cur };
    else if (p.f === 'write') {
      state.set(p.key, p.value as Value);
      p.result = { ok: true, read: null };
    } else {
      const [expected, next] = p.value as readonly [Value, Value];
      if (cur === expected) state.set(p.key, next);
      p.result = { ok: cur === expected, read: null };
    }
    p.applied = true;
  };
  while (invoked < o.operations || pending.size > 0) {
    if (zombies.length > 0 && prng.chance(0.05)) apply(zombies.splice(prng.int(0, zombies.length - 1), 1)[0] as Pending);
    const process = prng.int(0, o.processes - 1);
    const p = pending.get(process);
    if (p === undefined) {
      if (invoked >= o.operations) continue;
      const op = newOp(prng, o);
      pending.set(process, op);
      events.push({ process, type: 'invoke', f: op.f, key: op.key, value: op.f === 'read' ? null : op.value });
      invoked++;
    } else if (!p.applied && prng.chance(0.5)) {
      if (prng.chance(o.infoRate ?? 0)) {
        // Lost before taking effect: it never does, or does so later.
        if (prng.chance(0.5)) zombies.push(p);
        complete(events, process, p, 'info');
        pending.delete(process);
      } else apply(p);
    } else if (p.applied && prng.chance(0.5)) {
      const r = p.result as { ok: boolean; read: Value };
      complete(events, process, p, prng.chance(o.infoRate ?? 0) ? 'info' : r.ok ? 'ok' : 'fail');
      pending.delete(process);
    }
  }
  return events;
}

function newOp(prng: Prng, o: GenerateOptions): Pending {
  const key = `k${prng.int(0, o.keys - 1)}`;
  const val = (): Value => prng.int(1, o.values);
  const roll = prng.float();
  const readRate = o.readRate ?? 0.5;
  if (roll < readRate) return { f: 'read', key, value: null, applied: false, result: null };
  if (roll < readRate + (o.casRate ?? 0.2)) return { f: 'cas', key, value: [val(), val()], applied: false, result: null };
  return { f: 'write', key, value: val(), applied: false, result: null };
}

function complete(events: HistoryEvent[], process: number, p: Pending, type: 'ok' | 'fail' | 'info'): void {
  const value = p.f === 'read' ? (type === 'ok' ? (p.result as { read: Value }).read : null) : p.value;
  events.push({ process, type, f: p.f, key: p.key, value });
}
