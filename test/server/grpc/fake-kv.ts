// A tiny Map-backed key-value store behind the EtcdHandlers interface, for
// testing the wire layer with real clients. Not MVCC: one version per key,
// a global revision counter, watchers notified synchronously on put/delete.
import type {
  BidiCall, CallContext, EtcdHandlers, KeyValue, RangeRequest, RangeResponse, PutRequest, PutResponse,
  DeleteRangeRequest, DeleteRangeResponse, TxnRequest, TxnResponse, Compare, RequestOp, ResponseOp,
  WatchRequest, WatchResponse, StatusResponse, MembersResponse, ResponseHeader,
} from '../../../src/server/grpc/index.js';
import { CompareResult, CompareTarget, int64ToNumber, longFromBigInt } from '../../../src/server/grpc/index.js';

interface Stored {
  value: Buffer;
  create: number;
  mod: number;
  version: number;
  lease: number;
}

interface Watcher {
  readonly id: number;
  readonly key: Buffer;
  readonly end: Buffer;
  readonly call: BidiCall<WatchRequest, WatchResponse>;
}

export const CLUSTER_ID = longFromBigInt(0xcafef00dcafef00dn, true);
export const MEMBER_ID = longFromBigInt(0x8e9e05c52164694dn, true);

function inRange(key: Buffer, start: Buffer, end: Buffer): boolean {
  if (end.length === 0) return key.equals(start);
  if (end.length === 1 && end[0] === 0) return Buffer.compare(key, start) >= 0;
  return Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0;
}

export class FakeKv implements EtcdHandlers {
  readonly data = new Map<string, Stored>();
  revision = 1;
  private watchers: Watcher[] = [];
  private nextWatchId = 1;
  /** Calls seen, by handler name (tests look at it). */
  readonly seen: string[] = [];

  header(): ResponseHeader {
    return { cluster_id: CLUSTER_ID, member_id: MEMBER_ID, revision: this.revision, raft_term: 2 };
  }

  private kv(key: string, s: Stored, keysOnly = false): KeyValue {
    return {
      key: Buffer.from(key, 'latin1'), create_revision: s.create, mod_revision: s.mod, version: s.version,
      value: keysOnly ? Buffer.alloc(0) : s.value, lease: s.lease,
    };
  }

  private matching(start: Buffer, end: Buffer): [string, Stored][] {
    return [...this.data.entries()]
      .filter(([k]) => inRange(Buffer.from(k, 'latin1'), start, end))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  }

  range = (req: RangeRequest): RangeResponse => {
    this.seen.push('range');
    const all = this.matching(req.key, req.range_end);
    const limit = int64ToNumber(req.limit, 'limit');
    const kvs = req.count_only ? [] : all.slice(0, limit > 0 ? limit : undefined).map(([k, s]) => this.kv(k, s, req.keys_only));
    return { header: this.header(), kvs, count: all.length, more: limit > 0 && all.length > limit };
  };

  put = (req: PutRequest): PutResponse => {
    this.seen.push('put');
    const key = req.key.toString('latin1');
    const prev = this.data.get(key);
    this.revision++;
    const s: Stored = {
      value: Buffer.from(req.value), create: prev?.create ?? this.revision, mod: this.revision,
      version: (prev?.version ?? 0) + 1, lease: int64ToNumber(req.lease, 'lease'),
    };
    this.data.set(key, s);
    this.notify(0, key, s);
    return { header: this.header(), ...(req.prev_kv && prev ? { prev_kv: this.kv(key, prev) } : {}) };
  };

  deleteRange = (req: DeleteRangeRequest): DeleteRangeResponse => {
    this.seen.push('deleteRange');
    const gone = this.matching(req.key, req.range_end);
    if (gone.length > 0) this.revision++;
    for (const [k, s] of gone) {
      this.data.delete(k);
      this.notify(1, k, { ...s, mod: this.revision, version: 0, value: Buffer.alloc(0) });
    }
    return { header: this.header(), deleted: gone.length, prev_kvs: req.prev_kv ? gone.map(([k, s]) => this.kv(k, s)) : [] };
  };

