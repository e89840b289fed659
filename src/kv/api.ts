// Requests and replies of the replicated key-value state machine, as clients
// (the simulator's workload, the server's API) send them to a node.

import type { ClientId, NodeId } from '../core/ids.js';
import type { Value } from '../check/history.js';

export type KvOp =
  | { readonly f: 'read'; readonly key: string }
  | { readonly f: 'write'; readonly key: string; readonly value: Value }
  | { readonly f: 'cas'; readonly key: string; readonly expected: Value; readonly value: Value }
  | { readonly f: 'delete'; readonly key: string }
  | { readonly f: 'range'; readonly prefix: string };

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
  /** A cas whose expected value did not match: nothing was written. */
  | { readonly ok: false; readonly error: 'cas-mismatch'; readonly actual: Value }
  /** Not the leader: retry at `leader` (or anywhere when null). The request had no effect here. */
  | { readonly ok: false; readonly error: 'not-leader'; readonly leader: NodeId | null }
  /** The outcome is unknown (leadership lost mid-way): the request may or may not take effect. */
  | { readonly ok: false; readonly error: 'unknown' };
