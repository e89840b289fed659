// Fencing inside etcd: a write that takes effect only while a lock (or
// leadership) is still held. The check and the write are one etcd
// transaction, so they are ordered with every other change to the store: a
// holder that was paused, lost its lease and woke up believing it still holds
// has its write refused, however late it arrives. Kleppmann, "How to do
// distributed locking" (2016): a lock without such a check cannot give mutual
// exclusion when a holder can pause.

import type { EtcdClient } from '../server/client.js';
import { createRevisionIs, putOp, txn, type RequestOp } from './etcd-ops.js';

/** What a holder carries to prove it holds: its key and that key's create revision (the fencing token). */
export interface Fence {
  readonly key: Buffer;
  readonly token: number;
}

export type GuardedResult =
  | { readonly ok: true; readonly revision: number }
  /** The fence no longer holds: the key was deleted (released, lease expired) or replaced. Nothing was written. */
  | { readonly ok: false; readonly revision: number };

const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * Runs `ops` in one transaction if and only if the fence's key still exists
 * with the token as its create revision: that is, if its holder still holds.
 */
export async function guardedTxn(client: EtcdClient, fence: Fence, ops: readonly RequestOp[]): Promise<GuardedResult> {
  const r = await txn(client, [createRevisionIs(fence.key, fence.token)], ops);
  return { ok: r.succeeded, revision: r.revision };
}

/** Puts `key` = `value` if and only if the fence still holds. */
export function guardedPut(client: EtcdClient, fence: Fence, key: string | Buffer, value: string | Buffer): Promise<GuardedResult> {
  return guardedTxn(client, fence, [putOp(bytes(key), bytes(value))]);
}