  private holds(c: Compare): boolean {
    const s = this.data.get(c.key.toString('latin1'));
    let diff: number;
    switch (c.target) {
      case CompareTarget.VALUE: diff = Buffer.compare(s?.value ?? Buffer.alloc(0), c.value ?? Buffer.alloc(0)); break;
      case CompareTarget.VERSION: diff = (s?.version ?? 0) - int64ToNumber(c.version ?? 0, 'version'); break;
      case CompareTarget.MOD: diff = (s?.mod ?? 0) - int64ToNumber(c.mod_revision ?? 0, 'mod_revision'); break;
      case CompareTarget.CREATE: diff = (s?.create ?? 0) - int64ToNumber(c.create_revision ?? 0, 'create_revision'); break;
      default: diff = (s?.lease ?? 0) - int64ToNumber(c.lease ?? 0, 'lease');
    }
    switch (c.result) {
      case CompareResult.EQUAL: return diff === 0;
      case CompareResult.GREATER: return diff > 0;
      case CompareResult.LESS: return diff < 0;
      default: return diff !== 0;
    }
  }

  private op(op: RequestOp): ResponseOp {
    switch (op.request) {
      case 'request_range': return { response_range: this.range(op.request_range as RangeRequest) };
      case 'request_put': return { response_put: this.put(op.request_put as PutRequest) };
      case 'request_delete_range': return { response_delete_range: this.deleteRange(op.request_delete_range as DeleteRangeRequest) };
      case 'request_txn': return { response_txn: this.txn(op.request_txn as TxnRequest) };
      default: return {};
    }
  }

  txn = (req: TxnRequest): TxnResponse => {
    this.seen.push('txn');
    const succeeded = req.compare.every((c) => this.holds(c));
    const responses = (succeeded ? req.success : req.failure).map((o) => this.op(o));
    return { header: this.header(), succeeded, responses };
  };

  status = (): StatusResponse => ({
    header: this.header(), version: '3.5.0-synod-fake', dbSize: 4096, leader: MEMBER_ID, raftIndex: this.revision,
    raftTerm: 2, raftAppliedIndex: this.revision, dbSizeInUse: 2048,
  });

  memberList = (): MembersResponse => ({
    header: this.header(),
    members: [{ ID: MEMBER_ID, name: 'fake-1', peerURLs: ['http://127.0.0.1:12380'], clientURLs: ['http://127.0.0.1:2379'] }],
  });

  /** Slow on purpose: answers after `ms`, or fails CANCELLED-like when the call ends first. */
  slowMs = 0;
  compactAborted: boolean | undefined;
  compact = async (_req: unknown, ctx: CallContext): Promise<{ header: ResponseHeader }> => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.slowMs);
      ctx.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); });
    });
    this.compactAborted = ctx.signal.aborted;
    return { header: this.header() };
  };

  watch = async (call: BidiCall<WatchRequest, WatchResponse>): Promise<void> => {
    const mine: number[] = [];
    try {
      for await (const req of call.requests) {
        if (req.request_union === 'create_request' && req.create_request !== null) {
          const id = this.nextWatchId++;
          mine.push(id);
          const c = req.create_request;
          this.watchers.push({ id, key: Buffer.from(c.key), end: Buffer.from(c.range_end), call });
          call.write({ header: this.header(), watch_id: id, created: true });
        } else if (req.request_union === 'cancel_request' && req.cancel_request !== null) {
          const id = int64ToNumber(req.cancel_request.watch_id, 'watch_id');
          this.watchers = this.watchers.filter((w) => w.id !== id);
          call.write({ header: this.header(), watch_id: id, canceled: true, cancel_reason: 'canceled by client' });
        } else if (req.request_union === 'progress_request') {
          call.write({ header: this.header(), watch_id: -1 });
        }
      }
    } finally {
      this.watchers = this.watchers.filter((w) => !mine.includes(w.id));
    }
  };

  private notify(type: 0 | 1, key: string, s: Stored): void {
    const k = Buffer.from(key, 'latin1');
    for (const w of this.watchers) {
      if (inRange(k, w.key, w.end)) {
        w.call.write({ header: this.header(), watch_id: w.id, events: [{ type, kv: this.kv(key, s) }] });
      }
    }
  }
}
