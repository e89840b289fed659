// Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", 2006):
// one Paxos instance per resource manager chooses that RM's vote, prepared or
// aborted; the transaction commits iff every instance chose prepared (§4).
//
// Words: the TM's request to the RMs is a vote-request (the paper's
// "Prepare", renamed so that `prepare` keeps its Paxos meaning of phase 1a);
// phase 1a/1b are prepare/promise, phase 2a/2b accept/accepted; the outcome
// the leader sends (the paper's phase 3 Commit/Abort) is a decision.

import type { NodeId, TxId } from '../../core/ids.js';

/** The value an instance chooses: its RM's vote. */
export type PaxosValue = 'prepared' | 'aborted';

export interface InstanceValue {
  readonly rm: NodeId;
  readonly value: PaxosValue;
}

export interface InstanceReport {
  readonly rm: NodeId;
  /** The highest ballot at which this acceptor accepted a value for the instance; -1 for none. */
  readonly ballot: number;
  readonly value: PaxosValue | null;
}

export type PaxosCommitMessage =
  /** TM -> RMs: prepare and vote (§4.1, the paper's "Prepare"). */
  | { readonly type: 'vote-request'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  /**
   * Phase 2a. At ballot 0 an RM proposes its own vote for its own instance,
   * skipping phase 1 (§4.1); at a higher ballot a leader proposes for every instance.
   */
  | { readonly type: 'accept'; readonly tx: TxId; readonly ballot: number; readonly participants: readonly NodeId[]; readonly values: readonly InstanceValue[] }
  /** Phase 2b, one message per acceptor for every instance it accepted in one go (§4.2). */
  | { readonly type: 'accepted'; readonly tx: TxId; readonly ballot: number; readonly participants: readonly NodeId[]; readonly values: readonly InstanceValue[] }
  /** Phase 1a for every instance of the transaction, sent by a leader taking over (§4.1). */
  | { readonly type: 'prepare'; readonly tx: TxId; readonly ballot: number; readonly participants: readonly NodeId[] }
  /** Phase 1b: this acceptor's accepted values for every instance. */
  | { readonly type: 'promise'; readonly tx: TxId; readonly ballot: number; readonly instances: readonly InstanceReport[] }
  /** The outcome, from the leader (the paper's phase 3 Commit/Abort). */
  | { readonly type: 'decision'; readonly tx: TxId; readonly outcome: 'commit' | 'abort' }
  /** An RM in doubt asks the TM and the other RMs. */
  | { readonly type: 'decision-request'; readonly tx: TxId; readonly participants: readonly NodeId[] };

export type PaxosCommitWrite =
  /** RM: its vote, forced before its ballot-0 accept leaves. */
  | { readonly type: 'rm-vote'; readonly tx: TxId; readonly participants: readonly NodeId[]; readonly value: PaxosValue }
  /** RM: the outcome it learned (lazy). */
  | { readonly type: 'rm-outcome'; readonly tx: TxId; readonly outcome: 'commit' | 'abort' }
  /** Acceptor: values accepted at a ballot, forced before accepted (2b) leaves. */
  | { readonly type: 'acceptor-accepted'; readonly tx: TxId; readonly ballot: number; readonly participants: readonly NodeId[]; readonly values: readonly InstanceValue[] }
  /** Acceptor: a promise for every instance of tx, forced before promise (1b) leaves. */
  | { readonly type: 'acceptor-promised'; readonly tx: TxId; readonly ballot: number; readonly participants: readonly NodeId[] }
  /** Leader: the highest round it has used, forced before its prepare leaves (a ballot is never reused). */
  | { readonly type: 'leader-round'; readonly round: number };
