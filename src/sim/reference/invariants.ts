// Safety invariants of the reference protocol, checked after every simulator
// event over the views of the nodes that are up. Each keeps history across
// events, so a violation is caught even when the nodes involved are no longer
// up at the same time.

import type { Invariant } from '../protocol.js';
import type { RegisterView } from './node.js';

/** Raft §5.2 Election Safety: at most one leader per term, ever. */
export function electionSafety(): Invariant<RegisterView> {
  const leaders = new Map<number, number>();
  const seen: RegisterView[] = [];
  return {
    name: 'election-safety',
    check(views) {
      for (const v of views) {
        // Views are immutable snapshots cached by the node: one already checked needs no second look.
        if (seen[v.id] === v) continue;
        seen[v.id] = v;
        if (v.role !== 'leader') continue;
        const known = leaders.get(v.term);
        if (known === undefined) leaders.set(v.term, v.id);
        else if (known !== v.id) return `nodes ${known} and ${v.id} were both leader in term ${v.term}`;
      }
      return null;
    },
  };
}

/**
 * Raft §5.4.3 State Machine Safety, for whole states: every node that knows
 * version v committed holds the same state at v (same hash chain), ever.
 */
export function commitAgreement(): Invariant<RegisterView> {
  const hashes = new Map<number, { hash: number; node: number }>();
  const seen: RegisterView[] = [];
  return {
    name: 'commit-agreement',
    check(views) {
      for (const v of views) {
        if (seen[v.id] === v) continue;
        seen[v.id] = v;
        if (v.committedVersion < 0) continue;
        const known = hashes.get(v.committedVersion);
        if (known === undefined) hashes.set(v.committedVersion, { hash: v.committedHash, node: v.id });
        else if (known.hash !== v.committedHash) {
          return `version ${v.committedVersion} committed with different states: hash ${known.hash.toString(16)} on node ${known.node}, ${v.committedHash.toString(16)} on node ${v.id}`;
        }
      }
      return null;
    },
  };
}
