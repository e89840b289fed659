// etcd's lock and election services (v3lockpb.Lock, v3electionpb.Election):
// the concurrency recipes run by the server for clients that ask for them by
// RPC (jetcd, the gRPC gateway), on the same keys as etcd's
// clientv3/concurrency and synod's own src/coord. A contender is the key
// `<name>/<lease in hex>` under the caller's lease; the contender with the
// lowest create revision holds; a waiter watches only the key just ahead of
// its own until it is deleted (its holder unlocked, resigned, or lost its
// lease). The caller keeps the lease alive: when it expires its key goes and
// the next contender holds. Writes carry the caller's user, so with
// authentication on they need the caller's permissions on the keys.

import type { KvOp } from '../kv/api.js';
import { prefixEnd } from '../kv/bytes.js';
import type { KeyValue, KvResult, RangeRequest, TxnRequest, TxnResponse, RangeResponse } from '../kv/command.js';
import type { AuthGate } from './auth.js';
import type { CallContext, EtcdHandlers, ServerStreamCall } from './grpc/handlers.js';
import { int64ToNumber } from './grpc/handlers.js';
import type * as T from './grpc/etcd-types.js';
import { EventType } from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { kvErrorToGrpc, kvOut, type Header } from './etcd-map.js';
import type { WatchHub, WatchStream } from './watch.js';

/** etcd's concurrency package's errors, as its servers answer them (gRPC code UNKNOWN). */
const NOT_LEADER = 'election: not leader';
const NO_LEADER = 'election: no leader';
const SESSION_EXPIRED = 'session: the contender key is gone (its lease expired or was revoked)';

/** The TTL etcd gives the lease it grants itself when a Lock or Campaign names none. */
const DEFAULT_TTL_SECONDS = 60;

export interface RecipeDeps {
  submit(op: KvOp, timeoutMs: number): Promise<KvResult>;
  readonly watches: WatchHub;
  readonly auth: AuthGate;
  header(revision: number): Header;
  readonly timeoutMs: number;
}

