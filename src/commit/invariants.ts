// The safety properties of atomic commit, checked by the simulator after
// every event (Gray & Lamport, "Consensus on Transaction Commit", §2):
//   atomicity  - no participant commits a transaction that another aborts (nor
//                does a coordinator tell a client the opposite of a participant);
//   validity   - a transaction commits only if every participant voted yes;
//   stability  - a node's decision, once taken, never changes (across restarts).
// Each keeps history across events, so a node that decided and then crashed
// still counts. They read only each node's new changes (CommitView.changes).

import { assert } from '../core/assert.js';
import type { Invariant } from '../sim/protocol.js';
import type { CommitChange, CommitView, Outcome, ParticipantTxView } from './types.js';

/** Hands each invariant the changes it has not seen yet, node by node. */
export class ChangeReader {
  private readonly consumed = new WeakMap<object, number>();

  forEach(views: readonly unknown[], visit: (node: number, c: CommitChange) => void): void {
    for (const raw of views) {
      const v = raw as CommitView;
      if (v.changes === undefined) continue; // a node that is down shows no log
      // Keyed by the log array: the view object is new at every change, the log only per incarnation (or trim).
      const done = this.consumed.get(v.changes) ?? v.changesBase;
      // Invariant: a node trims its log only far behind what every check has read.
      assert(done >= v.changesBase, () => `node ${v.id}: change log trimmed past an unread entry`);
      const end = v.changesBase + v.changes.length;
      for (let k = done - v.changesBase; k < v.changes.length; k++) visit(v.id, v.changes[k] as CommitChange);
      this.consumed.set(v.changes, end);
    }
  }
}

export class AtomicityInvariant implements Invariant {
  readonly name = 'atomicity';
  private readonly first = new Map<string, { outcome: Outcome; node: number; role: string }>();
  private readonly reader = new ChangeReader();

  check(views: readonly unknown[], event: number): string | null {
    let problem: string | null = null;
    this.reader.forEach(views, (node, c) => {
      if (problem !== null || c.kind === 'accepted') return;
      const outcome = c.entry.outcome;
      if (outcome === null) return;
      const role = c.kind === 'participant' ? 'participant' : c.entry.role;
      const f = this.first.get(c.entry.tx);
      if (f === undefined) this.first.set(c.entry.tx, { outcome, node, role });
      else if (f.outcome !== outcome) {
        problem = `transaction ${c.entry.tx}: node ${f.node} (${f.role}) decided ${f.outcome}, node ${node} (${role}) decided ${outcome} (event ${event})`;
      }
    });
    return problem;
  }
}

export class ValidityInvariant implements Invariant {
  readonly name = 'validity';
  private readonly votes = new Map<string, Map<number, 'yes' | 'no'>>();
  private readonly participants = new Map<string, readonly number[]>();
  private readonly committed = new Map<string, number>();
  private readonly reader = new ChangeReader();

  check(views: readonly unknown[], event: number): string | null {
    const touched = new Set<string>();
    this.reader.forEach(views, (node, c) => {
      if (c.kind === 'participant') this.observeParticipant(node, c.entry, touched);
      else if (c.kind === 'decision') this.observeCommit(c.entry.tx, c.entry.outcome, node, touched);
    });
    // Votes come before any commit that rests on them, so checking the
    // transactions touched by this event is enough.
    for (const tx of touched) {
      const by = this.committed.get(tx);
      const problem = by === undefined ? null : this.problem(tx, by, event);
      if (problem !== null) return problem;
    }
    return null;
  }

  private observeParticipant(node: number, t: ParticipantTxView, touched: Set<string>): void {
    if (t.participants.length > 0 && !this.participants.has(t.tx)) this.participants.set(t.tx, t.participants);
    if (t.vote !== null) {
      let m = this.votes.get(t.tx);
      if (m === undefined) this.votes.set(t.tx, (m = new Map()));
      if (!m.has(node)) {
        m.set(node, t.vote);
        touched.add(t.tx);
      }
    }
    this.observeCommit(t.tx, t.outcome, node, touched);
  }

  private observeCommit(tx: string, outcome: Outcome | null, node: number, touched: Set<string>): void {
    if (outcome !== 'commit' || this.committed.has(tx)) return;
    this.committed.set(tx, node);
    touched.add(tx);
  }

  private problem(tx: string, by: number, event: number): string | null {
    const votes = this.votes.get(tx);
    const members = this.participants.get(tx);
    if (votes === undefined || members === undefined) return `transaction ${tx} committed at node ${by} with no recorded votes (event ${event})`;
    for (const p of members) {
      const v = votes.get(p);
      if (v === 'no') return `transaction ${tx} committed at node ${by} although participant ${p} voted no (event ${event})`;
      if (v === undefined) return `transaction ${tx} committed at node ${by} although participant ${p} never voted (event ${event})`;
    }
    return null;
  }
}

export class StableDecisionInvariant implements Invariant {
  readonly name = 'decisions-never-change';
  private readonly decided = new Map<string, Outcome>();
  private readonly reader = new ChangeReader();

  check(views: readonly unknown[], event: number): string | null {
    let problem: string | null = null;
    this.reader.forEach(views, (node, c) => {
      if (c.kind === 'accepted' || c.entry.outcome === null || problem !== null) return;
      const role = c.kind === 'participant' ? 'participant' : c.entry.role;
      const key = `${node}/${role}/${c.entry.tx}`;
      const before = this.decided.get(key);
      if (before === undefined) this.decided.set(key, c.entry.outcome);
      else if (before !== c.entry.outcome) problem = `node ${node} (${role}) decided ${before} then ${c.entry.outcome} for ${c.entry.tx} (event ${event})`;
    });
    return problem;
  }
}

export function commitInvariants(): readonly Invariant[] {
  return [new AtomicityInvariant(), new ValidityInvariant(), new StableDecisionInvariant()];
}
