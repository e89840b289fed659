// The Raft operator in the simulator (`--faults reconfigure,transfer`, part of
// `--faults all`): what an administrator does to a running cluster, through the
// leader's own API (RaftNode.proposeConfChange, RaftNode.transferLeadership),
// while the nemesis keeps crashing and partitioning it.
//
// 'reconfigure' runs change cycles (Raft §6, thesis §4): from time to time a
// voter (the leader too) is removed or demoted to a learner, in one step or
// through C_old,new; the missing node is then added back as a learner, and a
// learner that has caught up is promoted, alone (one step or joint) or in a
// joint swap that demotes another voter at once. The operator reconciles from
// the leader's configuration every poll, so leader changes, refusals and lost
// proposals need no special handling. 'transfer' asks the leader, from time to
// time, to hand leadership to a random voter that holds its committed log
// (thesis §3.10). In the liveness phase no new change starts and every node is
// brought back as a voter; the run's liveness check waits for that.
//
// Counted in the run summary (operator: ...): membership changes proposed,
// refused by the leader, committed (of which joint), lost (overwritten);
// transfers requested, refused, completed (the target led a later term),
// not completed.

import { KvNode } from '../kv/adapter.js';
import type { NodeId } from '../core/ids.js';
import type { NodeView } from '../sim/protocol.js';
import type { AnyNode } from '../sim/host.js';
import type { Operator, OperatorActivity, OperatorControl } from '../sim/operator.js';
import { isSimpleChange } from './membership.js';
import { RaftNode } from './node.js';
import type { ConfChangeOp } from './types.js';

/** How often the operator looks at the cluster, ms. */
const POLL_MS = 20;
/** Mean gap between the starts of two change cycles, ms. */
const CYCLE_MEAN_GAP_MS = 2000;
/** A node stays removed, or a learner, this long before the next step, ms (none while settling). */
const STEP_PAUSE_MS: readonly [number, number] = [0, 400];
/** Share of promotions done as a joint swap (promote a learner, demote a voter). */
const SWAP_SHARE = 0.25;
/** Mean gap between two transfer requests, ms. */
const TRANSFER_MEAN_GAP_MS = 2500;
/** A transfer counts as completed if its target leads a later term within this, ms. */
const TRANSFER_WAIT_MS = 1000;
/** A change proposed but never seen committed or overwritten is forgotten after this, ms. */
const CHANGE_FORGET_MS = 30_000;
/** After settle(), calls queued at nodes that were busy or paused run first (they may propose a change), ms. */
const SETTLE_GRACE_MS = 100;
/** Limit on changes and transfers tracked at once (oldest forgotten first). */
const MAX_TRACKED = 64;

/** The RaftView fields the operator reads (the KV node merges them into its view). */
interface RaftViewLike extends NodeView {
  readonly term: number;
  readonly commit: number;
  readonly lastIndex: number;
  readonly logStart: number;
  readonly logTerms: readonly number[];
  /** The node's configuration in force: LogStatus's voters (C_new and C_old together) override RaftView's. */
  readonly voters: readonly NodeId[];
  readonly outgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

function asRaftView(v: NodeView): RaftViewLike | null {
  return v.role !== 'down' && Array.isArray(v['logTerms']) && Array.isArray(v['outgoing']) && Array.isArray(v['learners']) ? (v as RaftViewLike) : null;
}

/** The Raft core behind a simulator node (a KV node over a RaftNode). */
export function raftOf(node: AnyNode): RaftNode<unknown, unknown> {
  const log: unknown = node instanceof KvNode ? node.log : node;
  if (!(log instanceof RaftNode)) throw new TypeError('the raft operator drives RaftNodes only');
  return log as RaftNode<unknown, unknown>;
}

interface PendingChange {
  readonly index: number;
  readonly term: number;
  readonly joint: boolean;
  readonly at: number;
}

interface PendingTransfer {
  readonly to: NodeId;
  readonly term: number;
  readonly at: number;
}

export class RaftOperator implements Operator {
  private settling = false;
  private settledAt = 0;
  private cycleDue = false;
  private notBefore = 0;
  private changes: PendingChange[] = [];
  private transfers: PendingTransfer[] = [];
  private missing: string | null = null;
  private readonly reconfigure: boolean;
  private readonly transfer: boolean;

