// Three-phase commit (Skeen 1981, "Nonblocking commit protocols"; Skeen &
// Stonebraker 1983): the messages and the durable writes.
//
// Between "uncertain" (voted yes) and "committed" lies "pre-committed": no
// site commits while another is still uncertain, so the survivors of a crash
// can always decide by the states they hold (the termination protocol).

import type { NodeId, TxId } from '../../core/ids.js';
import type { Vote } from '../types.js';

/** A participant's state as reported to a termination coordinator. */
export type ThreePcState = 'uncertain' | 'pre-committed' | 'committed' | 'aborted';

/**
 * Rounds order the coordinators of one transaction: -1 is the original
 * coordinator; round r >= 0 is the termination protocol led by participant
 * number r (mod n) in id order.
 */
export type ThreePcMessage =
  | { readonly type: 'can-commit'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  | { readonly type: 'vote'; readonly tx: TxId; readonly vote: Vote }
  | { readonly type: 'pre-commit'; readonly tx: TxId; readonly round: number }
  | { readonly type: 'ack'; readonly tx: TxId; readonly round: number }
  | { readonly type: 'do-commit'; readonly tx: TxId }
  | { readonly type: 'abort'; readonly tx: TxId }
  /** Termination protocol: the round's coordinator collects the states of the live participants. */
  | { readonly type: 'state-request'; readonly tx: TxId; readonly round: number; readonly participants: readonly NodeId[] }
  | { readonly type: 'state-report'; readonly tx: TxId; readonly round: number; readonly state: ThreePcState }
  /** A site that recovered without knowing the outcome asks everyone (it takes no part in termination). */
  | { readonly type: 'decision-request'; readonly tx: TxId; readonly participants: readonly NodeId[] };

export type ThreePcWrite =
  /** Participant, forced before a yes vote. */
  | { readonly type: 'uncertain'; readonly tx: TxId; readonly participants: readonly NodeId[] }
  /** Participant, forced before its ack of a pre-commit. */
  | { readonly type: 'pre-committed'; readonly tx: TxId }
  /** Either role: the outcome. Forced at the coordinator before do-commit; lazy at a participant, except a unilateral abort. */
  | { readonly type: 'outcome'; readonly tx: TxId; readonly outcome: 'commit' | 'abort'; readonly role: 'coordinator' | 'participant' };

export function isThreePcCoordinatorMessage(m: ThreePcMessage): boolean {
  return m.type === 'vote' || m.type === 'ack' || m.type === 'decision-request' || m.type === 'do-commit' || m.type === 'abort';
}

export function isThreePcParticipantMessage(m: ThreePcMessage): boolean {
  return m.type !== 'vote';
}
