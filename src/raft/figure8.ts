// The scenario 'figure-8' (`synod sim --protocol raft --scenario figure-8`): a
// fault schedule that drives the history of Raft Figure 8 (§5.4.2) again and
// again, so that a leader that commits an entry of an earlier term by counting
// replicas is seen: a later leader lacks that committed entry (Leader
// Completeness) and overwrites it (State Machine Safety, linearizability).
//
// One round, in a cluster of n (Figure 8's S1..S5 for n = 5):
//   (a) the leader A is cut off alone; clients still reach it and it appends
//       their writes (an uncommitted tail of its term t);
//   (b) the others elect X (term u > t); X is cut off at the instant its first
//       AppendEntries leaves, so the no-op of term u at the head of its log
//       reaches no one; everybody is alone;
//   (c) A and just a majority without X are joined: only A can win there (its
//       tail makes its log the most up-to-date), in a term above u, and it
//       replicates its tail of term t, then its own no-op;
//   (d) at a random moment of that replication A is cut off and X is joined
//       with a majority: X's last term u beats the tail of term t, so X can
//       win and overwrite it.
// Correct Raft commits nothing of A's tail before A's no-op is on a majority,
// and then X cannot win: (d) is harmless. The scenario sends one entry per
// AppendEntries and one AppendEntries in flight per follower (the options
// below), so the acknowledgement of an entry of term t arrives one round trip
// before that of the no-op: a leader that counts replicas for entries of an
// earlier term commits in that window.

import type { NodeId } from '../core/ids.js';
import type { Scenario, ScenarioControl } from '../sim/scenario.js';
import type { TraceEvent } from '../sim/trace.js';

/** How long (d) waits, at most, after the new leader's first AppendEntries before cutting it off, ms. */
const CUT_WINDOW_MS = 40;
/** A stage that does not happen within this is given up; the network heals and a new round begins, ms. */
const STAGE_LIMIT_MS = 1500;
/** How long (b) keeps everybody apart before (c), ms: longer than the isolated leader's lease. */
const APART_MS: readonly [number, number] = [100, 300];
/** How long (d) lasts before the network heals, ms. */
const FINAL_MS = 800;
/** Pause between rounds, ms. */
const REST_MS: readonly [number, number] = [200, 600];

type Stage =
  | { readonly kind: 'idle' }
  | { readonly kind: 'old-cut'; readonly round: number; readonly old: NodeId; readonly term: number }
  | { readonly kind: 'apart'; readonly round: number; readonly old: NodeId; readonly successor: NodeId; readonly term: number }
  | { readonly kind: 'old-back'; readonly round: number; readonly successor: NodeId; readonly term: number }
  | { readonly kind: 'final'; readonly round: number };

/** The term of an AppendEntries being sent, or null for any other trace event. */
function appendEntriesSent(e: TraceEvent): { from: NodeId; term: number } | null {
  if (e.type !== 'send') return null;
  const msg = e.msg as { readonly type?: unknown; readonly term?: unknown };
  if (msg.type !== 'AppendEntries' || typeof msg.term !== 'number') return null;
  return { from: e.from as NodeId, term: msg.term };
}

class Figure8Rounds {
  private stage: Stage = { kind: 'idle' };
  private round = 0;
  private readonly quorum: number;

  constructor(private readonly ctl: ScenarioControl) {
    this.quorum = Math.floor(ctl.members.length / 2) + 1;
  }

  start(): void {
    this.ctl.watch((e) => {
      this.onEvent(e);
      return 'continue';
    });
    this.ctl.at(1000, () => this.begin());
  }

  private between(range: readonly [number, number]): number {
    return range[0] + this.ctl.rng.float() * (range[1] - range[0]);
  }

  /** Gives up the round if it is still at `stage` after STAGE_LIMIT_MS. */
  private limit(round: number): void {
    this.ctl.at(this.ctl.now() + STAGE_LIMIT_MS, () => {
      if (this.stage.kind !== 'idle' && this.stage.round === round) this.endRound();
    });
  }

  private endRound(): void {
    this.stage = { kind: 'idle' };
    this.ctl.heal();
    this.ctl.at(this.ctl.now() + this.between(REST_MS), () => this.begin());
  }

  /** (a) The leader is cut off alone. */
  private begin(): void {
    const leaders = this.ctl.views().filter((v) => v.role === 'leader').sort((a, b) => Number(b['term']) - Number(a['term']));
    const leader = leaders[0];
    if (leader === undefined) {
      this.ctl.at(this.ctl.now() + 100, () => this.begin());
      return;
    }
    const round = ++this.round;
    this.stage = { kind: 'old-cut', round, old: leader.id, term: Number(leader['term']) };
    this.ctl.partition([[leader.id], this.ctl.members.filter((m) => m !== leader.id)]);
    this.limit(round);
  }

  private onEvent(e: TraceEvent): void {
    const s = this.stage;
    if (s.kind !== 'old-cut' && s.kind !== 'old-back') return;
    const ae = appendEntriesSent(e);
    if (ae === null || ae.term <= s.term) return;
    if (s.kind === 'old-cut') this.successorElected(s.round, s.old, ae.from, ae.term);
    else this.oldLeaderBack(s.round, s.successor, ae.from);
  }

  /** (b) The successor's first AppendEntries is leaving: everybody apart, then (c). */
  private successorElected(round: number, old: NodeId, successor: NodeId, term: number): void {
    this.stage = { kind: 'apart', round, old, successor, term };
    this.ctl.partition(this.ctl.members.map((m) => [m]));
    this.ctl.at(this.ctl.now() + this.between(APART_MS), () => {
      if (this.stage.kind !== 'apart' || this.stage.round !== round) return;
      const others = this.ctl.rng.shuffle(this.ctl.members.filter((m) => m !== old && m !== successor));
      const group = [old, ...others.slice(0, this.quorum - 1)];
      this.stage = { kind: 'old-back', round, successor, term };
      this.ctl.partition([group, ...this.ctl.members.filter((m) => !group.includes(m)).map((m) => [m])]);
      this.limit(round);
    });
  }

  /** (d) A leader of a later term replicates: at a random moment it is cut off and the successor joins a majority. */
  private oldLeaderBack(round: number, successor: NodeId, leader: NodeId): void {
    this.stage = { kind: 'final', round };
    this.ctl.at(this.ctl.now() + this.ctl.rng.float() * CUT_WINDOW_MS, () => {
      if (this.stage.kind !== 'final' || this.stage.round !== round) return;
      const others = this.ctl.rng.shuffle(this.ctl.members.filter((m) => m !== leader && m !== successor));
      const group = [successor, ...others.slice(0, this.quorum - 1)];
      this.ctl.partition([group, ...this.ctl.members.filter((m) => !group.includes(m)).map((m) => [m])]);
      this.ctl.at(this.ctl.now() + FINAL_MS, () => {
        if (this.stage.kind === 'final' && this.stage.round === round) this.endRound();
      });
    });
  }
}

export const figure8Scenario: Scenario = {
  name: 'figure-8',
  description: "Raft Figure 8 again and again: the leader is cut off with an uncommitted tail, its successor is cut off before its no-op leaves, the old leader wins again and replicates its tail, and is cut off at a random moment of that while the successor joins a majority (one entry per AppendEntries, one in flight)",
  options: { maxEntriesPerMsg: 1, maxInflightMsgs: 1 },
  setup(ctl) {
    new Figure8Rounds(ctl).start();
  },
};
