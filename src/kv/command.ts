// The log command of the replicated key-value store and the results of applying
// it. The shapes follow the etcd v3 API (KV service: Range, Put, DeleteRange,
// Txn, Compact), with camelCase field names, so the server maps gRPC requests
// onto them one to one. Every command carries a client session (client, seq)
// for exactly-once application (Raft thesis §6.3).

import type { ClientId } from '../core/ids.js';
import type { Bytes } from './bytes.js';
import type { AuthOp, AuthResponse } from './auth.js';

/**
 * etcd's key range: `rangeEnd` absent or empty selects `key` alone; "\0"
 * selects every key >= `key`; otherwise the half-open interval [key, rangeEnd).
 * A `key` of "\0" with `rangeEnd` "\0" selects every key.
 */
export interface KeyRange {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

export interface RangeRequest extends KeyRange {
  /** At most this many keys; 0 or absent: no limit. */
  readonly limit?: number;
  /** Read the store as of this revision; 0 or absent: the current revision. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  /** Filters (0 or absent: none): keep keys whose mod/create revision lies in [min, max]. */
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface PutRequest {
  readonly key: Bytes;
  readonly value: Bytes;
  /** Lease id to attach; 0 or absent: none. */
  readonly lease?: number;
  readonly prevKv?: boolean;
  /** Keep the current value (the key must exist). */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  readonly ignoreLease?: boolean;
}

export interface DeleteRangeRequest extends KeyRange {
  readonly prevKv?: boolean;
}

export type CompareResult = 'equal' | 'not-equal' | 'less' | 'greater';

/** etcd's Compare: what to compare, on which key (or every key of a range). */
export type Compare = KeyRange & { readonly result: CompareResult } & (
    | { readonly target: 'value'; readonly value: Bytes }
    | { readonly target: 'version'; readonly version: number }
    | { readonly target: 'create'; readonly createRevision: number }
    | { readonly target: 'mod'; readonly modRevision: number }
    | { readonly target: 'lease'; readonly lease: number }
  );

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export type RequestOp =
  | ({ readonly type: 'range' } & RangeRequest)
  | ({ readonly type: 'put' } & PutRequest)
  | ({ readonly type: 'delete-range' } & DeleteRangeRequest)
  | ({ readonly type: 'txn' } & TxnRequest);

export interface CompactRequest {
  readonly revision: number;
}

/** etcd's LeaseGrant. `id` 0: the store picks one (the log index of the grant, or the next free id above it). */
export interface LeaseGrantRequest {
  readonly id: number;
  /** Seconds; the server keeps the expiry clock (see docs/kv.md). */
  readonly ttl: number;
}

/** etcd's LeaseRevoke: the lease ends and every key attached to it is deleted, in one revision. */
export interface LeaseRevokeRequest {
  readonly id: number;
}

/** What a log entry may ask of the store. Reads go through readIndex, not the log. */
export type KvWriteOp =
  | ({ readonly type: 'put' } & PutRequest)
  | ({ readonly type: 'delete-range' } & DeleteRangeRequest)
  | ({ readonly type: 'txn' } & TxnRequest)
  | ({ readonly type: 'compact' } & CompactRequest)
  | ({ readonly type: 'lease-grant' } & LeaseGrantRequest)
  | ({ readonly type: 'lease-revoke' } & LeaseRevokeRequest)
  /** A change to users, roles or the enabled flag (src/kv/auth.ts). */
  | { readonly type: 'auth'; readonly change: AuthOp };

/** Reads, served from the local state once the log has confirmed a read index. */
export type KvRead =
  | ({ readonly type: 'range' } & RangeRequest)
  /** etcd's LeaseTimeToLive: the lease's granted TTL and (with `keys`) its keys; the remaining TTL is the server's. */
  | { readonly type: 'lease-time-to-live'; readonly id: number; readonly keys?: boolean }
  /** etcd's LeaseLeases: every lease. */
  | { readonly type: 'lease-leases' };

/**
 * One log entry of the key-value store. `seq` >= 1 is the client's request
 * number: a (client, seq) already applied is answered with its saved result and
 * not applied again. `seq` 0 opts out of sessions (no dedupe, nothing saved):
 * for callers without retry identity, such as plain etcd clients.
 */
export interface KvCommand {
  readonly client: ClientId;
  readonly seq: number;
  readonly op: KvWriteOp;
  /**
   * Who asked, for the permission check at apply time once auth is enabled
   * (src/kv/auth.ts): a user the server authenticated; absent for a client
   * without a token.
   */
  readonly user?: string;
  /** Proposed by the cluster itself (lease expiry, auto-compaction): not checked. */
  readonly internal?: true;
}

/** etcd's mvccpb.KeyValue. `lease` is 0 when none. */
export interface KeyValue {
  readonly key: Bytes;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Bytes;
  readonly lease: number;
}

export interface RangeResponse {
  readonly type: 'range';
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  /** How many keys matched (before `limit`). */
  readonly count: number;
}

export interface PutResponse {
  readonly type: 'put';
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  readonly type: 'delete-range';
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export interface TxnResponse {
  readonly type: 'txn';
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactResponse {
  readonly type: 'compact';
}

export interface LeaseGrantResponse {
  readonly type: 'lease-grant';
  readonly id: number;
  readonly ttl: number;
}

export interface LeaseRevokeResponse {
  readonly type: 'lease-revoke';
  /** Keys deleted with the lease. */
  readonly deleted: number;
}

export interface LeaseTimeToLiveResponse {
  readonly type: 'lease-time-to-live';
  readonly id: number;
  readonly grantedTtl: number;
  /** The keys attached, ascending (empty unless asked for). */
  readonly keys: readonly Bytes[];
}

export interface LeaseLeasesResponse {
  readonly type: 'lease-leases';
  readonly leases: readonly { readonly id: number; readonly ttl: number }[];
}

export type ResponseOp = RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse;
export type KvResponse = ResponseOp | CompactResponse | LeaseGrantResponse | LeaseRevokeResponse | LeaseTimeToLiveResponse | LeaseLeasesResponse | AuthResponse;

/** Errors a request can meet; the messages are etcd's where etcd has one. */
export type KvErrorCode =
  | 'compacted'
  | 'future-revision'
  | 'key-not-found'
  | 'empty-key'
  | 'key-too-large'
  | 'value-too-large'
  | 'request-too-large'
  | 'too-many-ops'
  | 'duplicate-key'
  | 'invalid'
  | 'stale-sequence'
  | 'lease-not-found'
  | 'lease-exists'
  | 'lease-ttl-too-large'
  | AuthErrorCode;

/** etcd's auth errors (src/kv/auth.ts). */
export type AuthErrorCode =
  | 'user-empty'
  | 'user-exists'
  | 'user-not-found'
  | 'role-empty'
  | 'role-exists'
  | 'role-not-found'
  | 'role-not-granted'
  | 'permission-not-granted'
  | 'permission-not-given'
  | 'root-user-missing'
  | 'root-role-missing'
  | 'invalid-auth-mgmt'
  | 'auth-not-enabled'
  | 'auth-failed'
  | 'invalid-auth-token'
  | 'permission-denied'
  | 'password-empty';

export interface KvError {
  readonly code: KvErrorCode;
  readonly message: string;
}

/** The outcome of one command or read. `revision` is the store revision after it (etcd's header.revision). */
export type KvResult =
  | { readonly ok: true; readonly revision: number; readonly response: KvResponse }
  | { readonly ok: false; readonly revision: number; readonly error: KvError };

export function kvError(code: KvErrorCode, message: string): KvError {
  return { code, message };
}

export const ERROR_MESSAGES: Readonly<Record<KvErrorCode, string>> = {
  compacted: 'mvcc: required revision has been compacted',
  'future-revision': 'mvcc: required revision is a future revision',
  'key-not-found': 'etcdserver: key not found',
  'empty-key': 'etcdserver: key is not provided',
  'key-too-large': 'synod: key is too large',
  'value-too-large': 'synod: value is too large',
  'request-too-large': 'etcdserver: request is too large',
  'too-many-ops': 'etcdserver: too many operations in txn request',
  'duplicate-key': 'etcdserver: duplicate key given in txn request',
  invalid: 'synod: invalid request',
  'stale-sequence': 'synod: request sequence is older than the session keeps; it may have been applied already',
  'lease-not-found': 'etcdserver: requested lease not found',
  'lease-exists': 'etcdserver: lease already exists',
  'lease-ttl-too-large': 'etcdserver: too large lease TTL',
  'user-empty': 'etcdserver: user name is empty',
  'user-exists': 'etcdserver: user name already exists',
  'user-not-found': 'etcdserver: user name not found',
  'role-empty': 'etcdserver: role name is empty',
  'role-exists': 'etcdserver: role name already exists',
  'role-not-found': 'etcdserver: role name not found',
  'role-not-granted': 'etcdserver: role is not granted to the user',
  'permission-not-granted': 'etcdserver: permission is not granted to the role',
  'permission-not-given': 'etcdserver: permission not given',
  'root-user-missing': 'etcdserver: root user does not exist',
  'root-role-missing': 'etcdserver: root user does not have root role',
  'invalid-auth-mgmt': 'etcdserver: invalid auth management',
  'auth-not-enabled': 'etcdserver: authentication is not enabled',
  'auth-failed': 'etcdserver: authentication failed, invalid user ID or password',
  'invalid-auth-token': 'etcdserver: invalid auth token',
  'permission-denied': 'etcdserver: permission denied',
  'password-empty': 'synod: a user needs a password, or the no_password option',
};
