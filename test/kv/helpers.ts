import { ClientId, LogIndex } from '../../src/core/ids.js';
import type { KeyValue, KvResult, KvWriteOp, RangeResponse, TxnResponse } from '../../src/kv/command.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { KvStateMachineOptions } from '../../src/kv/state-machine.js';

export const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
export const s = (x: Uint8Array): string => Buffer.from(x).toString('latin1');

/** A state machine with an apply() that numbers entries itself. */
export class Store {
  readonly sm: KvStateMachine;
  private index = 0;
  constructor(opts: KvStateMachineOptions = {}) {
    this.sm = new KvStateMachine(opts);
  }
  apply(op: KvWriteOp, client = 'c', seq = 0): KvResult {
    return this.sm.apply(LogIndex(++this.index), { client: ClientId(client), seq, op })!;
  }
  grant(id: number, ttl = 60): KvResult {
    return this.apply({ type: 'lease-grant', id, ttl });
  }
  noop(): void {
    this.sm.apply(LogIndex(++this.index), null);
  }
  put(key: string, value: string, extra: Partial<Extract<KvWriteOp, { type: 'put' }>> = {}): KvResult {
    return this.apply({ type: 'put', key: b(key), value: b(value), ...extra });
  }
  del(key: string, rangeEnd?: string): KvResult {
    return this.apply(rangeEnd === undefined ? { type: 'delete-range', key: b(key) } : { type: 'delete-range', key: b(key), rangeEnd: b(rangeEnd), prevKv: true });
  }
  get(key: string, revision = 0): KeyValue | undefined {
    const r = this.sm.range({ key: b(key), revision });
    if (!r.ok) throw new Error(r.error.message);
    return (r.response as RangeResponse).kvs[0];
  }
}

export function ok(r: KvResult): KvResult & { ok: true } {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r;
}

export function errorCode(r: KvResult): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.response)}`);
  return r.error.code;
}

export const txnOf = (r: KvResult): TxnResponse => ok(r).response as TxnResponse;
export const rangeOf = (r: KvResult): RangeResponse => ok(r).response as RangeResponse;
export const kvText = (kv: KeyValue | undefined) =>
  kv && { key: s(kv.key), value: s(kv.value), create: kv.createRevision, mod: kv.modRevision, version: kv.version, lease: kv.lease };
