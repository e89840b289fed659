// Leader election on etcd, with the same keys as etcd's clientv3/concurrency
// Election (and so `etcdctl elect`): candidates queue as `<name>/<lease hex>`
// with their proposal as the value; the lowest create revision leads. The
// leader's fencing token is its key's create revision; proclaim changes the
// value, never the token.

import * as grpc from '@grpc/grpc-js';
import type { EtcdClient } from '../server/client.js';
import { EtcdClientError, prefixEnd } from '../server/client.js';
import { NotLeaderError } from './errors.js';
import { firstCreated, putOp, range, type Kv } from './etcd-ops.js';
import { takeTurn, type AcquireOptions } from './queue.js';
import type { Session } from './session.js';
import { Tenure } from './tenure.js';
import { sleep, watchOnce } from './watcher.js';

export interface ElectionOptions {
  /** TTL of the lease behind each campaign, when no session is given (default 60 s). */
  readonly ttlSeconds?: number;
  /** A session to campaign under; by default each campaign has its own, closed on resign. */
  readonly session?: Session;
}

/** The leader as the store says: its proposal and its fencing token. */
export interface Leader {
  readonly key: Buffer;
  readonly value: Buffer;
  /** The leader key's create revision. */
  readonly token: number;
  /** Revision of the last proclaim (or of the campaign). */
  readonly modRevision: number;
  /** Lease ID, decimal. */
  readonly leaseId: string;
}

/**
 * Read failures observe() waits out: no member reachable or no leader
 * (UNAVAILABLE), or no answer in time. Anything else (a bad request, a
 * refused one) ends the iteration.
 */
const TRANSIENT = new Set<number>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
const leaderOf = (kv: Kv): Leader => ({ key: kv.key, value: kv.value, token: kv.createRevision, modRevision: kv.modRevision, leaseId: kv.lease });

/** An elected campaign. */
export class Leadership extends Tenure {
  private current: Buffer;

  constructor(turn: ConstructorParameters<typeof Tenure>[0], value: Buffer) {
    super(turn);
    this.current = value;
  }

  /** The value this leader last proclaimed. */
  get value(): Buffer {
    return this.current;
  }

  /** Publishes a new value while still leading; NotLeaderError if the leadership is over. */
  async proclaim(value: string | Buffer): Promise<void> {
    const v = bytes(value);
    const r = await this.guardedTxn([putOp(this.key, v, this.session.leaseId)]);
    if (!r.ok) throw new NotLeaderError(`'${this.key.toString()}' (token ${this.token}) no longer leads`);
    this.current = v;
  }

  /** Steps down, letting the next candidate lead. Resolves false if the server did not confirm it. */
  resign(): Promise<boolean> {
    return this.end();
  }
}

export class Election {
  /** `<name>/`: every candidate's key starts with it. */
  readonly prefix: Buffer;

  constructor(readonly client: EtcdClient, name: string | Buffer, private readonly opts: ElectionOptions = {}) {
    this.prefix = Buffer.concat([bytes(name), Buffer.from('/')]);
  }

  /** Runs for leader with `value`; resolves once elected. Rejects as Lock.acquire does. */
  async campaign(value: string | Buffer, opts: AcquireOptions = {}): Promise<Leadership> {
    const v = bytes(value);
    const turn = await takeTurn(this.client, this.prefix, v, { ...opts, session: this.opts.session, ttlSeconds: this.opts.ttlSeconds });
    const leadership = new Leadership(turn, v);
    try {
      // An adopted key (an earlier attempt of this session) may hold an older value.
      const now = await range(this.client, { key: turn.key });
      if (!now.kvs[0]?.value.equals(v)) await leadership.proclaim(v);
    } catch (err) {
      await leadership.resign();
      throw err;
    }
    return leadership;
  }

  /** The current leader, or undefined when there is none. */
  async leader(): Promise<Leader | undefined> {
    const r = await range(this.client, firstCreated(this.prefix, prefixEnd(this.prefix)));
    const kv = r.kvs[0];
    return kv === undefined ? undefined : leaderOf(kv);
  }

  /**
   * Every leader and every value a leader proclaims, in order, until the
   * signal aborts (or the consumer stops). A change may be skipped only in
   * favour of a later one (after a watch failure the current leader is re-read).
   * A read that fails for want of a reachable member or of time is tried again
   * with a growing back-off (100 ms to 2 s); any other failure ends the
   * iteration with its error.
   */
  async *observe(opts: { readonly signal?: AbortSignal } = {}): AsyncGenerator<Leader, void, undefined> {
    const signal = opts.signal ?? new AbortController().signal;
    const rangeEnd = prefixEnd(this.prefix);
    let last: Leader | undefined;
    while (!signal.aborted) {
      const r = await this.readRetrying(rangeEnd, signal);
      if (r === undefined) return;
      const kv = r.kvs[0];
      if (kv === undefined) {
        // No leader: wait for any candidate to appear, then re-read.
        for await (const e of watchOnce(this.client, { key: this.prefix, rangeEnd, fromRevision: r.revision + 1, signal })) if (e.type === 'put') break;
        continue;
      }
      const leader = leaderOf(kv);
      if (last === undefined || !last.key.equals(leader.key) || last.token !== leader.token || last.modRevision !== leader.modRevision) yield (last = leader);
      // Follow this leader's key: new values until it is deleted.
      for await (const e of watchOnce(this.client, { key: leader.key, fromRevision: r.revision + 1, signal })) {
        if (e.type === 'delete') break;
        if (e.kv.createRevision === leader.token) yield (last = leaderOf(e.kv));
      }
    }
  }

  /** The current leader's read, tried again while it fails transiently; undefined once the signal aborts. */
  private async readRetrying(rangeEnd: Buffer, signal: AbortSignal): Promise<Awaited<ReturnType<typeof range>> | undefined> {
    let wait = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        return await range(this.client, firstCreated(this.prefix, rangeEnd));
      } catch (err) {
        if (!(err instanceof EtcdClientError) || err.code === undefined || !TRANSIENT.has(err.code)) throw err;
        await sleep(wait, signal);
        wait = Math.min(RETRY_MAX_MS, wait * 2);
      }
    }
    return undefined;
  }
}
