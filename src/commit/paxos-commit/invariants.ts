// Consensus safety inside Paxos Commit: in each instance (one per RM) at
// most one value is ever chosen — chosen meaning accepted by F+1 acceptors at
// one ballot (Lamport, "Paxos Made Simple", §2.2). Kept across events, so an
// acceptor that accepted and then crashed still counts.

import type { Invariant } from '../../sim/protocol.js';
import { ChangeReader } from '../invariants.js';

export class InstanceChosenOnceInvariant implements Invariant {
  readonly name = 'paxos-commit-chosen-once';
  // `${tx}/${rm}/${ballot}` -> value -> acceptors
  private readonly accepted = new Map<string, Map<string, Set<number>>>();
  private readonly chosen = new Map<string, string>();
  private readonly reader = new ChangeReader();

  check(views: readonly unknown[], event: number): string | null {
    let problem: string | null = null;
    this.reader.forEach(views, (node, c) => {
      if (c.kind !== 'accepted' || problem !== null) return;
      const a = c.entry;
      const key = `${a.tx}/${a.rm}/${a.ballot}`;
      let byValue = this.accepted.get(key);
      if (byValue === undefined) this.accepted.set(key, (byValue = new Map()));
      let who = byValue.get(a.value);
      if (who === undefined) byValue.set(a.value, (who = new Set()));
      who.add(node);
      if (who.size < a.quorum) return;
      const instance = `${a.tx}/${a.rm}`;
      const before = this.chosen.get(instance);
      if (before === undefined) this.chosen.set(instance, a.value);
      else if (before !== a.value) problem = `transaction ${a.tx}, instance of RM ${a.rm}: ${before} was chosen, then ${a.value} at ballot ${a.ballot} (event ${event})`;
    });
    return problem;
  }
}