  constructor(private readonly ctl: OperatorControl, activities: ReadonlySet<OperatorActivity>) {
    // Removing one of two voters would leave a cluster that cannot lose anyone: changes need three nodes.
    this.reconfigure = activities.has('reconfigure') && ctl.members.length >= 3;
    this.transfer = activities.has('transfer') && ctl.members.length >= 2;
  }

  start(): void {
    if (!this.reconfigure && !this.transfer) return;
    this.ctl.at(this.ctl.now() + POLL_MS, () => this.poll());
    if (this.reconfigure) this.scheduleCycle();
    if (this.transfer) this.scheduleTransfer();
  }

  settle(): void {
    this.settling = true;
    this.settledAt = this.ctl.now();
    this.notBefore = 0;
  }

  unsettled(): string | null {
    if (this.reconfigure && this.settling && this.ctl.now() < this.settledAt + SETTLE_GRACE_MS) return 'calls made before the liveness phase may still run';
    return this.missing;
  }

  // ------------------------------------------------------------ the loop

  private poll(): void {
    this.ctl.at(this.ctl.now() + POLL_MS, () => this.poll());
    const views = this.ctl.views().map(asRaftView).filter((v): v is RaftViewLike => v !== null);
    this.resolveChanges(views);
    this.resolveTransfers(views);
    const leader = leaderOf(views);
    if (this.reconfigure && leader !== null) this.reconcile(leader, views);
    this.missing = this.reconfigure ? this.whatIsMissing(leader) : null;
  }

  private scheduleCycle(): void {
    this.ctl.at(this.ctl.now() + this.ctl.rng.exponential(CYCLE_MEAN_GAP_MS), () => {
      if (this.settling) return;
      this.cycleDue = true;
      this.scheduleCycle();
    });
  }

  private scheduleTransfer(): void {
    this.ctl.at(this.ctl.now() + this.ctl.rng.exponential(TRANSFER_MEAN_GAP_MS), () => {
      if (this.settling) return;
      this.requestTransfer();
      this.scheduleTransfer();
    });
  }

  /** What keeps the cluster from its full shape: every member a voter, no joint configuration, no change in flight. */
  private whatIsMissing(leader: RaftViewLike | null): string | null {
    if (leader === null) return 'no leader';
    if (leader.outgoing.length > 0) return `leader ${leader.id} is in a joint configuration`;
    const notVoters = this.ctl.members.filter((m) => !leader.voters.includes(m));
    if (notVoters.length > 0) return `node${notVoters.length > 1 ? 's' : ''} ${notVoters.join(', ')} not voter${notVoters.length > 1 ? 's' : ''} (leader ${leader.id})`;
    if (this.changes.length > 0) return 'a membership change is still in flight';
    return null;
  }

  // ------------------------------------------------------------ membership changes

  /** One step toward the next configuration, decided from the leader's configuration in force. */
  private reconcile(leader: RaftViewLike, views: readonly RaftViewLike[]): void {
    // The leader leaves C_old,new by itself; a change in flight is waited for.
    if (leader.outgoing.length > 0 || this.changes.length > 0 || this.ctl.now() < this.notBefore) return;
    const rng = this.ctl.rng;
    const voters = leader.voters;
    const absent = this.ctl.members.filter((m) => !voters.includes(m) && !leader.learners.includes(m));
    if (absent.length > 0) {
      this.propose(leader, [{ type: 'add-learner', node: rng.pick(absent) }], false);
      return;
    }
    // Thesis §4.2.1: a learner is promoted once it holds what the leader has committed.
    const ready = leader.learners.filter((l) => views.some((v) => v.id === l && v.lastIndex >= leader.commit));
    if (ready.length > 0) {
      const learner = rng.pick(ready);
      if (!this.settling && rng.chance(SWAP_SHARE)) {
        this.propose(leader, [{ type: 'add-voter', node: learner }, { type: 'add-learner', node: rng.pick(voters) }], true);
      } else {
        this.propose(leader, [{ type: 'add-voter', node: learner }], rng.chance(0.5));
      }
      return;
    }
    if (!this.cycleDue || this.settling || leader.learners.length > 0) return;
    this.cycleDue = false;
    const node = rng.pick(voters);
    const op: ConfChangeOp = rng.chance(0.5) ? { type: 'remove', node } : { type: 'add-learner', node };
    this.propose(leader, [op], rng.chance(0.5));
  }

