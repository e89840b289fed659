// Consensus safety inside Paxos Commit: in each instance (one per RM) at
// most one value is ever chosen — chosen meaning accepted by F+1 acceptors at
// one ballot (Lamport, "Paxos Made Simple", §2.2). Kept across events, so an
// acceptor that accepted and then crashed still counts.

import type { Invariant } from '../../sim/protocol.js';
import type { CommitView } from '../types.js';

export class InstanceChosenOnceInvariant implements Invariant {
  readonly name = 'paxos-commit-chosen-once';
  // `${tx}/${rm}/${ballot}` -> value -> acceptors
  private readonly accepted = new Map<string, Map<string, Set<number>>>();
  private readonly chosen = new Map<string, string>();
  private readonly seen = new Map<number, CommitView>();

  check(views: readonly unknown[], event: number): string | null {
    for (const v of views as readonly CommitView[]) {
      if (this.seen.get(v.id) === v || v.accepted === null) continue;
      this.seen.set(v.id, v);
      for (const a of v.accepted) {
        const key = `${a.tx}/${a.rm}/${a.ballot}`;
        let byValue = this.accepted.get(key);
        if (byValue === undefined) this.accepted.set(key, (byValue = new Map()));
        let who = byValue.get(a.value);
        if (who === undefined) byValue.set(a.value, (who = new Set()));
        who.add(v.id);
        if (who.size < a.quorum) continue;
        const instance = `${a.tx}/${a.rm}`;
        const before = this.chosen.get(instance);
        if (before === undefined) this.chosen.set(instance, a.value);
        else if (before !== a.value) return `transaction ${a.tx}, instance of RM ${a.rm}: ${before} was chosen, then ${a.value} at ballot ${a.ballot} (event ${event})`;
      }
    }
    return null;
  }
}
