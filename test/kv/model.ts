// A deliberately naive reference model of etcd's MVCC store for property
// tests: it keeps a full copy of the key space after every revision, so a
// historical read is a lookup, and it knows nothing of indexes, tombstones or
// backends. Keys are latin1 strings (one char per byte).

import type { Compare, KeyRange, RangeRequest, RequestOp, KvWriteOp } from '../../src/kv/command.js';

export interface ModelKv {
  readonly key: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: string;
  readonly lease: number;
}

export type ModelResult = { ok: true; revision: number; response: unknown } | { ok: false; revision: number; code: string };

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

class Abort {
  constructor(readonly code: string) {}
}

export class MvccModel {
  revision = 1;
  compactRevision = 0;
  /** The whole key space as of each retained revision. */
  readonly states = new Map<number, Map<string, ModelKv>>([[1, new Map()]]);
  /** Lease id -> granted TTL. */
  readonly leases = new Map<number, number>();

  current(): Map<string, ModelKv> {
    return this.states.get(this.revision)!;
  }

  private selects(r: KeyRange, key: string): boolean {
    const start = latin1(r.key);
    if (r.rangeEnd === undefined || r.rangeEnd.length === 0) return key === start;
    if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return key >= start;
    return key >= start && key < latin1(r.rangeEnd);
  }

  private pick(space: Map<string, ModelKv>, r: KeyRange): ModelKv[] {
    return [...space.values()].filter((kv) => this.selects(r, kv.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private rangeIn(work: Map<string, ModelKv>, r: RangeRequest): unknown {
    const want = r.revision ?? 0;
    if (want > this.revision) throw new Abort('future-revision');
    let space = work;
    if (want > 0) {
      if (want < this.compactRevision) throw new Abort('compacted');
      space = this.states.get(want)!;
    }
    const all = this.pick(space, r);
    if (r.countOnly === true) return { type: 'range', kvs: [], more: false, count: all.length };
    let kvs = all.filter(
      (kv) =>
        (!r.minModRevision || kv.modRevision >= r.minModRevision) &&
        (!r.maxModRevision || kv.modRevision <= r.maxModRevision) &&
        (!r.minCreateRevision || kv.createRevision >= r.minCreateRevision) &&
        (!r.maxCreateRevision || kv.createRevision <= r.maxCreateRevision),
    );
    const target = r.sortTarget ?? 'key';
    const order = r.sortOrder ?? 'none';
    if (target !== 'key' || order === 'descend') {
      const field = (kv: ModelKv): number | string =>
        target === 'key' ? kv.key : target === 'value' ? kv.value : target === 'version' ? kv.version : target === 'create' ? kv.createRevision : kv.modRevision;
      const sign = order === 'descend' ? -1 : 1;
      kvs = [...kvs].sort((a, b) => {
        const x = field(a);
        const y = field(b);
        return x < y ? -sign : x > y ? sign : 0;
      });
    }
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (r.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { type: 'range', kvs, more, count: all.length };
  }

  private compare(work: Map<string, ModelKv>, c: Compare): boolean {
    const kvs = this.pick(work, c);
    if (kvs.length === 0 && c.target === 'value') return false;
    const zero: ModelKv = { key: '', createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0 };
    return (kvs.length === 0 ? [zero] : kvs).every((kv) => {
      const [mine, theirs]: [number | string, number | string] =
        c.target === 'value'
          ? [kv.value, latin1(c.value)]
          : c.target === 'version'
            ? [kv.version, c.version]
            : c.target === 'create'
              ? [kv.createRevision, c.createRevision]
              : c.target === 'mod'
                ? [kv.modRevision, c.modRevision]
                : [kv.lease, c.lease];
      if (c.result === 'equal') return mine === theirs;
      if (c.result === 'not-equal') return mine !== theirs;
      if (c.result === 'less') return mine < theirs;
      return mine > theirs;
    });
  }

  private op(work: Map<string, ModelKv>, op: RequestOp, state: { wrote: boolean }): unknown {
    const next = this.revision + 1;
    switch (op.type) {
      case 'range':
        return this.rangeIn(work, op);
      case 'put': {
        const key = latin1(op.key);
        const prev = work.get(key);
        if ((op.ignoreValue || op.ignoreLease) && !prev) throw new Abort('key-not-found');
        const lease = op.ignoreLease ? prev!.lease : (op.lease ?? 0);
        if (lease !== 0 && !this.leases.has(lease)) throw new Abort('lease-not-found');
        work.set(key, {
          key,
          createRevision: prev ? prev.createRevision : next,
          modRevision: next,
          version: prev ? prev.version + 1 : 1,
          value: op.ignoreValue ? prev!.value : latin1(op.value),
          lease,
        });
        state.wrote = true;
        return op.prevKv && prev ? { type: 'put', prevKv: prev } : { type: 'put' };
      }
      case 'delete-range': {
        const gone = this.pick(work, op);
        for (const kv of gone) work.delete(kv.key);
        if (gone.length > 0) state.wrote = true;
        return { type: 'delete-range', deleted: gone.length, prevKvs: op.prevKv ? gone : [] };
      }
      case 'txn': {
        const succeeded = op.compare.every((c) => this.compare(work, c));
        const responses = (succeeded ? op.success : op.failure).map((o) => this.op(work, o, state));
        return { type: 'txn', succeeded, responses };
      }
    }
  }

  /** Applies a write op (already known valid); etcd semantics, one revision per transaction that changed something. */
  apply(op: KvWriteOp, index: number): ModelResult {
    if (op.type === 'auth') throw new Error('the model covers the key-value store, not auth (test/kv/auth.test.ts does)');
    if (op.type === 'lease-grant') {
      let id = op.id;
      if (id === 0) for (id = Math.max(1, index); this.leases.has(id); id++);
      if (this.leases.has(id)) return { ok: false, revision: this.revision, code: 'lease-exists' };
      this.leases.set(id, op.ttl);
      return { ok: true, revision: this.revision, response: { type: 'lease-grant', id, ttl: op.ttl } };
    }
    if (op.type === 'lease-revoke') {
      if (!this.leases.has(op.id)) return { ok: false, revision: this.revision, code: 'lease-not-found' };
      this.leases.delete(op.id);
      const work = new Map(this.current());
      const gone = [...work.values()].filter((kv) => kv.lease === op.id);
      for (const kv of gone) work.delete(kv.key);
      if (gone.length > 0) this.states.set(++this.revision, work);
      return { ok: true, revision: this.revision, response: { type: 'lease-revoke', deleted: gone.length } };
    }
    if (op.type === 'compact') {
      if (op.revision <= this.compactRevision) return { ok: false, revision: this.revision, code: 'compacted' };
      if (op.revision > this.revision) return { ok: false, revision: this.revision, code: 'future-revision' };
      this.compactRevision = op.revision;
      for (const r of [...this.states.keys()]) if (r < op.revision) this.states.delete(r);
      return { ok: true, revision: this.revision, response: { type: 'compact' } };
    }
    const work = new Map(this.current());
    const state = { wrote: false };
    try {
      const response = this.op(work, op, state);
      if (state.wrote) {
        this.revision++;
        this.states.set(this.revision, work);
      }
      return { ok: true, revision: this.revision, response };
    } catch (e) {
      if (e instanceof Abort) return { ok: false, revision: this.revision, code: e.code };
      throw e;
    }
  }

  range(r: RangeRequest): ModelResult {
    try {
      return { ok: true, revision: this.revision, response: this.rangeIn(this.current(), r) };
    } catch (e) {
      if (e instanceof Abort) return { ok: false, revision: this.revision, code: e.code };
      throw e;
    }
  }
}
