// A distributed lock on etcd, with the same keys as etcd's clientv3/concurrency
// Mutex (and so `etcdctl lock`): contenders queue as `<name>/<lease hex>`, the
// lowest create revision holds, each waiter watches only its predecessor.
// See queue.ts for the line and tenure.ts for what a holder holds, and
// docs/coordination.md for what a lock does and does not guarantee.

import type { EtcdClient } from '../server/client.js';
import { prefixEnd } from '../server/client.js';
import { firstCreated, range } from './etcd-ops.js';
import { takeTurn, type AcquireOptions } from './queue.js';
import type { Session } from './session.js';
import { Tenure } from './tenure.js';

export interface LockOptions {
  /** TTL of the lease behind each acquire, when no session is given (default 60 s, as etcd's). */
  readonly ttlSeconds?: number;
  /**
   * A session to hold the lock under (shared with other locks of this
   * process). By default every acquire makes its own session and the release
   * closes it. One session can wait on or hold a given lock only once at a time.
   */
  readonly session?: Session;
}

/** A held lock. `token` is the fencing token; `signal` aborts when the holder must stop. */
export class HeldLock extends Tenure {
  /** Releases the lock. See Tenure.end: resolves false if the server did not confirm it. */
  release(): Promise<boolean> {
    return this.end();
  }
}

/** Who holds a lock, as the store says now. */
export interface LockHolder {
  readonly key: Buffer;
  readonly token: number;
  /** Lease ID, decimal. */
  readonly leaseId: string;
}

const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

export class Lock {
  /** `<name>/`: every contender's key starts with it. */
  readonly prefix: Buffer;

  constructor(readonly client: EtcdClient, name: string | Buffer, private readonly opts: LockOptions = {}) {
    this.prefix = Buffer.concat([bytes(name), Buffer.from('/')]);
  }

  /**
   * Waits for the lock. Rejects with AcquireAbortedError on timeout or abort,
   * LockLostError if the session is lost while waiting; the waiter's key is
   * removed in both cases.
   */
  async acquire(opts: AcquireOptions = {}): Promise<HeldLock> {
    const turn = await takeTurn(this.client, this.prefix, Buffer.alloc(0), { ...opts, session: this.opts.session, ttlSeconds: this.opts.ttlSeconds });
    return new HeldLock(turn);
  }

  /** Acquires, runs `fn` with the held lock, and releases however `fn` ends. */
  async do<T>(fn: (held: HeldLock) => Promise<T>, opts: AcquireOptions = {}): Promise<T> {
    const held = await this.acquire(opts);
    try {
      return await fn(held);
    } finally {
      await held.release();
    }
  }

  /** The current holder, or undefined when nobody holds or waits. */
  async holder(): Promise<LockHolder | undefined> {
    const r = await range(this.client, firstCreated(this.prefix, prefixEnd(this.prefix)));
    const kv = r.kvs[0];
    return kv === undefined ? undefined : { key: kv.key, token: kv.createRevision, leaseId: kv.lease };
  }
}
