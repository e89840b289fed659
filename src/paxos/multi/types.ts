// Messages, durable writes and slot values of Multi-Paxos ("Paxos Made Simple"
// §3; "Paxos Made Live"; van Renesse and Altinbuken, "Paxos Made Moderately
// Complex"). A leader runs phase 1 once for every slot from `fromSlot` on, then
// one phase-2 round per slot; several slots travel in one accept message
// (batching) and up to `window` slots are in flight at once (pipelining).

import type { NodeId, Slot } from '../../core/ids.js';
import type { Ballot } from '../ballot.js';

/** What a slot holds: a client command, a leader's no-op that fills a gap, or a new configuration. */
export type SlotValue<C> =
  | { readonly kind: 'command'; readonly command: C }
  | { readonly kind: 'noop' }
  /** Takes effect `alpha` slots after the slot that holds it. */
  | { readonly kind: 'config'; readonly members: readonly NodeId[] };

export interface SlotEntry<C> {
  readonly slot: Slot;
  readonly value: SlotValue<C>;
}

export interface AcceptedEntry<C> extends SlotEntry<C> {
  readonly ballot: Ballot;
}

/** One configuration and the first slot it governs. */
export interface ConfigEpoch {
  readonly from: Slot;
  readonly members: readonly NodeId[];
}

export type MultiMessage<C, S> =
  /** Phase 1a for every slot >= fromSlot. */
  | { readonly type: 'prepare'; readonly ballot: Ballot; readonly fromSlot: Slot }
  /**
   * Phase 1b: what this acceptor accepted in slots >= fromSlot. `next` is not
   * null when the report was cut at the message limit: ask again from there.
   * `compactedThrough` >= fromSlot means the acceptor no longer holds those
   * slots (they were chosen and compacted): the candidate must catch up first.
   */
  | {
      readonly type: 'promise';
      readonly ballot: Ballot;
      readonly fromSlot: Slot;
      readonly accepted: readonly AcceptedEntry<C>[];
      readonly next: Slot | null;
      readonly compactedThrough: Slot;
    }
  /** A prepare, accept or heartbeat refused: the acceptor has promised `promised`. */
  | { readonly type: 'nack'; readonly ballot: Ballot; readonly promised: Ballot }
  /** Phase 2a for several slots; `chosenThrough` tells learners what the leader knows chosen. */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly entries: readonly SlotEntry<C>[]; readonly chosenThrough: Slot }
  /** Phase 2b. */
  | { readonly type: 'accepted'; readonly ballot: Ballot; readonly slots: readonly Slot[]; readonly chosenThrough: Slot }
  /** The leader is alive (election), holds its lease, and confirms reads (`seq`). */
  | { readonly type: 'heartbeat'; readonly ballot: Ballot; readonly chosenThrough: Slot; readonly seq: number }
  | { readonly type: 'heartbeat-ack'; readonly ballot: Ballot; readonly seq: number; readonly chosenThrough: Slot }
  /** A learner missed chosen slots from `fromSlot` on. */
  | { readonly type: 'catchup-request'; readonly fromSlot: Slot }
  | { readonly type: 'catchup'; readonly entries: readonly SlotEntry<C>[]; readonly chosenThrough: Slot }
  /** The slots through `index` were compacted into `snapshot`; `configs` govern the slots after it. */
  | { readonly type: 'snapshot'; readonly index: Slot; readonly snapshot: S; readonly configs: readonly ConfigEpoch[] }
  /**
   * Leadership handed over: the leader of `ballot` has stepped down (and with
   * it its read lease); `to` campaigns at once, and the others stop refusing
   * prepares on that leader's behalf.
   */
  | { readonly type: 'release'; readonly ballot: Ballot; readonly to: NodeId };

export type MultiWrite<C, S> =
  /** The proposer's round, durable before a ballot with it is sent. */
  | { readonly type: 'round'; readonly round: number }
  /** The acceptor's promise (for every slot). */
  | { readonly type: 'promise'; readonly ballot: Ballot }
  /** The acceptor accepted these entries under `ballot` (which implies a promise of it). */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly entries: readonly SlotEntry<C>[] }
  /** Slots through `index` are compacted into `snapshot`; older writes are no longer needed. */
  | { readonly type: 'snapshot'; readonly index: Slot; readonly snapshot: S; readonly configs: readonly ConfigEpoch[] };
