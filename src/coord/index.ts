// Distributed coordination on any etcd v3 server (synod or etcd): sessions,
// locks and leader election with fencing tokens. docs/coordination.md.

export { Session, DEFAULT_TTL_SECONDS, type SessionOptions } from './session.js';
export { Lock, HeldLock, type LockOptions, type LockHolder } from './lock.js';
export { Election, Leadership, type ElectionOptions, type Leader } from './election.js';
export { Tenure } from './tenure.js';
export type { AcquireOptions } from './queue.js';
export { guardedTxn, guardedPut, type Fence, type GuardedResult } from './fence.js';
export { putOp, deleteOp, type RequestOp } from './etcd-ops.js';
export { CoordError, SessionLostError, SessionClosedError, LockLostError, LockReleasedError, AcquireAbortedError, NotLeaderError } from './errors.js';
