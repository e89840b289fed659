// The safety properties of atomic commit, checked by the simulator after
// every event (Gray & Lamport, "Consensus on Transaction Commit", §2):
//   atomicity  - no participant commits a transaction that another aborts (nor
//                does a coordinator tell a client the opposite of a participant);
//   validity   - a transaction commits only if every participant voted yes;
//   stability  - a node's decision, once taken, never changes (across restarts).
// Each keeps history across events, so a node that decided and then crashed
// still counts. Views are skipped when their arrays are those already seen.

import type { Invariant } from '../sim/protocol.js';
import type { CommitView, Outcome, ParticipantTxView } from './types.js';

/** Calls `visit` only for views that changed since the last check (a node rebuilds its view object only when it changed). */
class ChangedViews {
  private readonly seen = new Map<number, CommitView>();

  forEach(views: readonly CommitView[], visit: (v: CommitView) => void): void {
    for (const v of views) {
      if (this.seen.get(v.id) === v) continue;
      this.seen.set(v.id, v);
      visit(v);
    }
  }
}

function asCommitViews(views: readonly unknown[]): readonly CommitView[] {
  return views as readonly CommitView[];
}

export class AtomicityInvariant implements Invariant {
  readonly name = 'atomicity';
  private readonly first = new Map<string, { outcome: Outcome; node: number; role: string }>();
  private readonly changed = new ChangedViews();

  check(views: readonly unknown[], event: number): string | null {
    let problem: string | null = null;
    const see = (tx: string, outcome: Outcome, node: number, role: string): void => {
      const f = this.first.get(tx);
      if (f === undefined) this.first.set(tx, { outcome, node, role });
      else if (f.outcome !== outcome && problem === null) {
        problem = `transaction ${tx}: node ${f.node} (${f.role}) decided ${f.outcome}, node ${node} (${role}) decided ${outcome} (event ${event})`;
      }
    };
    this.changed.forEach(asCommitViews(views), (v) => {
      for (const t of v.participant ?? []) if (t.outcome !== null) see(t.tx, t.outcome, v.id, 'participant');
      // A coordinator's decision counts too: it is what the client is told.
      for (const d of v.decisions) see(d.tx, d.outcome, v.id, d.role);
    });
    return problem;
  }
}

export class ValidityInvariant implements Invariant {
  readonly name = 'validity';
  private readonly votes = new Map<string, Map<number, 'yes' | 'no'>>();
  private readonly participants = new Map<string, readonly number[]>();
  private readonly committed = new Map<string, number>();
  private readonly changed = new ChangedViews();

  check(views: readonly unknown[], event: number): string | null {
    const touched = new Set<string>();
    this.changed.forEach(asCommitViews(views), (v) => {
      for (const t of v.participant ?? []) this.observeParticipant(v.id, t, touched);
      for (const d of v.decisions) this.observeCommit(d.tx, d.outcome, v.id, touched);
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
  private readonly changed = new ChangedViews();

  check(views: readonly unknown[], event: number): string | null {
    let problem: string | null = null;
    const see = (node: number, role: string, tx: string, outcome: Outcome): void => {
      const key = `${node}/${role}/${tx}`;
      const before = this.decided.get(key);
      if (before === undefined) this.decided.set(key, outcome);
      else if (before !== outcome && problem === null) problem = `node ${node} (${role}) decided ${before} then ${outcome} for ${tx} (event ${event})`;
    };
    this.changed.forEach(asCommitViews(views), (v) => {
      for (const t of v.participant ?? []) if (t.outcome !== null) see(v.id, 'participant', t.tx, t.outcome);
      for (const d of v.decisions) see(v.id, d.role, d.tx, d.outcome);
    });
    return problem;
  }
}

export function commitInvariants(): readonly Invariant[] {
  return [new AtomicityInvariant(), new ValidityInvariant(), new StableDecisionInvariant()];
}
