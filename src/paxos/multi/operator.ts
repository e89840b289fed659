// The Multi-Paxos operator in the simulator (`--faults transfer`, part of
// `--faults all`): from time to time it asks the leader to hand leadership to
// another live member (MultiPaxos.transferLeadership: the leader steps down
// and releases the acceptors from its lease; the target campaigns at once),
// while the nemesis keeps crashing and partitioning the cluster. With
// `--option leaseReads=true` the linearizability check then sees whether a
// leader that hands over still serves reads (mutant transfer-keeps-lease).
// 'reconfigure' is not offered for Multi-Paxos and is ignored.
//
// Counted in the run summary (operator: ...): transfers requested, refused,
// completed (the target led with a higher ballot round within a second), not
// completed.

import type { NodeId } from '../../core/ids.js';
import { KvNode } from '../../kv/adapter.js';
import type { AnyNode } from '../../sim/host.js';
import type { Operator, OperatorActivity, OperatorControl } from '../../sim/operator.js';
import type { NodeView } from '../../sim/protocol.js';
import { MultiPaxos } from './multipaxos.js';

/** Mean gap between two transfer requests, ms. */
const TRANSFER_MEAN_GAP_MS = 2500;
/** A transfer counts as completed if its target leads with a higher round within this, ms. */
const TRANSFER_WAIT_MS = 1000;
const POLL_MS = 20;
const MAX_TRACKED = 64;

interface PendingTransfer {
  readonly to: NodeId;
  readonly round: number;
  readonly at: number;
}

/** The ballot round a node's view shows (the KV node merges the log's ballot into its view). */
function roundOf(v: NodeView): number {
  const b = v['ballot'] as { readonly round?: unknown } | null | undefined;
  return typeof b?.round === 'number' ? b.round : -1;
}

function leaderOf(views: readonly NodeView[]): NodeView | null {
  let best: NodeView | null = null;
  for (const v of views) if (v.role === 'leader' && (best === null || roundOf(v) > roundOf(best))) best = v;
  return best;
}

/** The Multi-Paxos log behind a simulator node (a KV node over a MultiPaxos). */
function multiPaxosOf(node: AnyNode): MultiPaxos<unknown, unknown> {
  const log: unknown = node instanceof KvNode ? node.log : node;
  if (!(log instanceof MultiPaxos)) throw new TypeError('the multipaxos operator drives MultiPaxos logs only');
  return log as MultiPaxos<unknown, unknown>;
}

class MultiPaxosOperator implements Operator {
  private settling = false;
  private transfers: PendingTransfer[] = [];

  constructor(private readonly ctl: OperatorControl, private readonly enabled: boolean) {}

  start(): void {
    if (!this.enabled) return;
    this.ctl.at(this.ctl.now() + POLL_MS, () => this.poll());
    this.scheduleTransfer();
  }

  settle(): void {
    this.settling = true;
  }

  unsettled(): string | null {
    return null;
  }

  private poll(): void {
    this.ctl.at(this.ctl.now() + POLL_MS, () => this.poll());
    if (this.transfers.length === 0) return;
    const views = this.ctl.views();
    const now = this.ctl.now();
    this.transfers = this.transfers.filter((t) => {
      const target = views.find((v) => v.id === t.to);
      if (target !== undefined && target.role === 'leader' && roundOf(target) > t.round) {
        this.ctl.count('transfer-completed');
        return false;
      }
      if (now - t.at > TRANSFER_WAIT_MS) {
        this.ctl.count('transfer-not-completed');
        return false;
      }
      return true;
    });
  }

  private scheduleTransfer(): void {
    this.ctl.at(this.ctl.now() + this.ctl.rng.exponential(TRANSFER_MEAN_GAP_MS), () => {
      if (this.settling) return;
      this.requestTransfer();
      this.scheduleTransfer();
    });
  }

  private requestTransfer(): void {
    const views = this.ctl.views();
    const leader = leaderOf(views);
    if (leader === null) return;
    const targets = views.filter((v) => v.id !== leader.id && v.role !== 'down').map((v) => v.id);
    if (targets.length === 0) return;
    const to = this.ctl.rng.pick(targets);
    const at = this.ctl.now();
    const round = roundOf(leader);
    this.ctl.operate(leader.id, (node) => {
      const r = multiPaxosOf(node).transferLeadership(to);
      if (!r.ok) {
        this.ctl.count('transfer-refused');
        return;
      }
      this.transfers.push({ to, round, at });
      if (this.transfers.length > MAX_TRACKED) this.transfers.shift();
      this.ctl.count('transfer-requested');
    });
  }
}

export function multiPaxosOperator(ctl: OperatorControl, activities: ReadonlySet<OperatorActivity>): Operator {
  return new MultiPaxosOperator(ctl, activities.has('transfer') && ctl.members.length >= 2);
}
