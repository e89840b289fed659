// etcd's MoveLeader at the leader, for either protocol: requests wait for the
// next batch (a core is called only between batches, never between ready()
// and advance()), start the core's leadership transfer there (Raft thesis
// §3.10; Multi-Paxos's release, src/paxos/multi/multipaxos.ts), and are
// answered once the target leads, or at their deadline.

import type { Effects } from '../../core/effects.js';
import type { NodeId } from '../../core/ids.js';
import type { LogStatus, Message } from '../../core/replicated-log.js';
import type { KvNode } from '../../kv/adapter.js';
import type { KvReply, KvRequest } from '../../kv/api.js';
import type { NodeView, SimNode, SimOutput } from '../../sim/protocol.js';

/** How a MoveLeader ended (etcd's answers: not leader, bad transferee, timed out). */
export type TransferOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'not-leader' | 'bad-transferee' | 'timeout'; readonly message: string };

/** What a transfer needs of the core. */
export interface TransferCore {
  status(): LogStatus;
  transferLeadership(to: NodeId): { readonly ok: true } | { readonly ok: false; readonly reason: string };
}

interface Transfer {
  readonly to: NodeId;
  readonly deadline: number;
  started: boolean;
  resolve(o: TransferOutcome): void;
}

/** Most transfers waiting at once. */
const MAX_TRANSFERS = 64;

export class LeaderTransfers {
  private transfers: Transfer[] = [];

  constructor(
    private readonly core: TransferCore,
    private readonly now: () => number,
  ) {}

  request(to: NodeId, timeoutMs: number): Promise<TransferOutcome> {
    if (this.transfers.length >= MAX_TRANSFERS) return Promise.resolve({ ok: false, code: 'timeout', message: 'etcdserver: too many leader transfers waiting; retry later' });
    return new Promise((resolve) => this.transfers.push({ to, deadline: this.now() + timeoutMs, started: false, resolve }));
  }

  /** At the start of a batch: starts waiting transfers, and answers those whose target now leads or whose time is up. */
  run(): void {
    if (this.transfers.length === 0) return;
    const now = this.now();
    this.transfers = this.transfers.filter((t) => {
      const s = this.core.status();
      if (s.leader === t.to && (t.to !== s.id || s.role === 'leader')) {
        t.resolve({ ok: true });
        return false;
      }
      if (!t.started) {
        if (s.role !== 'leader') {
          t.resolve({ ok: false, code: 'not-leader', message: 'etcdserver: not leader' });
          return false;
        }
        const r = this.core.transferLeadership(t.to);
        if (!r.ok) {
          t.resolve(r.reason === 'not-leader' ? { ok: false, code: 'not-leader', message: 'etcdserver: not leader' } : { ok: false, code: 'bad-transferee', message: 'etcdserver: bad leader transferee' });
          return false;
        }
        t.started = true;
      }
      if (now > t.deadline) {
        t.resolve({ ok: false, code: 'timeout', message: 'etcdserver: request timed out, leader transfer took too long' });
        return false;
      }
      return true;
    });
  }
}

/**
 * The key-value node as the host drives it on Multi-Paxos, with MoveLeader
 * (on Raft, MembershipNode does this along with membership changes).
 */
export class TransferNode<W, M extends Message> implements SimNode<M, W, KvRequest, KvReply> {
  private readonly transfers: LeaderTransfers;

  constructor(readonly kv: KvNode<W, M>, core: TransferCore, now: () => number) {
    this.transfers = new LeaderTransfers(core, now);
  }

  get id(): NodeId {
    return this.kv.id;
  }

  tick(): void {
    this.kv.tick();
  }

  step(from: NodeId, msg: M): void {
    this.kv.step(from, msg);
  }

  request(requestId: number, req: KvRequest): void {
    this.kv.request(requestId, req);
  }

  advance(): void {
    this.kv.advance();
  }

  view(): NodeView {
    return this.kv.view();
  }

  transfer(to: NodeId, timeoutMs: number): Promise<TransferOutcome> {
    return this.transfers.request(to, timeoutMs);
  }

  ready(): Effects<W, M, SimOutput<KvReply>> | null {
    this.transfers.run();
    return this.kv.ready();
  }
}