const enc = new TextEncoder();
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const copy = (b: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(b);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

class Recipes {
  constructor(private readonly d: RecipeDeps) {}

  private as(ctx: CallContext): { user?: string } {
    return this.d.auth.userField(ctx);
  }

  private async run(op: KvOp): Promise<KvResult & { ok: true }> {
    const r = await this.d.submit(op, this.d.timeoutMs);
    if (!r.ok) throw kvErrorToGrpc(r.error);
    return r;
  }

  async txn(ctx: CallContext, t: TxnRequest): Promise<{ resp: TxnResponse; revision: number }> {
    const r = await this.run({ f: 'etcd', request: { type: 'txn', ...t }, ...this.as(ctx) });
    return { resp: r.response as TxnResponse, revision: r.revision };
  }

  /** A linearizable read, checked against the caller's read permission once served. */
  async range(ctx: CallContext, req: RangeRequest): Promise<{ kvs: readonly KeyValue[]; revision: number }> {
    const r = await this.run({ f: 'etcd', request: { type: 'range', ...req } });
    if (this.d.auth.enabled) this.d.auth.read(ctx, req.key, req.rangeEnd);
    return { kvs: (r.response as RangeResponse).kvs, revision: r.revision };
  }

  /** The caller's lease, or one granted for it (not kept alive, as etcd's servers do). */
  async leaseOf(ctx: CallContext, lease: number): Promise<number> {
    if (lease !== 0) return lease;
    const r = await this.run({ f: 'etcd', request: { type: 'lease-grant', id: 0, ttl: DEFAULT_TTL_SECONDS }, ...this.as(ctx) });
    return (r.response as { id: number }).id;
  }

  /**
   * Queues `<name>/<lease hex>` (or finds it queued by an earlier try) and
   * waits until no key under the name was created before it. On cancellation
   * or failure the key is deleted, as etcd's Mutex does.
   */
  async contend(ctx: CallContext, name: Uint8Array, lease: number, value: Uint8Array): Promise<{ key: Uint8Array; rev: number; revision: number }> {
    const prefix = concat(name, enc.encode('/'));
    const key = concat(prefix, enc.encode(lease.toString(16)));
    const { resp, revision } = await this.txn(ctx, {
      compare: [{ key, target: 'create', createRevision: 0, result: 'equal' }],
      success: [{ type: 'put', key, value, lease }],
      failure: [{ type: 'range', key }],
    });
    let rev = revision;
    if (!resp.succeeded) {
      const kv = (resp.responses[0] as RangeResponse | undefined)?.kvs[0];
      if (kv === undefined) throw new GrpcError(GrpcStatus.UNKNOWN, SESSION_EXPIRED);
      rev = kv.createRevision;
      // Already queued under this lease with another value: the new value stands (etcd's Campaign proclaims it).
      if (!sameBytes(kv.value, value)) await this.proclaim(ctx, key, rev, lease, value);
    }
    try {
      const at = await this.waitTurn(ctx, prefix, key, rev);
      return { key, rev, revision: at };
    } catch (err) {
      await this.txn(ctx, { compare: [{ key, target: 'create', createRevision: rev, result: 'equal' }], success: [{ type: 'delete-range', key }], failure: [] }).catch(() => undefined);
      throw err;
    }
  }

  private async waitTurn(ctx: CallContext, prefix: Uint8Array, key: Uint8Array, rev: number): Promise<number> {
    const end = prefixEnd(prefix);
    for (;;) {
      if (ctx.cancelled) throw new GrpcError(GrpcStatus.CANCELLED, 'context canceled');
      const ahead = await this.range(ctx, { key: prefix, rangeEnd: end, limit: 1, sortOrder: 'descend', sortTarget: 'create', maxCreateRevision: rev - 1 });
      const own = await this.range(ctx, { key });
      if (own.kvs[0]?.createRevision !== rev) throw new GrpcError(GrpcStatus.UNKNOWN, SESSION_EXPIRED);
      const next = ahead.kvs[0];
      if (next === undefined) return own.revision;
      await this.until(ctx, next.key, new Uint8Array(0), ahead.revision + 1, true);
    }
  }

  /**
   * Resolves at the first change to [key, rangeEnd) from `fromRevision` on
   * (only deletes with `deletesOnly`), when the watch is cancelled (compacted:
   * the caller reads again), or rejects when the call is.
   */
  until(ctx: CallContext, key: Uint8Array, rangeEnd: Uint8Array, fromRevision: number, deletesOnly: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let stream: WatchStream | null = null;
      let finished = false;
      const finish = (err?: Error): void => {
        if (finished) return;
        finished = true;
        ctx.signal.removeEventListener('abort', onAbort);
        stream?.close();
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish(new GrpcError(GrpcStatus.CANCELLED, 'context canceled'));
      stream = this.d.watches.open({
        write: (res: T.WatchResponse) => {
          if (res.canceled === true) finish();
          else if ((res.events ?? []).some((e) => !deletesOnly || e.type === EventType.DELETE)) finish();
          return true;
        },
        drained: () => Promise.resolve(),
        get cancelled() {
          return finished;
        },
      });
      if (stream === null) return reject(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'synod: too many watch streams on this member'));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.cancelled) return onAbort();
      stream.create({ key, rangeEnd, startRevision: fromRevision, watchId: 0, prevKv: false, noPut: deletesOnly, noDelete: false, progressNotify: false, fragment: false });
    });
  }

  async proclaim(ctx: CallContext, key: Uint8Array, rev: number, lease: number, value: Uint8Array): Promise<number> {
    const { resp, revision } = await this.txn(ctx, {
      compare: [{ key, target: 'create', createRevision: rev, result: 'equal' }],
      success: [{ type: 'put', key, value, lease }],
      failure: [],
    });
    if (!resp.succeeded) throw new GrpcError(GrpcStatus.UNKNOWN, NOT_LEADER);
    return revision;
  }

  /** The key created first under the election's name, if any. */
  async leader(ctx: CallContext, name: Uint8Array): Promise<{ kv: KeyValue | undefined; revision: number }> {
    const prefix = concat(name, enc.encode('/'));
    const r = await this.range(ctx, { key: prefix, rangeEnd: prefixEnd(prefix), limit: 1, sortOrder: 'ascend', sortTarget: 'create' });
    return { kv: r.kvs[0], revision: r.revision };
  }
}

