// Messages and durable writes of the reference protocol (a single-leader
// replicated register). The words follow Raft where the idea is Raft's
// (RequestVote, terms); the replication message is an "accept" of a whole
// state, acknowledged by "accepted".

import type { NodeId, Term } from '../../core/ids.js';
import type { RegisterState } from './state.js';

export type RegisterMessage =
  /** A candidate asks for a vote; (lastTerm, lastVersion) is its state's order key (Raft §5.4.1). */
  | { readonly type: 'request-vote'; readonly term: Term; readonly lastTerm: Term; readonly lastVersion: number }
  | { readonly type: 'vote'; readonly term: Term; readonly granted: boolean }
  /** The leader's current state and the highest version it knows committed; doubles as the heartbeat. */
  | { readonly type: 'accept'; readonly term: Term; readonly state: RegisterState; readonly commit: number }
  /** The sender has durably accepted the leader's state up to `version` in `term`. */
  | { readonly type: 'accepted'; readonly term: Term; readonly version: number };

export type RegisterWrite =
  | { readonly type: 'hard'; readonly term: Term; readonly votedFor: NodeId | null }
  | { readonly type: 'state'; readonly state: RegisterState };
