// The key-value node as the host drives it, plus membership changes at the
// leader. A change may be handed to the Raft core only between two batches
// (never between ready() and advance()), so changes wait in a bounded queue
// and are proposed at the start of the next ready(); the host runs one at
// least every tick. A change is answered once its configuration entry has
// committed in the term it was proposed in (Raft §6: it is then in force).
//
// The node also tells its owner about every configuration applied, before the
// batch that applied it is sent: a member added gets its peer address in the
// transport before the first AppendEntries to it leaves.

import type { Effects } from '../../core/effects.js';
import type { NodeId } from '../../core/ids.js';
import type { Message } from '../../core/replicated-log.js';
import type { KvNode } from '../../kv/adapter.js';
import type { KvReply } from '../../kv/api.js';
import type { LogIndex } from '../../core/ids.js';
import type { LogStatus } from '../../core/replicated-log.js';
import type { ConfChangeOp, ConfState, RequestResult } from '../../raft/types.js';
import type { SimOutput } from '../../sim/protocol.js';
import { encodeDirectory, type Directory, type DirectoryMember } from './directory.js';
import { planChange, type MemberChange, type PlanContext, type Refusal } from './changes.js';
import { TransferNode } from './transfer.js';

export type { TransferOutcome } from './transfer.js';

export type ChangeOutcome =
  | { readonly ok: true; readonly member: DirectoryMember | null; readonly directory: Directory; readonly conf: ConfState }
  | { readonly ok: false; readonly code: 'not-leader'; readonly leader: NodeId | null; readonly message: string }
  | { readonly ok: false; readonly code: 'unknown' | 'busy' | 'timeout'; readonly message: string }
  | Refusal;

interface Queued {
  readonly change: MemberChange;
  readonly deadline: number;
  resolve(o: ChangeOutcome): void;
}

interface InFlight extends Queued {
  readonly index: number;
  readonly term: number;
  readonly member: DirectoryMember | null;
  readonly directory: Directory;
}

/** What membership needs of the Raft core (src/raft/node.ts). */
export interface ConfLog {
  configuration(): ConfState;
  status(): LogStatus;
  followerMatch(id: NodeId): LogIndex | null;
  proposeConfChange(ops: readonly ConfChangeOp[], joint: boolean, context?: string): RequestResult;
  /** Thesis §3.10: hand leadership to a voter whose log is caught up. */
  transferLeadership(to: NodeId): RequestResult;
}

export interface MembershipHooks {
  /** The directory attached to a configuration (the initial one when none is). */
  directoryOf(conf: ConfState): Directory;
  readonly plan: Omit<PlanContext, 'match' | 'commitIndex'>;
  /** A configuration was applied on this member (called before the batch's messages are sent). */
  onConfApplied(conf: ConfState): void;
  /** Milliseconds now (the server's clock; deadlines of queued changes). */
  now(): number;
}

const CONF_EVENTS: ReadonlySet<string> = new Set(['membership-applied', 'snapshot-installed']);

/** Most membership changes waiting at once. */
export const MAX_QUEUED_CHANGES = 64;

/** The key-value node with membership changes and MoveLeader (TransferNode), as the host drives it on Raft. */
export class MembershipNode<W, M extends Message> extends TransferNode<W, M> {
  private queue: Queued[] = [];
  private inFlight: InFlight | null = null;

  constructor(
    kv: KvNode<W, M>,
    private readonly raft: ConfLog,
    private readonly hooks: MembershipHooks,
  ) {
    super(kv, raft, hooks.now);
  }

  /** Queues a change for the next batch; resolves with its outcome (never rejects). */
  change(change: MemberChange, timeoutMs: number): Promise<ChangeOutcome> {
    if (this.queue.length >= MAX_QUEUED_CHANGES) return Promise.resolve({ ok: false, code: 'busy', message: 'etcdserver: too many membership changes waiting; retry later' });
    return new Promise((resolve) => this.queue.push({ change, deadline: this.hooks.now() + timeoutMs, resolve }));
  }

  override ready(): Effects<W, M, SimOutput<KvReply>> | null {
    this.settleInFlight();
    this.proposeQueued();
    const fx = super.ready();
    // A configuration arrives by a committed change or inside a snapshot (Raft §7: the snapshot carries it).
    if (fx !== null && fx.outputs.some((o) => o.type === 'event' && CONF_EVENTS.has(o.event.kind))) this.hooks.onConfApplied(this.raft.configuration());
    return fx;
  }

  /** Answers the change in flight once committed in its term, or fails it when the term moved on first. */
  private settleInFlight(): void {
    const f = this.inFlight;
    if (f === null) return;
    const s = this.raft.status();
    if (s.term === f.term && s.commitIndex >= f.index) {
      // Within one term the entry at `index` is the one proposed (a leader never overwrites its own entries).
      this.inFlight = null;
      f.resolve({ ok: true, member: f.member, directory: f.directory, conf: this.raft.configuration() });
    } else if (s.term !== f.term) {
      this.inFlight = null;
      f.resolve({ ok: false, code: 'unknown', message: 'etcdserver: leader changed (the membership change may or may not have taken effect; check with member list)' });
    } else if (this.hooks.now() > f.deadline + 60_000) {
      // Still uncommitted long after its caller gave up: stop tracking it (it may yet commit).
      this.inFlight = null;
    }
  }

  /** Proposes the first queued change when none is in flight; answers what cannot be proposed. */
  private proposeQueued(): void {
    const now = this.hooks.now();
    this.queue = this.queue.filter((q) => {
      if (q.deadline >= now) return true;
      q.resolve({ ok: false, code: 'timeout', message: 'etcdserver: request timed out (the membership change was not proposed)' });
      return false;
    });
    while (this.inFlight === null && this.queue.length > 0) {
      const q = this.queue[0] as Queued;
      const s = this.raft.status();
      if (s.role !== 'leader') {
        this.queue.shift();
        q.resolve({ ok: false, code: 'not-leader', leader: s.leader, message: 'etcdserver: not leader' });
        continue;
      }
      const conf = this.raft.configuration();
      const directory = this.hooks.directoryOf(conf);
      const plan = planChange(q.change, conf, directory, { ...this.hooks.plan, match: (id) => this.raft.followerMatch(id), commitIndex: s.commitIndex });
      if (!plan.ok) {
        this.queue.shift();
        q.resolve(plan);
        continue;
      }
      const r = this.raft.proposeConfChange(plan.ops, false, encodeDirectory(plan.directory));
      // A configuration change still committing (or a new leader's conservative wait): try again next batch.
      if (!r.ok && r.reason === 'conf-change-pending') return;
      this.queue.shift();
      if (!r.ok) {
        if (r.reason === 'not-leader' || r.reason === 'transferring') q.resolve({ ok: false, code: 'not-leader', leader: r.reason === 'not-leader' ? r.leader : null, message: 'etcdserver: not leader' });
        else q.resolve({ ok: false, code: r.reason === 'invalid' ? 'invalid' : 'busy', message: `etcdserver: ${r.message ?? r.reason}` });
        continue;
      }
      const after = this.raft.status();
      this.inFlight = { ...q, index: after.lastIndex, term: after.term, member: plan.member, directory: plan.directory };
    }
  }
}
