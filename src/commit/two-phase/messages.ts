// Two-phase commit (Gray 1978; presumed abort after Mohan, Lindsay & Obermarck
// 1986): the messages and the durable writes.

import type { NodeId, TxId } from '../../core/ids.js';
import type { Outcome, Vote } from '../types.js';

export type TwoPcMessage =
  /** Phase 1: the coordinator asks every participant to prepare and vote. */
  | { readonly type: 'vote-request'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  /** Phase 1: a participant's answer; 'yes' only once its prepared record is durable. */
  | { readonly type: 'vote'; readonly tx: TxId; readonly vote: Vote }
  /** Phase 2: the outcome, from the coordinator or (cooperative termination) from a peer. */
  | { readonly type: 'decision'; readonly tx: TxId; readonly outcome: Outcome }
  /** A participant in doubt asks the coordinator and, while it is silent, its peers. */
  | { readonly type: 'decision-request'; readonly tx: TxId; readonly participants: readonly NodeId[] };

export type TwoPcWrite =
  /** Participant, forced before a yes vote: it can commit or abort whatever happens to it. */
  | { readonly type: 'prepared'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  /** Coordinator, forced before the commit decision leaves. Presumed abort: no record for an abort. */
  | { readonly type: 'commit-record'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  /**
   * Participant: an outcome it knows. A commit is written lazily (no message
   * waits for it); a unilateral abort, promised to a peer, is forced before the answer.
   */
  | { readonly type: 'outcome'; readonly tx: TxId; readonly outcome: Outcome };

export function isCoordinatorMessage(m: TwoPcMessage): boolean {
  return m.type === 'vote' || m.type === 'decision-request';
}

export function isParticipantMessage(m: TwoPcMessage): boolean {
  return m.type === 'vote-request' || m.type === 'decision' || m.type === 'decision-request';
}
