// synod's library entry point. The pure cores (`synod/core`, Raft, Multi-Paxos,
// the commit protocols, the simulator and the checker) and the Node runtime
// (embedded replicas, the key-value server, the etcd client).

export * from './core/index.js';
export { RaftNode } from './raft/node.js';
export type { RaftOptions, SnapshotCodec } from './raft/options.js';
export type { RaftMessage, RaftWrite } from './raft/types.js';
export { MultiPaxos } from './paxos/multi/multipaxos.js';
export { RsmNode, type StateMachine, type RsmRequest, type RsmReply } from './rsm/node.js';
export { KvNode } from './kv/adapter.js';
export { checkLinearizability, parseHistory } from './check/index.js';
export type { History, HistoryEvent, Value } from './check/index.js';
export { findProtocol, protocolNames } from './sim/registry.js';
export { Simulation } from './sim/simulation.js';
export { runSeed, type RunConfig, type RunResult } from './sim/run.js';
export { startReplica, ReplicaError, type Replica, type ReplicaOptions } from './server/replica.js';
export { startMember, type RunningMember } from './server/member.js';
export { resolveConfig, type MemberConfig, type MemberFlags } from './server/config.js';
export { EtcdClient, EtcdClientError } from './server/client.js';
export * from './coord/index.js';
export { encodeSnapshotFile, decodeSnapshotFile } from './server/snapshot-file.js';
export { restoreDataDir } from './server/snapshot-restore.js';
