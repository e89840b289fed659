// The gRPC wire layer of synod's etcd-compatible server.
export { EtcdGrpcServer, DEFAULT_LIMITS, type EtcdGrpcServerOptions } from './server.js';
export {
  ETCD_METHODS, int64ToBigInt, int64ToNumber,
  type BidiCall, type CallContext, type CallKind, type EtcdHandlers, type ServerStreamCall,
} from './handlers.js';
export { GrpcError, GrpcStatus, statusName, type GrpcStatusCode } from './status.js';
export { loadEtcdRoot, longFromBigInt, longToBigInt, longToNumber, protoDir, type Long } from './proto.js';
export type { CallLimits } from './calls.js';
export type * from './etcd-types.js';
export {
  AlarmAction, AlarmType, CompareResult, CompareTarget, DowngradeAction, EventType, PermissionType,
  SortOrder, SortTarget, WatchFilterType,
} from './etcd-types.js';
