// The Raft core: public surface.
export { RaftNode, recover } from './node.js';
export { RAFT_MUTANTS, resolveOptions } from './options.js';
export type { RaftMutant, RaftOptions, SnapshotCodec } from './options.js';
export type * from './types.js';
export type { RaftView } from './view.js';
export { entryHash } from './view.js';
export { applyConfChange, isJoint, isVoter, members } from './membership.js';
