// TypeScript shapes of the etcd v3 messages (proto/etcdserverpb/rpc.proto),
// with the .proto field names.
//
// Requests are what the wire layer decodes: every scalar field is present
// (proto3 default when absent on the wire), int64/uint64 fields are protobufjs
// Longs (exact over the whole 64-bit range), bytes are Buffers that are views
// of the received HTTP/2 data (copy them to keep them beyond the call), unset
// message fields are null, and a oneof's name (`request`, `request_union`,
// `target_union`) holds the name of the field that is set.
//
// Responses are what handlers return: every field optional (absent = proto3
// default), 64-bit fields a number (a safe integer) or a Long.
import type { Long } from './proto.js';

/** A 64-bit field in a response: a safe-integer number or a protobufjs Long. */
export type Int64 = number | Long;

// ---- shared ---------------------------------------------------------------

export interface ResponseHeader {
  cluster_id?: Int64;
  member_id?: Int64;
  revision?: Int64;
  raft_term?: Int64;
}

export interface KeyValue {
  key?: Uint8Array;
  create_revision?: Int64;
  mod_revision?: Int64;
  version?: Int64;
  value?: Uint8Array;
  lease?: Int64;
}

export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface Event {
  type?: number;
  kv?: KeyValue;
  prev_kv?: KeyValue;
}

// ---- KV -------------------------------------------------------------------

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;

export interface RangeRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly limit: Long;
  readonly revision: Long;
  readonly sort_order: number;
  readonly sort_target: number;
  readonly serializable: boolean;
  readonly keys_only: boolean;
  readonly count_only: boolean;
  readonly min_mod_revision: Long;
  readonly max_mod_revision: Long;
  readonly min_create_revision: Long;
  readonly max_create_revision: Long;
}
export interface RangeResponse {
  header?: ResponseHeader;
  kvs?: KeyValue[];
  more?: boolean;
  count?: Int64;
}

export interface PutRequest {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly lease: Long;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}
export interface PutResponse {
  header?: ResponseHeader;
  prev_kv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly prev_kv: boolean;
}
export interface DeleteRangeResponse {
  header?: ResponseHeader;
  deleted?: Int64;
  prev_kvs?: KeyValue[];
}

export interface RequestOp {
  readonly request: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn' | undefined;
  readonly request_range: RangeRequest | null;
  readonly request_put: PutRequest | null;
  readonly request_delete_range: DeleteRangeRequest | null;
  readonly request_txn: TxnRequest | null;
}
export interface ResponseOp {
  response_range?: RangeResponse;
  response_put?: PutResponse;
  response_delete_range?: DeleteRangeResponse;
  response_txn?: TxnResponse;
}

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

export interface Compare {
  readonly result: number;
  readonly target: number;
  readonly key: Buffer;
  readonly target_union: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease' | undefined;
  readonly version: Long | null;
  readonly create_revision: Long | null;
  readonly mod_revision: Long | null;
  readonly value: Buffer | null;
  readonly lease: Long | null;
  readonly range_end: Buffer;
}

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}
export interface TxnResponse {
  header?: ResponseHeader;
  succeeded?: boolean;
  responses?: ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: Long;
  readonly physical: boolean;
}
export interface CompactionResponse {
  header?: ResponseHeader;
}

// ---- Watch ----------------------------------------------------------------

export const WatchFilterType = { NOPUT: 0, NODELETE: 1 } as const;

export interface WatchCreateRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly start_revision: Long;
  readonly progress_notify: boolean;
  readonly filters: readonly number[];
  readonly prev_kv: boolean;
  readonly watch_id: Long;
  readonly fragment: boolean;
}
export interface WatchRequest {
  readonly request_union: 'create_request' | 'cancel_request' | 'progress_request' | undefined;
  readonly create_request: WatchCreateRequest | null;
  readonly cancel_request: { readonly watch_id: Long } | null;
  readonly progress_request: object | null;
}
export interface WatchResponse {
  header?: ResponseHeader;
  watch_id?: Int64;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: Int64;
  cancel_reason?: string;
  fragment?: boolean;
  events?: Event[];
}

// ---- Lease ----------------------------------------------------------------

export interface LeaseGrantRequest {
  readonly TTL: Long;
  readonly ID: Long;
}
export interface LeaseGrantResponse {
  header?: ResponseHeader;
  ID?: Int64;
  TTL?: Int64;
  error?: string;
}
export interface LeaseRevokeRequest {
  readonly ID: Long;
}
export interface LeaseRevokeResponse {
  header?: ResponseHeader;
}
export interface LeaseKeepAliveRequest {
  readonly ID: Long;
}
export interface LeaseKeepAliveResponse {
  header?: ResponseHeader;
  ID?: Int64;
  TTL?: Int64;
}
export interface LeaseTimeToLiveRequest {
  readonly ID: Long;
  readonly keys: boolean;
}
export interface LeaseTimeToLiveResponse {
  header?: ResponseHeader;
  ID?: Int64;
  TTL?: Int64;
  grantedTTL?: Int64;
  keys?: Uint8Array[];
}
export type LeaseLeasesRequest = object;
export interface LeaseLeasesResponse {
  header?: ResponseHeader;
  leases?: { ID?: Int64 }[];
}

// ---- Cluster --------------------------------------------------------------

export interface Member {
  ID?: Int64;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}
