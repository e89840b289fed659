// Requests and replies of the replicated key-value state machine, as clients
// (the simulator's workload, the server's API) send them to a node.

import type { ClientId, NodeId } from '../core/ids.js';
import type { Value } from '../check/history.js';
import type { KvErrorCode, KvRead, KvResult, KvWriteOp } from './command.js';

/** A full etcd request (see command.ts): reads (range, lease queries) are served through readIndex, the others through the log. */
export type EtcdRequest = KvRead | KvWriteOp;

export type KvOp =
  | { readonly f: 'read'; readonly key: string }
  | { readonly f: 'write'; readonly key: string; readonly value: Value }
  | { readonly f: 'cas'; readonly key: string; readonly expected: Value; readonly value: Value }
  | { readonly f: 'delete'; readonly key: string }
  | { readonly f: 'range'; readonly prefix: string }
  /** Any etcd request, answered with its full result (the server's path). */
  | { readonly f: 'etcd'; readonly request: EtcdRequest; readonly user?: string; readonly internal?: true };

/**
 * `client` and `seq` identify a request across retries: the state machine
 * applies a (client, seq) once and answers every retry with the same result.
 */
export interface KvRequest {
  readonly client: ClientId;
  readonly seq: number;
  readonly op: KvOp;
}

export type KvReply =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: true; readonly entries: readonly (readonly [string, Value])[] }
  /** The answer to an 'etcd' op: its result, which may itself be an etcd error (compacted, key not found...). */
  | { readonly ok: true; readonly result: KvResult }
  /** A cas whose expected value did not match: nothing was written. */
  | { readonly ok: false; readonly error: 'cas-mismatch'; readonly actual: Value }
  /** Not the leader: retry at `leader` (or anywhere when null). The request had no effect here. */
  | { readonly ok: false; readonly error: 'not-leader'; readonly leader: NodeId | null }
  /** The outcome is unknown (leadership lost mid-way): the request may or may not take effect. */
  | { readonly ok: false; readonly error: 'unknown' }
  /**
   * Refused by the state machine's rules (too large, invalid...): this request had
   * no effect. For code 'stale-sequence' an earlier try of the same (client, seq)
   * may have taken effect: treat it as unknown.
   */
  | { readonly ok: false; readonly error: 'rejected'; readonly code: KvErrorCode; readonly message: string }
  /** The node cannot take the request now (its log is overloaded): no effect; retry later. */
  | { readonly ok: false; readonly error: 'busy' };