function leaderKeyOf(k: T.LeaderKeyIn | null): { key: Uint8Array; rev: number; lease: number } {
  if (k === null || k.key.length === 0) throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, '"leader" field must be provided');
  return { key: copy(k.key), rev: int64ToNumber(k.rev, 'rev'), lease: int64ToNumber(k.lease, 'lease') };
}

export function lockElectionHandlers(d: RecipeDeps): Pick<EtcdHandlers, 'lock' | 'unlock' | 'campaign' | 'proclaim' | 'leader' | 'observe' | 'resign'> {
  const r = new Recipes(d);
  return {
    lock: async (req, ctx) => {
      const lease = await r.leaseOf(ctx, int64ToNumber(req.lease, 'lease'));
      const got = await r.contend(ctx, copy(req.name), lease, new Uint8Array(0));
      return { header: d.header(got.revision), key: got.key };
    },
    unlock: async (req, ctx) => {
      const { revision } = await r.txn(ctx, { compare: [], success: [{ type: 'delete-range', key: copy(req.key) }], failure: [] });
      return { header: d.header(revision) };
    },
    campaign: async (req, ctx) => {
      const name = copy(req.name);
      const lease = await r.leaseOf(ctx, int64ToNumber(req.lease, 'lease'));
      const got = await r.contend(ctx, name, lease, copy(req.value));
      return { header: d.header(got.revision), leader: { name, key: got.key, rev: got.rev, lease } };
    },
    proclaim: async (req, ctx) => {
      const k = leaderKeyOf(req.leader);
      return { header: d.header(await r.proclaim(ctx, k.key, k.rev, k.lease, copy(req.value))) };
    },
    leader: async (req, ctx) => {
      const { kv, revision } = await r.leader(ctx, copy(req.name));
      if (kv === undefined) throw new GrpcError(GrpcStatus.UNKNOWN, NO_LEADER);
      return { header: d.header(revision), kv: kvOut(kv) };
    },
    observe: async (req, call) => observe(r, d, copy(req.name), call),
    resign: async (req, ctx) => {
      const k = leaderKeyOf(req.leader);
      const { revision } = await r.txn(ctx, { compare: [{ key: k.key, target: 'create', createRevision: k.rev, result: 'equal' }], success: [{ type: 'delete-range', key: k.key }], failure: [] });
      return { header: d.header(revision) };
    },
  };
}

/** The leader now (once there is one) and again at each change of its key or value, until the call ends. */
async function observe(r: Recipes, d: RecipeDeps, name: Uint8Array, call: ServerStreamCall<T.LeaderResponse>): Promise<void> {
  const prefix = concat(name, enc.encode('/'));
  let last: { key: string; mod: number } | null = null;
  while (!call.cancelled) {
    const { kv, revision } = await r.leader(call, name);
    if (kv !== undefined && (last === null || last.mod !== kv.modRevision || last.key !== Buffer.from(kv.key).toString('latin1'))) {
      last = { key: Buffer.from(kv.key).toString('latin1'), mod: kv.modRevision };
      if (!call.write({ header: d.header(revision), kv: kvOut(kv) })) await call.drained();
    }
    try {
      await r.until(call, prefix, prefixEnd(prefix), revision + 1, false);
    } catch (err) {
      if (call.cancelled) return;
      throw err;
    }
  }
}
