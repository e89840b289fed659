// The interface synod's etcd server implements behind the gRPC wire layer.
//
// Each method is optional: a method with no handler answers UNIMPLEMENTED
// "synod does not offer <Service>.<Method> yet". A unary handler returns the
// response (or a promise of it); to fail, it throws a GrpcError(code, message)
// (any other error is answered UNKNOWN). Filling in the ResponseHeader
// (cluster_id, member_id, revision, raft_term) of every response is the
// handler's job: the wire layer never invents one.
import type * as T from './etcd-types.js';
import { GrpcError, GrpcStatus } from './status.js';
import { longToBigInt, longToNumber, type Long } from './proto.js';

/** What a handler may know about the call it serves. */
export interface CallContext {
  /** gRPC path, e.g. "/etcdserverpb.KV/Put". */
  readonly method: string;
  /** Request metadata as HTTP/2 headers (lower-case names; "-bin" values are base64). */
  readonly metadata: Readonly<Record<string, string>>;
  /** performance.now() at which the call's grpc-timeout runs out; Infinity without one. */
  readonly deadline: number;
  /** True once the client cancelled, the deadline passed or the connection dropped. */
  readonly cancelled: boolean;
  /** Aborted when `cancelled` becomes true (created on first use). */
  readonly signal: AbortSignal;
}

/** A call whose responses are a stream (Maintenance.Snapshot, and the bidi calls). */
export interface ServerStreamCall<Res> extends CallContext {
  /**
   * Sends one response. Returns false when the outgoing buffer is above its
   * high-water mark (await `drained()` before writing more) or the call is over.
   * Outgoing bytes beyond the server's maxPendingWriteBytes end the call with
   * RESOURCE_EXHAUSTED: a client that stops reading cannot exhaust memory.
   */
  write(response: Res): boolean;
  /** Resolves when the outgoing buffer has drained, or the call is over. */
  drained(): Promise<void>;
}

/**
 * A bidirectional call (Watch, LeaseKeepAlive). `requests` ends when the
 * client half-closes or the call is cancelled. The call ends, with OK, when
 * the handler's promise resolves; with the error's status when it rejects.
 */
export interface BidiCall<Req, Res> extends ServerStreamCall<Res> {
  readonly requests: AsyncIterable<Req>;
}

type Unary<Req, Res> = (request: Req, ctx: CallContext) => Res | Promise<Res>;

