// Vocabulary shared by the three atomic-commit protocols (2PC, 3PC, Paxos
// Commit): what a client asks, what it is told, and the view every node gives
// the simulator's invariants (atomicity, validity, decisions never change).

import type { NodeId, TxId } from '../core/ids.js';
import type { NodeView } from '../sim/protocol.js';

/** A resource manager's vote (2PC's words; Paxos Commit calls them prepared/aborted). */
export type Vote = 'yes' | 'no';
/** The outcome of a transaction. */
export type Outcome = 'commit' | 'abort';

/** A client asks the coordinator (transaction manager) to commit `tx` over every participant. */
export interface CommitRequest {
  readonly type: 'begin';
  readonly tx: TxId;
  /**
   * The client asked before and got no answer. A coordinator that does not
   * know the transaction (it restarted) must then not start it afresh: it
   * finds out the outcome instead (2PC: presumed abort; 3PC: asks the
   * participants; Paxos Commit: takes the transaction over).
   */
  readonly retry?: boolean;
}

export type CommitReply =
  | { readonly type: 'outcome'; readonly tx: TxId; readonly outcome: Outcome }
  /** This node does not coordinate: the request had no effect here. */
  | { readonly type: 'not-coordinator'; readonly tx: TxId; readonly coordinator: NodeId };

/** One transaction as a participant (resource manager) sees it. */
export interface ParticipantTxView {
  readonly tx: string;
  readonly participants: readonly number[];
  readonly vote: Vote | null;
  readonly outcome: Outcome | null;
  /** Voted yes and does not know the outcome (2PC's "uncertain" period). */
  readonly inDoubt: boolean;
  /** A protocol-specific state name: 'prepared', 'pre-committed', 'committed', ... */
  readonly state: string;
}

/** A decision taken or learned by a role other than a participant (coordinator, leader). */
export interface RoleDecision {
  readonly tx: string;
  readonly outcome: Outcome;
  readonly role: string;
}

/** Paxos Commit: a value an acceptor accepted for one instance (RM) of a transaction. */
export interface AcceptedEntry {
  readonly tx: string;
  readonly rm: number;
  readonly ballot: number;
  readonly value: 'prepared' | 'aborted';
  /** F+1: how many acceptors choose a value. */
  readonly quorum: number;
}

/** One change of a node's state that the invariants look at. */
export type CommitChange =
  | { readonly kind: 'participant'; readonly entry: ParticipantTxView }
  | { readonly kind: 'decision'; readonly entry: RoleDecision }
  | { readonly kind: 'accepted'; readonly entry: AcceptedEntry };

/**
 * The view of every commit-protocol node. `changes` is the node's log of
 * changed transactions since it (re)started, from sequence number
 * `changesBase` on, each entered once the effects batch it came with was
 * executed (writes durable, messages sent): the invariants read only what is
 * new, so a check costs what changed, not what exists. The full lists (for the trace and the
 * playground) are computed when read.
 */
export interface CommitView extends NodeView {
  readonly protocol: string;
  readonly changes: readonly CommitChange[];
  readonly changesBase: number;
  /** null on a node that hosts no resource manager. */
  readonly participant: readonly ParticipantTxView[] | null;
  readonly decisions: readonly RoleDecision[];
  /** Paxos Commit acceptors: what they accepted (null on other nodes). */
  readonly accepted: readonly AcceptedEntry[] | null;
}

export function opposite(o: Outcome): Outcome {
  return o === 'commit' ? 'abort' : 'commit';
}