export interface MemberAddRequest {
  readonly peerURLs: readonly string[];
  readonly isLearner: boolean;
}
export interface MemberAddResponse {
  header?: ResponseHeader;
  member?: Member;
  members?: Member[];
}
export interface MemberRemoveRequest {
  readonly ID: Long;
}
export interface MemberUpdateRequest {
  readonly ID: Long;
  readonly peerURLs: readonly string[];
}
export interface MemberListRequest {
  readonly linearizable: boolean;
}
export interface MemberPromoteRequest {
  readonly ID: Long;
}
/** MemberRemove, MemberUpdate, MemberList and MemberPromote all answer this shape. */
export interface MembersResponse {
  header?: ResponseHeader;
  members?: Member[];
}

// ---- Maintenance ----------------------------------------------------------

export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;

export interface AlarmRequest {
  readonly action: number;
  readonly memberID: Long;
  readonly alarm: number;
}
export interface AlarmResponse {
  header?: ResponseHeader;
  alarms?: { memberID?: Int64; alarm?: number }[];
}
export type StatusRequest = object;
export interface StatusResponse {
  header?: ResponseHeader;
  version?: string;
  dbSize?: Int64;
  leader?: Int64;
  raftIndex?: Int64;
  raftTerm?: Int64;
  raftAppliedIndex?: Int64;
  errors?: string[];
  dbSizeInUse?: Int64;
  isLearner?: boolean;
  storageVersion?: string;
  dbSizeQuota?: Int64;
  downgradeInfo?: { enabled?: boolean; targetVersion?: string };
}
export type DefragmentRequest = object;
export type HashRequest = object;
export interface HashResponse {
  header?: ResponseHeader;
  hash?: number;
}
export interface HashKVRequest {
  readonly revision: Long;
}
export interface HashKVResponse {
  header?: ResponseHeader;
  hash?: number;
  compact_revision?: Int64;
  hash_revision?: Int64;
}
export type SnapshotRequest = object;
export interface SnapshotResponse {
  header?: ResponseHeader;
  remaining_bytes?: Int64;
  blob?: Uint8Array;
  version?: string;
}
export interface MoveLeaderRequest {
  readonly targetID: Long;
}
export const DowngradeAction = { VALIDATE: 0, ENABLE: 1, CANCEL: 2 } as const;
export interface DowngradeRequest {
  readonly action: number;
  readonly version: string;
}
export interface DowngradeResponse {
  header?: ResponseHeader;
  version?: string;
}
/** Defragment, MoveLeader and every Auth call without a payload answer this shape. */
export interface HeaderOnlyResponse {
  header?: ResponseHeader;
}

// ---- Auth -----------------------------------------------------------------

export const PermissionType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;

export interface PermissionIn {
  readonly permType: number;
  readonly key: Buffer;
  readonly range_end: Buffer;
}
export interface Permission {
  permType?: number;
  key?: Uint8Array;
  range_end?: Uint8Array;
}
export type AuthEmptyRequest = object;
export interface AuthStatusResponse {
  header?: ResponseHeader;
  enabled?: boolean;
  authRevision?: Int64;
}
export interface AuthenticateRequest {
  readonly name: string;
  readonly password: string;
}
export interface AuthenticateResponse {
  header?: ResponseHeader;
  token?: string;
}
export interface AuthUserAddRequest {
  readonly name: string;
  readonly password: string;
  readonly options: { readonly no_password: boolean } | null;
  readonly hashedPassword: string;
}
export interface AuthNameRequest {
  readonly name: string;
}
export interface AuthUserChangePasswordRequest {
  readonly name: string;
  readonly password: string;
  readonly hashedPassword: string;
}
export interface AuthUserGrantRoleRequest {
  readonly user: string;
  readonly role: string;
}
export interface AuthUserRevokeRoleRequest {
  readonly name: string;
  readonly role: string;
}
export interface AuthRoleRequest {
  readonly role: string;
}
export interface AuthRoleGrantPermissionRequest {
  readonly name: string;
  readonly perm: PermissionIn | null;
}
export interface AuthRoleRevokePermissionRequest {
  readonly role: string;
  readonly key: Buffer;
  readonly range_end: Buffer;
}
export interface AuthRolesResponse {
  header?: ResponseHeader;
  roles?: string[];
}
export interface AuthUserListResponse {
  header?: ResponseHeader;
  users?: string[];
}
export interface AuthRoleGetResponse {
  header?: ResponseHeader;
  perm?: Permission[];
}

// ---- grpc.health.v1 ---------------------------------------------------------

export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
export interface HealthCheckRequest {
  readonly service: string;
}
export interface HealthCheckResponse {
  status?: number;
}

// ---- v3lockpb, v3electionpb -------------------------------------------------

export interface LockRequest {
  readonly name: Buffer;
  readonly lease: Long;
}
export interface LockResponse {
  header?: ResponseHeader;
  key?: Uint8Array;
}
export interface UnlockRequest {
  readonly key: Buffer;
}
export interface LeaderKeyIn {
  readonly name: Buffer;
  readonly key: Buffer;
  readonly rev: Long;
  readonly lease: Long;
}
export interface LeaderKey {
  name?: Uint8Array;
  key?: Uint8Array;
  rev?: Int64;
  lease?: Int64;
}
export interface CampaignRequest {
  readonly name: Buffer;
  readonly lease: Long;
  readonly value: Buffer;
}
export interface CampaignResponse {
  header?: ResponseHeader;
  leader?: LeaderKey;
}
export interface ProclaimRequest {
  readonly leader: LeaderKeyIn | null;
  readonly value: Buffer;
}
export interface LeaderRequest {
  readonly name: Buffer;
}
export interface LeaderResponse {
  header?: ResponseHeader;
  kv?: KeyValue;
}
export interface ResignRequest {
  readonly leader: LeaderKeyIn | null;
}
