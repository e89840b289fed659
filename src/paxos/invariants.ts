// Safety invariants of Paxos and Multi-Paxos, checked by the simulator after
// every event. Each keeps history: a violation is a violation even if the node
// that saw it has crashed since.
//
// - agreement: no two learners ever learn different values for one decree
//   (single decree) or one slot (Multi-Paxos);
// - validity: only a value some client proposed (or a leader's no-op /
//   configuration entry) is ever chosen;
// - promises never go back: an acceptor's promised ballot, as made known to
//   others, never decreases, across restarts too (the recovered acceptor starts
//   from its durable state).

import type { Invariant, NodeView } from '../sim/protocol.js';
import { compareBallots, showBallot, type Ballot } from './ballot.js';
import type { Digest } from './digest.js';

/** What the Paxos invariants read from a view (single decree or Multi-Paxos). */
export interface PaxosInvariantView extends NodeView {
  readonly promised: Ballot | null;
  /** Single decree: the value learned. */
  readonly learned?: string | null;
  /** Single decree: values clients gave this node. */
  readonly clientValues?: readonly string[];
  /** Multi-Paxos: (slot, value key) pairs learned, in order. */
  readonly chosenDigest?: Digest;
  /** Multi-Paxos: value keys proposed at this node (commands, no-ops, configurations). */
  readonly proposedDigest?: Digest;
}

/** Follows each node's digest instance (a restart makes a new one). */
class DigestReader {
  private readonly seen = new Map<number, { digest: Digest; count: number }>();

  /** New entries of node `id`'s digest since the last call. */
  read(id: number, d: Digest) {
    const s = this.seen.get(id);
    const from = s !== undefined && s.digest === d ? s.count : 0;
    this.seen.set(id, { digest: d, count: d.total });
    return d.since(from);
  }
}

/** A value key short enough for a one-line verdict. */
function shown(key: string): string {
  return key.length <= 80 ? key : `${key.slice(0, 77)}...`;
}

export function agreement(): Invariant<PaxosInvariantView> {
  const decided = new Map<number, { key: string; by: number }>();
  const reader = new DigestReader();
  const note = (slot: number, key: string, by: number): string | null => {
    const first = decided.get(slot);
    if (first === undefined) {
      decided.set(slot, { key, by });
      return null;
    }
    if (first.key === key) return null;
    const what = slot === 0 ? 'the decree' : `slot ${slot}`;
    return `node ${by} learned ${shown(key)} for ${what}, but node ${first.by} learned ${shown(first.key)}`;
  };
  return {
    name: 'agreement',
    check(views) {
      for (const v of views) {
        if (v.learned !== undefined && v.learned !== null) {
          const bad = note(0, JSON.stringify(v.learned), v.id);
          if (bad !== null) return bad;
        }
        if (v.chosenDigest !== undefined) {
          for (const e of reader.read(v.id, v.chosenDigest)) {
            const bad = note(e.slot, e.key, v.id);
            if (bad !== null) return bad;
          }
        }
      }
      return null;
    },
  };
}

export function validity(): Invariant<PaxosInvariantView> {
  const proposed = new Set<string>();
  const proposals = new DigestReader();
  const chosen = new DigestReader();
  return {
    name: 'validity',
    check(views) {
      // Record proposals first: a value proposed in this very event may be learned in it too.
      for (const v of views) {
        for (const c of v.clientValues ?? []) proposed.add(JSON.stringify(c));
        if (v.proposedDigest !== undefined) for (const e of proposals.read(v.id, v.proposedDigest)) proposed.add(e.key);
      }
      for (const v of views) {
        if (v.learned !== undefined && v.learned !== null && !proposed.has(JSON.stringify(v.learned))) {
          return `node ${v.id} learned ${JSON.stringify(v.learned)}, which no client proposed`;
        }
        if (v.chosenDigest === undefined) continue;
        for (const e of chosen.read(v.id, v.chosenDigest)) {
          if (!proposed.has(e.key)) return `node ${v.id} learned ${shown(e.key)} at slot ${e.slot}, which was never proposed`;
        }
      }
      return null;
    },
  };
}

export function promisesNeverDecrease(): Invariant<PaxosInvariantView> {
  const highest = new Map<number, Ballot>();
  return {
    name: 'promises-never-decrease',
    check(views) {
      for (const v of views) {
        const before = highest.get(v.id) ?? null;
        if (compareBallots(v.promised, before) < 0) {
          return `node ${v.id} had promised ${showBallot(before)} and now promises only ${showBallot(v.promised)}`;
        }
        if (v.promised !== null) highest.set(v.id, v.promised);
      }
      return null;
    },
  };
}

export function paxosInvariants(): readonly Invariant<PaxosInvariantView>[] {
  return [agreement(), validity(), promisesNeverDecrease()];
}