  private propose(leader: RaftViewLike, ops: readonly ConfChangeOp[], joint: boolean): void {
    const at = this.ctl.now();
    this.notBefore = at + (this.settling ? 0 : STEP_PAUSE_MS[0] + this.ctl.rng.float() * (STEP_PAUSE_MS[1] - STEP_PAUSE_MS[0]));
    this.ctl.operate(leader.id, (node) => {
      const raft = raftOf(node);
      // The same rule the leader applies: more than one voter changed means C_old,new.
      const isJoint = joint || !isSimpleChange(raft.configuration(), ops);
      const r = raft.proposeConfChange(ops, joint);
      if (!r.ok) {
        this.ctl.count('membership-refused');
        return;
      }
      const st = raft.status();
      this.track(this.changes, { index: st.lastIndex, term: st.term, joint: isJoint, at });
      this.ctl.count('membership-proposed');
    });
  }

  /** A change is committed once a node shows its entry (same index and term) under its commit index; lost if another entry is. */
  private resolveChanges(views: readonly RaftViewLike[]): void {
    if (this.changes.length === 0) return;
    const now = this.ctl.now();
    this.changes = this.changes.filter((c) => {
      const fate = changeFate(c, views);
      if (fate === 'committed') {
        this.ctl.count('membership-committed');
        if (c.joint) this.ctl.count('membership-joint-committed');
      } else if (fate === 'lost') {
        this.ctl.count('membership-lost');
      } else if (fate === 'unknown' || now - c.at > CHANGE_FORGET_MS) {
        this.ctl.count('membership-unresolved');
      } else {
        return true;
      }
      return false;
    });
  }

  // ------------------------------------------------------------ leadership transfer

  private requestTransfer(): void {
    const views = this.ctl.views().map(asRaftView).filter((v): v is RaftViewLike => v !== null);
    const leader = leaderOf(views);
    if (leader === null) return;
    // Up-to-date: it holds everything the leader has committed (the leader catches it up the rest of the way).
    const targets = views.filter((v) => v.id !== leader.id && leader.voters.includes(v.id) && v.lastIndex >= leader.commit).map((v) => v.id);
    if (targets.length === 0) return;
    const to = this.ctl.rng.pick(targets);
    const at = this.ctl.now();
    this.ctl.operate(leader.id, (node) => {
      const raft = raftOf(node);
      const r = raft.transferLeadership(to);
      if (!r.ok) {
        this.ctl.count('transfer-refused');
        return;
      }
      this.track(this.transfers, { to, term: raft.status().term, at });
      this.ctl.count('transfer-requested');
    });
  }

  private resolveTransfers(views: readonly RaftViewLike[]): void {
    if (this.transfers.length === 0) return;
    const now = this.ctl.now();
    this.transfers = this.transfers.filter((t) => {
      const target = views.find((v) => v.id === t.to);
      if (target !== undefined && target.role === 'leader' && target.term > t.term) {
        this.ctl.count('transfer-completed');
        return false;
      }
      const other = views.some((v) => v.id !== t.to && v.role === 'leader' && v.term > t.term);
      if (other || now - t.at > TRANSFER_WAIT_MS) {
        this.ctl.count('transfer-not-completed');
        return false;
      }
      return true;
    });
  }

  private track<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_TRACKED) {
      list.shift();
      this.ctl.count('forgotten');
    }
  }
}

/** The leader of the highest term among the nodes that are up. */
function leaderOf(views: readonly RaftViewLike[]): RaftViewLike | null {
  let best: RaftViewLike | null = null;
  for (const v of views) if (v.role === 'leader' && (best === null || v.term > best.term)) best = v;
  return best;
}

function changeFate(c: PendingChange, views: readonly RaftViewLike[]): 'committed' | 'lost' | 'unknown' | 'pending' {
  let beyondWindow = false;
  for (const v of views) {
    if (v.commit < c.index) continue;
    if (c.index < v.logStart || c.index > v.lastIndex) {
      beyondWindow = true;
      continue;
    }
    return v.logTerms[c.index - v.logStart] === c.term ? 'committed' : 'lost';
  }
  return beyondWindow ? 'unknown' : 'pending';
}

export function raftOperator(ctl: OperatorControl, activities: ReadonlySet<OperatorActivity>): Operator {
  return new RaftOperator(ctl, activities);
}
