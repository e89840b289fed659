// What a Raft node shows the simulator's invariants, the trace and the
// playground: plain data, with a cheap per-entry fingerprint so that logs can
// be compared without comparing commands.

import type { NodeId } from '../core/ids.js';
import type { NodeView } from '../sim/protocol.js';
import type { Entry, RaftRole } from './types.js';

export interface RaftView extends NodeView {
  readonly role: RaftRole;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  /** The last index handed to the state machine (restored or committed). */
  readonly applied: number;
  /** Everything through snapshotIndex is compacted. */
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly lastIndex: number;
  /** The index of logTerms[0]: the view shows the log's last entries only (a window). */
  readonly logStart: number;
  /** Terms of entries logStart .. lastIndex. */
  readonly logTerms: readonly number[];
  /** Fingerprints (term, index, kind, content) of the same entries. */
  readonly logHashes: readonly number[];
  readonly voters: readonly NodeId[];
  readonly outgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

const cache = new WeakMap<object, number>();

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 32-bit fingerprint of an entry; entries are immutable, so it is computed once per entry object. */
export function entryHash<C>(e: Entry<C>): number {
  const hit = cache.get(e);
  if (hit !== undefined) return hit;
  const body = e.type === 'command' ? JSON.stringify(e.command) : e.type === 'conf' ? JSON.stringify(e.change) : '';
  const h = fnv1a(`${e.term}:${e.index}:${e.type}:${body}`);
  cache.set(e, h);
  return h;
}