export interface EtcdHandlers {
  // KV
  range?: Unary<T.RangeRequest, T.RangeResponse>;
  put?: Unary<T.PutRequest, T.PutResponse>;
  deleteRange?: Unary<T.DeleteRangeRequest, T.DeleteRangeResponse>;
  txn?: Unary<T.TxnRequest, T.TxnResponse>;
  compact?: Unary<T.CompactionRequest, T.CompactionResponse>;
  // Watch
  watch?: (call: BidiCall<T.WatchRequest, T.WatchResponse>) => Promise<void>;
  // Lease
  leaseGrant?: Unary<T.LeaseGrantRequest, T.LeaseGrantResponse>;
  leaseRevoke?: Unary<T.LeaseRevokeRequest, T.LeaseRevokeResponse>;
  leaseKeepAlive?: (call: BidiCall<T.LeaseKeepAliveRequest, T.LeaseKeepAliveResponse>) => Promise<void>;
  leaseTimeToLive?: Unary<T.LeaseTimeToLiveRequest, T.LeaseTimeToLiveResponse>;
  leaseLeases?: Unary<T.LeaseLeasesRequest, T.LeaseLeasesResponse>;
  // Cluster
  memberAdd?: Unary<T.MemberAddRequest, T.MemberAddResponse>;
  memberRemove?: Unary<T.MemberRemoveRequest, T.MembersResponse>;
  memberUpdate?: Unary<T.MemberUpdateRequest, T.MembersResponse>;
  memberList?: Unary<T.MemberListRequest, T.MembersResponse>;
  memberPromote?: Unary<T.MemberPromoteRequest, T.MembersResponse>;
  // Maintenance
  alarm?: Unary<T.AlarmRequest, T.AlarmResponse>;
  status?: Unary<T.StatusRequest, T.StatusResponse>;
  defragment?: Unary<T.DefragmentRequest, T.HeaderOnlyResponse>;
  hash?: Unary<T.HashRequest, T.HashResponse>;
  hashKV?: Unary<T.HashKVRequest, T.HashKVResponse>;
  snapshot?: (request: T.SnapshotRequest, call: ServerStreamCall<T.SnapshotResponse>) => Promise<void>;
  moveLeader?: Unary<T.MoveLeaderRequest, T.HeaderOnlyResponse>;
  downgrade?: Unary<T.DowngradeRequest, T.DowngradeResponse>;
  // Auth
  authEnable?: Unary<T.AuthEmptyRequest, T.HeaderOnlyResponse>;
  authDisable?: Unary<T.AuthEmptyRequest, T.HeaderOnlyResponse>;
  authStatus?: Unary<T.AuthEmptyRequest, T.AuthStatusResponse>;
  authenticate?: Unary<T.AuthenticateRequest, T.AuthenticateResponse>;
  userAdd?: Unary<T.AuthUserAddRequest, T.HeaderOnlyResponse>;
  userGet?: Unary<T.AuthNameRequest, T.AuthRolesResponse>;
  userList?: Unary<T.AuthEmptyRequest, T.AuthUserListResponse>;
  userDelete?: Unary<T.AuthNameRequest, T.HeaderOnlyResponse>;
  userChangePassword?: Unary<T.AuthUserChangePasswordRequest, T.HeaderOnlyResponse>;
  userGrantRole?: Unary<T.AuthUserGrantRoleRequest, T.HeaderOnlyResponse>;
  userRevokeRole?: Unary<T.AuthUserRevokeRoleRequest, T.HeaderOnlyResponse>;
  roleAdd?: Unary<T.AuthNameRequest, T.HeaderOnlyResponse>;
  roleGet?: Unary<T.AuthRoleRequest, T.AuthRoleGetResponse>;
  roleList?: Unary<T.AuthEmptyRequest, T.AuthRolesResponse>;
  roleDelete?: Unary<T.AuthRoleRequest, T.HeaderOnlyResponse>;
  roleGrantPermission?: Unary<T.AuthRoleGrantPermissionRequest, T.HeaderOnlyResponse>;
  roleRevokePermission?: Unary<T.AuthRoleRevokePermissionRequest, T.HeaderOnlyResponse>;
  // v3lockpb.Lock and v3electionpb.Election (etcd's server-side recipes)
  lock?: Unary<T.LockRequest, T.LockResponse>;
  unlock?: Unary<T.UnlockRequest, T.HeaderOnlyResponse>;
  campaign?: Unary<T.CampaignRequest, T.CampaignResponse>;
  proclaim?: Unary<T.ProclaimRequest, T.HeaderOnlyResponse>;
  leader?: Unary<T.LeaderRequest, T.LeaderResponse>;
  observe?: (request: T.LeaderRequest, call: ServerStreamCall<T.LeaderResponse>) => Promise<void>;
  resign?: Unary<T.ResignRequest, T.HeaderOnlyResponse>;
  // grpc.health.v1.Health (gRPC's standard health service)
  healthCheck?: Unary<T.HealthCheckRequest, T.HealthCheckResponse>;
  healthWatch?: (request: T.HealthCheckRequest, call: ServerStreamCall<T.HealthCheckResponse>) => Promise<void>;
}

export type CallKind = 'unary' | 'server-stream' | 'bidi';

/**
 * Every RPC of the etcd v3 API, by handler name: service, method and kind.
 * The server checks this table against the loaded .proto at start-up.
 */
