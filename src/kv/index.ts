// The replicated key-value state machine: etcd v3 MVCC semantics, client
// sessions, snapshots, a storage backend interface, and the adapter that runs
// it on any ReplicatedLog (Raft, Multi-Paxos). See docs/kv.md.
export * from './api.js';
export * from './bytes.js';
export * from './command.js';
export * from './limits.js';
export * from './backend.js';
export * from './snapshot.js';
export * from './sessions.js';
export * from './state-machine.js';
export * from './ops.js';
export * from './adapter.js';
export * from './spec.js';
export * from './codec.js';
export * from './changes.js';
export * from './leases.js';
