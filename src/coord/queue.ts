// The waiting line behind locks and elections, as etcd's concurrency package
// keeps it: every contender puts `<prefix><lease id in hex>` under its
// session's lease; keys are served in create-revision order; the contender
// whose key has the lowest create revision holds. A waiter watches only the
// key just ahead of it (the highest create revision below its own), so a
// release wakes one waiter, not the whole line.
//
// Invariant: a key's create revision is fixed while it exists and new keys
// get higher ones, so once no key below ours exists, none ever will again:
// we hold until our own key is deleted (release, or the lease ends).

import type { EtcdClient } from '../server/client.js';
import { AcquireAbortedError, CoordError, LockLostError, SessionLostError } from './errors.js';
import { createRevisionIs, deleteOp, putOp, rangeOp, txn } from './etcd-ops.js';
import { Session } from './session.js';
import { deletedOrInterrupted } from './watcher.js';
import { prefixEnd } from '../server/client.js';

export interface AcquireOptions {
  /** Give up when this aborts (the promise rejects with AcquireAbortedError). */
  readonly signal?: AbortSignal;
  /** Give up after this many milliseconds. */
  readonly timeoutMs?: number;
}

export interface TurnOptions extends AcquireOptions {
  /** The session to attach the key to; by default a new one, closed when the turn ends. */
  readonly session?: Session | undefined;
  readonly ttlSeconds?: number | undefined;
}

/** A contender that has reached the head of the line. */
export interface Turn {
  readonly session: Session;
  readonly ownsSession: boolean;
  readonly key: Buffer;
  /** The key's create revision: the fencing token. */
  readonly token: number;
  /** The store revision at which the holder was confirmed at the head of the line. */
  readonly revision: number;
}

/** etcd's Compare on the lease a key is attached to. */
export function leaseIs(key: Buffer, leaseId: string): Record<string, unknown> {
  return { result: 'EQUAL', target: 'LEASE', key, lease: leaseId };
}

/**
 * Puts `key` under the session's lease unless it exists; returns its create
 * revision. A key that already exists under our lease is ours (an earlier
 * attempt whose answer was lost) and is adopted, as etcd's Mutex does.
 */
async function enqueue(session: Session, key: Buffer, value: Buffer): Promise<number> {
  const r = await txn(session.client, [createRevisionIs(key, 0)], [putOp(key, value, session.leaseId)], [rangeOp({ key })]);
  if (r.succeeded) return r.revision;
  const kv = r.ranges[0]?.[0];
  if (kv === undefined || kv.lease !== session.leaseId) throw new CoordError(`'${key.toString()}' exists and is not attached to lease ${session.leaseIdHex}; another client wrote it`);
  return kv.createRevision;
}

/** Waits until no key under `prefix` has a create revision below `token`; returns the revision that showed it. */
async function waitForTurn(client: EtcdClient, prefix: Buffer, key: Buffer, token: number, signal: AbortSignal): Promise<number> {
  // Revision 1 is the empty store, so every key's create revision is at least 2.
  if (token < 2) throw new CoordError(`create revision ${token} of '${key.toString()}' is below 2`);
  const rangeEnd = prefixEnd(prefix);
  for (;;) {
    signal.throwIfAborted();
    // One read at one revision: the key just ahead of ours, and ours.
    const r = await txn(client, [], [
      rangeOp({ key: prefix, rangeEnd, limit: 1, sort: { order: 'DESCEND', target: 'CREATE' }, maxCreateRevision: token - 1 }),
      rangeOp({ key }),
    ]);
    const own = r.ranges[1]?.[0];
    if (own === undefined || own.createRevision !== token) throw new LockLostError(`'${key.toString()}' was deleted while waiting (its session lease expired or was revoked)`);
    const ahead = r.ranges[0]?.[0];
    if (ahead === undefined) return r.revision;
    await deletedOrInterrupted(client, ahead.key, r.revision + 1, signal);
  }
}

function giveUpReason(err: unknown, session: Session, user: AbortSignal | undefined, timeoutMs: number | undefined): unknown {
  if (session.signal.aborted && session.signal.reason instanceof SessionLostError) {
    return new LockLostError(`session lost while waiting: ${session.signal.reason.message}`, { cause: session.signal.reason });
  }
  if (user?.aborted) return new AcquireAbortedError('acquire aborted by the caller', { cause: user.reason });
  if (timeoutMs !== undefined && err instanceof DOMException && err.name === 'TimeoutError') return new AcquireAbortedError(`not acquired within ${timeoutMs} ms`, { cause: err });
  return err;
}

/** Joins the line under `prefix` with `value` and waits for the head of it. */
export async function takeTurn(client: EtcdClient, prefix: Buffer, value: Buffer, opts: TurnOptions): Promise<Turn> {
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs >= 0)) throw new CoordError(`timeoutMs must be >= 0, got ${opts.timeoutMs}`);
  const ownsSession = opts.session === undefined;
  const session = opts.session ?? (await Session.create(client, opts.ttlSeconds === undefined ? {} : { ttlSeconds: opts.ttlSeconds }));
  const key = Buffer.concat([prefix, Buffer.from(session.leaseIdHex)]);
  const claim = key.toString('latin1');
  if (!session.claim(claim)) throw new CoordError(`session ${session.leaseIdHex} already holds or waits on '${key.toString()}'; use one session per contender`);
  const signals = [session.signal];
  if (opts.signal !== undefined) signals.push(opts.signal);
  if (opts.timeoutMs !== undefined) signals.push(AbortSignal.timeout(opts.timeoutMs));
  const signal = AbortSignal.any(signals);
  try {
    signal.throwIfAborted();
    const token = await enqueue(session, key, value);
    const revision = await waitForTurn(client, prefix, key, token, signal);
    return { session, ownsSession, key, token, revision };
  } catch (err) {
    const reason = giveUpReason(signal.aborted ? signal.reason : err, session, opts.signal, opts.timeoutMs);
    await leaveLine(session, key, ownsSession);
    throw reason;
  }
}

/**
 * Removes our key (only if it is still ours) and ends an owned session.
 * Never throws; resolves false if the server did not confirm the removal.
 */
export async function leaveLine(session: Session, key: Buffer, ownsSession: boolean): Promise<boolean> {
  session.unclaim(key.toString('latin1'));
  if (ownsSession) return session.close();
  return txn(session.client, [leaseIs(key, session.leaseId)], [deleteOp(key)]).then(() => true, () => false);
}