export const ETCD_METHODS: { readonly [K in keyof Required<EtcdHandlers>]: readonly [string, string, CallKind] } = {
  range: ['KV', 'Range', 'unary'],
  put: ['KV', 'Put', 'unary'],
  deleteRange: ['KV', 'DeleteRange', 'unary'],
  txn: ['KV', 'Txn', 'unary'],
  compact: ['KV', 'Compact', 'unary'],
  watch: ['Watch', 'Watch', 'bidi'],
  leaseGrant: ['Lease', 'LeaseGrant', 'unary'],
  leaseRevoke: ['Lease', 'LeaseRevoke', 'unary'],
  leaseKeepAlive: ['Lease', 'LeaseKeepAlive', 'bidi'],
  leaseTimeToLive: ['Lease', 'LeaseTimeToLive', 'unary'],
  leaseLeases: ['Lease', 'LeaseLeases', 'unary'],
  memberAdd: ['Cluster', 'MemberAdd', 'unary'],
  memberRemove: ['Cluster', 'MemberRemove', 'unary'],
  memberUpdate: ['Cluster', 'MemberUpdate', 'unary'],
  memberList: ['Cluster', 'MemberList', 'unary'],
  memberPromote: ['Cluster', 'MemberPromote', 'unary'],
  alarm: ['Maintenance', 'Alarm', 'unary'],
  status: ['Maintenance', 'Status', 'unary'],
  defragment: ['Maintenance', 'Defragment', 'unary'],
  hash: ['Maintenance', 'Hash', 'unary'],
  hashKV: ['Maintenance', 'HashKV', 'unary'],
  snapshot: ['Maintenance', 'Snapshot', 'server-stream'],
  moveLeader: ['Maintenance', 'MoveLeader', 'unary'],
  downgrade: ['Maintenance', 'Downgrade', 'unary'],
  authEnable: ['Auth', 'AuthEnable', 'unary'],
  authDisable: ['Auth', 'AuthDisable', 'unary'],
  authStatus: ['Auth', 'AuthStatus', 'unary'],
  authenticate: ['Auth', 'Authenticate', 'unary'],
  userAdd: ['Auth', 'UserAdd', 'unary'],
  userGet: ['Auth', 'UserGet', 'unary'],
  userList: ['Auth', 'UserList', 'unary'],
  userDelete: ['Auth', 'UserDelete', 'unary'],
  userChangePassword: ['Auth', 'UserChangePassword', 'unary'],
  userGrantRole: ['Auth', 'UserGrantRole', 'unary'],
  userRevokeRole: ['Auth', 'UserRevokeRole', 'unary'],
  roleAdd: ['Auth', 'RoleAdd', 'unary'],
  roleGet: ['Auth', 'RoleGet', 'unary'],
  roleList: ['Auth', 'RoleList', 'unary'],
  roleDelete: ['Auth', 'RoleDelete', 'unary'],
  roleGrantPermission: ['Auth', 'RoleGrantPermission', 'unary'],
  roleRevokePermission: ['Auth', 'RoleRevokePermission', 'unary'],
  lock: ['v3lockpb.Lock', 'Lock', 'unary'],
  unlock: ['v3lockpb.Lock', 'Unlock', 'unary'],
  campaign: ['v3electionpb.Election', 'Campaign', 'unary'],
  proclaim: ['v3electionpb.Election', 'Proclaim', 'unary'],
  leader: ['v3electionpb.Election', 'Leader', 'unary'],
  observe: ['v3electionpb.Election', 'Observe', 'server-stream'],
  resign: ['v3electionpb.Election', 'Resign', 'unary'],
  healthCheck: ['grpc.health.v1.Health', 'Check', 'unary'],
  healthWatch: ['grpc.health.v1.Health', 'Watch', 'server-stream'],
};

/**
 * A decoded 64-bit field as a number; a value beyond 2^53 is answered
 * OUT_OF_RANGE naming the field rather than silently rounded.
 */
export function int64ToNumber(value: Long | number, field: string): number {
  if (typeof value === 'number') return value;
  const n = longToNumber(value);
  if (!Number.isSafeInteger(n)) {
    throw new GrpcError(GrpcStatus.OUT_OF_RANGE, `${field} ${longToBigInt(value)} is beyond 2^53, which synod does not support here`);
  }
  return n;
}

/** A decoded 64-bit field as an exact bigint (lease and member IDs). */
export function int64ToBigInt(value: Long | number): bigint {
  return typeof value === 'number' ? BigInt(value) : longToBigInt(value);
}
