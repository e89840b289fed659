// Raft's safety properties (Raft Figure 3), checked by the simulator after
// every event over the views of the nodes that are up. Each keeps history
// across events, so a violation is caught even when the nodes involved are
// never up at the same time. Views show a window of each log's last entries
// with a fingerprint per entry (view.ts); checks cover what the windows show.

import type { Invariant, NodeView } from '../sim/protocol.js';

/** The fields of RaftView the invariants read (the KV adapter merges them into its view). */
interface LogView extends NodeView {
  readonly term: number;
  readonly commit: number;
  readonly lastIndex: number;
  readonly logStart: number;
  readonly logTerms: readonly number[];
  readonly logHashes: readonly number[];
}

function isLogView(v: NodeView): v is LogView {
  return Array.isArray(v['logHashes']) && typeof v['logStart'] === 'number' && typeof v['term'] === 'number';
}

const MEMORY = 200_000;

/** Election Safety: at most one leader per term, ever. */
export function electionSafety(): Invariant {
  const leaders = new Map<number, number>();
  return {
    name: 'election-safety',
    check(views) {
      for (const v of views) {
        if (v.role !== 'leader' || !isLogView(v)) continue;
        const known = leaders.get(v.term);
        if (known === undefined) leaders.set(v.term, v.id);
        else if (known !== v.id) return `nodes ${known} and ${v.id} were both leader in term ${v.term}`;
      }
      return null;
    },
  };
}

/** Leader Append-Only: a leader never overwrites or deletes entries in its log during its term. */
export function leaderAppendOnly(): Invariant {
  const last = new Map<string, { start: number; hashes: readonly number[] }>();
  return {
    name: 'leader-append-only',
    check(views) {
      const seen = new Set<string>();
      for (const v of views) {
        if (v.role !== 'leader' || !isLogView(v)) continue;
        const key = `${v.id}/${v.term}`;
        seen.add(key);
        const before = last.get(key);
        if (before !== undefined && before.hashes !== v.logHashes) {
          const end = before.start + before.hashes.length - 1;
          if (end > v.lastIndex) return `leader ${v.id} of term ${v.term} shrank its log from ${end} to ${v.lastIndex}`;
          for (let i = Math.max(before.start, v.logStart); i <= end; i++) {
            if (before.hashes[i - before.start] !== v.logHashes[i - v.logStart]) return `leader ${v.id} of term ${v.term} changed its entry at ${i}`;
          }
        }
        last.set(key, { start: v.logStart, hashes: v.logHashes });
      }
      for (const k of [...last.keys()]) if (!seen.has(k)) last.delete(k);
      return null;
    },
  };
}

/** Log Matching: two logs with an entry of the same index and term are identical up to it. */
export function logMatching(): Invariant {
  // Views reuse their arrays while a log is unchanged: skip pairs already compared.
  const compared = new Map<string, readonly [readonly number[], readonly number[]]>();
  return {
    name: 'log-matching',
    check(views) {
      const logs = views.filter(isLogView);
      for (let a = 0; a < logs.length; a++) {
        for (let b = a + 1; b < logs.length; b++) {
          const x = logs[a] as LogView;
          const y = logs[b] as LogView;
          const key = `${x.id}/${y.id}`;
          const last = compared.get(key);
          if (last !== undefined && last[0] === x.logHashes && last[1] === y.logHashes) continue;
          const problem = compareLogs(x, y);
          if (problem !== null) return problem;
          compared.set(key, [x.logHashes, y.logHashes]);
        }
      }
      return null;
    },
  };
}

function compareLogs(x: LogView, y: LogView): string | null {
  const lo = Math.max(x.logStart, y.logStart);
  let i = Math.min(x.lastIndex, y.lastIndex);
  // The highest index where both hold an entry of the same term...
  while (i >= lo && x.logTerms[i - x.logStart] !== y.logTerms[i - y.logStart]) i--;
  // ...and everything below it must be the same entry.
  for (; i >= lo; i--) {
    if (x.logHashes[i - x.logStart] !== y.logHashes[i - y.logStart]) {
      return `logs of nodes ${x.id} and ${y.id} differ at ${i} below a matching entry of the same term`;
    }
  }
  return null;
}

/** What is known committed, shared by the two commit invariants of one run. */
class CommittedRecord {
  readonly hashes = new Map<number, { hash: number; node: number }>();
  /** For each term τ, the highest index reported committed by a node in term τ. */
  readonly maxIndexByTerm = new Map<number, number>();
  /** Per node: how far its committed entries have been checked. */
  private readonly checked = new Map<number, { through: number }>();

  /** Records every committed entry a view shows; returns a disagreement, if any. */
  observe(v: LogView): string | null {
    const top = Math.min(v.commit, v.lastIndex);
    const before = this.checked.get(v.id);
    // Committed entries never change: check only what is new, or everything again when the commit index went back (a restart).
    const from = before !== undefined && top >= before.through ? before.through + 1 : 1;
    this.checked.set(v.id, { through: top });
    for (let i = Math.max(v.logStart, from); i <= top; i++) {
      const h = v.logHashes[i - v.logStart] as number;
      const known = this.hashes.get(i);
      if (known === undefined) {
        this.hashes.set(i, { hash: h, node: v.id });
        if (this.hashes.size > MEMORY) this.hashes.delete(this.hashes.keys().next().value as number);
      } else if (known.hash !== h) {
        return `nodes ${known.node} and ${v.id} committed different entries at index ${i}`;
      }
    }
    if (top > (this.maxIndexByTerm.get(v.term) ?? 0)) this.maxIndexByTerm.set(v.term, top);
    return null;
  }

  /** The highest index known committed by a node whose term was below `term`. */
  committedBefore(term: number): number {
    let max = 0;
    for (const [t, i] of this.maxIndexByTerm) if (t < term && i > max) max = i;
    return max;
  }
}

/**
 * State Machine Safety: no two nodes commit (and so apply) different entries at
 * one index, ever. Leader Completeness: a leader of term T holds every entry
 * known committed by a node in a term below T.
 */
export function commitSafety(): Invariant[] {
  const record = new CommittedRecord();
  const stateMachine: Invariant = {
    name: 'raft-state-machine-safety',
    check(views) {
      for (const v of views) {
        if (!isLogView(v)) continue;
        const problem = record.observe(v);
        if (problem !== null) return problem;
      }
      return null;
    },
  };
  const completeness: Invariant = {
    name: 'leader-completeness',
    check(views) {
      for (const v of views) {
        if (v.role !== 'leader' || !isLogView(v)) continue;
        const need = record.committedBefore(v.term);
        if (need > v.lastIndex) return `leader ${v.id} of term ${v.term} lacks committed entry ${need} (its log ends at ${v.lastIndex})`;
        for (let i = Math.max(v.logStart, 1); i <= need; i++) {
          const known = record.hashes.get(i);
          if (known !== undefined && known.hash !== v.logHashes[i - v.logStart]) {
            return `leader ${v.id} of term ${v.term} holds a different entry at committed index ${i} than node ${known.node}`;
          }
        }
      }
      return null;
    },
  };
  return [stateMachine, completeness];
}

/** Fresh instances of every Raft invariant for one run. */
export function raftInvariants(): Invariant[] {
  return [electionSafety(), leaderAppendOnly(), logMatching(), ...commitSafety()];
}
