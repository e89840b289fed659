// Messages and durable writes of single-decree Paxos (the Synod protocol,
// Lamport, "The Part-Time Parliament" §2; "Paxos Made Simple" §2).

import type { NodeId } from '../core/ids.js';
import type { Ballot } from './ballot.js';

/** A proposal: a value under a ballot. */
export interface Proposal<V> {
  readonly ballot: Ballot;
  readonly value: V;
}

export type SynodMessage<V> =
  /** Phase 1a: promise to ignore every ballot below `ballot`. */
  | { readonly type: 'prepare'; readonly ballot: Ballot }
  /** Phase 1b: the promise, with the highest-ballot proposal this acceptor accepted, if any. */
  | { readonly type: 'promise'; readonly ballot: Ballot; readonly accepted: Proposal<V> | null }
  /** Phase 2a. */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly value: V }
  /** Phase 2b, to the proposer and to learners. */
  | { readonly type: 'accepted'; readonly ballot: Ballot; readonly value: V }
  /** A prepare or accept refused: the acceptor has promised `promised`, higher than `ballot`. */
  | { readonly type: 'nack'; readonly ballot: Ballot; readonly promised: Ballot }
  /** A learner that has learned tells another (relay, or the answer to an `ask`). */
  | { readonly type: 'chosen'; readonly value: V }
  /** A node that has not learned a decision asks a proposer to get one; `value` may be proposed if none was accepted. */
  | { readonly type: 'ask'; readonly value: V | null }
  /** The distinguished proposer announces itself (leader election, Paxos Made Simple §2.4). */
  | { readonly type: 'heartbeat'; readonly ballot: Ballot | null };

export type SynodWrite<V> =
  /** The proposer's round, durable before any ballot with it is sent. */
  | { readonly type: 'round'; readonly round: number }
  /** The acceptor's promise. */
  | { readonly type: 'promise'; readonly ballot: Ballot }
  /** The acceptor accepted a proposal (which also implies a promise of its ballot). */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly value: V };

/** Where a role puts its writes and messages (an EffectsBuilder satisfies it). */
export interface RoleOut<W, M> {
  write(w: W): void;
  /** Sent only once every write so far is durable. */
  send(to: NodeId, msg: M): void;
  /** Depends on no write. */
  sendImmediately(to: NodeId, msg: M): void;
}

export type SynodOut<V> = RoleOut<SynodWrite<V>, SynodMessage<V>>;
