// What a lock holder or an elected leader holds: a key under a session's
// lease, its create revision as the fencing token, and a signal that aborts
// the moment the holder must stop using that token.
//
// The hold ends when (a) the holder releases or resigns, (b) the session is
// lost (lease expired or revoked, or renewals not confirmed within the TTL on
// this process's clock), or (c) the key is deleted by anyone (watched). In
// (b) and (c) 'lost' is emitted. The signal is the process's belief; the
// store's truth is the key itself, which guardedTxn checks atomically.

import { EventEmitter } from 'node:events';
import { LockLostError, LockReleasedError } from './errors.js';
import { range, type RequestOp } from './etcd-ops.js';
import { guardedTxn, guardedPut, type Fence, type GuardedResult } from './fence.js';
import { leaveLine, type Turn } from './queue.js';
import type { Session } from './session.js';
import { watchOnce } from './watcher.js';

export interface TenureEvents {
  lost: [LockLostError];
}

export class Tenure extends EventEmitter<TenureEvents> implements Fence {
  readonly session: Session;
  readonly key: Buffer;
  /** The fencing token: the create revision of the holder's key. Higher for every later holder. */
  readonly token: number;
  /** The store revision at which this holder was confirmed at the head of the line. */
  readonly acquiredRevision: number;
  private readonly ownsSession: boolean;
  private readonly controller = new AbortController();
  private readonly onSessionEnd = (): void => this.lose(`session ended: ${(this.session.signal.reason as Error).message}`);

  constructor(turn: Turn) {
    super();
    this.session = turn.session;
    this.key = turn.key;
    this.token = turn.token;
    this.acquiredRevision = turn.revision;
    this.ownsSession = turn.ownsSession;
    if (this.session.signal.aborted) this.onSessionEnd();
    else this.session.signal.addEventListener('abort', this.onSessionEnd, { once: true });
    void this.monitor(turn.revision + 1);
  }

  /** Aborts when the hold ends: reason LockLostError (lost) or LockReleasedError (released). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True until the hold ends, as far as this process knows. */
  get held(): boolean {
    return !this.signal.aborted;
  }

  /** Runs `ops` in one transaction only if this holder still holds (see fence.ts). */
  guardedTxn(ops: readonly RequestOp[]): Promise<GuardedResult> {
    return guardedTxn(this.session.client, this, ops);
  }

  /** Puts `key` = `value` only if this holder still holds. */
  guardedPut(key: string | Buffer, value: string | Buffer): Promise<GuardedResult> {
    return guardedPut(this.session.client, this, key, value);
  }

  private lose(why: string): void {
    if (this.signal.aborted) return;
    const err = new LockLostError(`'${this.key.toString()}' (token ${this.token}) lost: ${why}`);
    this.controller.abort(err);
    this.session.signal.removeEventListener('abort', this.onSessionEnd);
    this.session.unclaim(this.key.toString('latin1'));
    // An own session has nothing else attached: revoke it rather than renew a lease for nothing.
    if (this.ownsSession) void this.session.close();
    this.emit('lost', err);
  }

  /** Watches our own key: deleted by anyone means the hold is over. */
  private async monitor(fromRevision: number): Promise<void> {
    let from = fromRevision;
    try {
      while (!this.signal.aborted) {
        for await (const e of watchOnce(this.session.client, { key: this.key, fromRevision: from, signal: this.signal })) {
          if (e.type === 'delete') return this.lose(`key deleted at revision ${e.kv.modRevision}`);
          from = e.kv.modRevision + 1;
        }
        if (this.signal.aborted) return;
        // The stream failed: re-read our key before watching again.
        const r = await range(this.session.client, { key: this.key }).catch(() => null);
        if (r === null) continue;
        const own = r.kvs[0];
        if (own === undefined || own.createRevision !== this.token) return this.lose('key gone when re-read after a watch failure');
        from = r.revision + 1;
      }
    } catch (err) {
      this.lose(`watch on own key failed: ${(err as Error).message}`);
    }
  }

  /**
   * Ends the hold: aborts the signal first (stop using the token), then
   * deletes the key (revoking the lease if the session is the hold's own).
   * Resolves false if the server did not confirm it; the key then goes when
   * the lease expires.
   */
  protected async end(): Promise<boolean> {
    if (!this.signal.aborted) {
      this.controller.abort(new LockReleasedError(`'${this.key.toString()}' (token ${this.token}) released`));
      this.session.signal.removeEventListener('abort', this.onSessionEnd);
    }
    return leaveLine(this.session, this.key, this.ownsSession);
  }
}
