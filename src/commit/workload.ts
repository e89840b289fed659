// The 'transaction' workload: clients each run one transaction at a time over
// every participant, asking the coordinator (members[0]) to commit it. The
// participants' votes are theirs to draw (option noProbability, from the seed).
// A client that gets no answer in `timeoutMs` asks again, marked as a retry,
// so that a restarted coordinator finds the outcome out instead of starting
// the transaction afresh. Outcomes are recorded in the trace (invoke/complete).

import { assert } from '../core/assert.js';
import { TxId, type NodeId } from '../core/ids.js';
import type { CheckBudget, Workload, WorkloadContext, WorkloadFactory, WorkloadOptions, WorkloadVerdict } from '../sim/workload.js';
import type { CommitReply, CommitRequest, Outcome } from './types.js';

export interface TransactionWorkloadConfig {
  /** Mean think time between two transactions of one client, ms. */
  readonly thinkMs: number;
  /** How long a client waits for the outcome before asking again, ms. */
  readonly timeoutMs: number;
  /** Limit on transactions begun; once reached clients stop. */
  readonly maxTransactions: number;
}

export const DEFAULT_TRANSACTION_WORKLOAD: TransactionWorkloadConfig = { thinkMs: 30, timeoutMs: 400, maxTransactions: 10_000 };

/** Clients are numbered 0..255 (a timer tag packs the client and a generation). */
const MAX_CLIENTS = 256;

interface Client {
  readonly process: number;
  seq: number;
  tx: TxId | null;
  gen: number;
  timer: 'think' | 'timeout';
  tries: number;
}

function numberOption(o: Readonly<Record<string, unknown>>, name: string, fallback: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`transaction workload option ${name} must be a number in [${min}, ${max}], got ${String(v)}`);
  return v;
}

export class TransactionWorkload implements Workload<CommitRequest, CommitReply> {
  private ctx: WorkloadContext<CommitRequest> | null = null;
  private readonly clients: Client[] = [];
  private readonly requests = new Map<number, { process: number; tx: TxId }>();
  private readonly outcomes = new Map<string, Outcome>();
  private stopped = false;
  private begun = 0;
  private readonly counts = { commit: 0, abort: 0, unanswered: 0, retries: 0 };

  constructor(private readonly clientCount: number, private readonly config: TransactionWorkloadConfig) {
    assert(clientCount >= 1 && clientCount <= MAX_CLIENTS, () => `transaction workload of ${clientCount} clients (1..${MAX_CLIENTS})`);
  }

  start(ctx: WorkloadContext<CommitRequest>): void {
    this.ctx = ctx;
    for (let p = 0; p < this.clientCount; p++) {
      const c: Client = { process: p, seq: 0, tx: null, gen: 0, timer: 'think', tries: 0 };
      this.clients.push(c);
      this.think(c);
    }
  }

  onTimer(tag: number): void {
    const c = this.clients[tag % MAX_CLIENTS];
    if (c === undefined || Math.floor(tag / MAX_CLIENTS) !== c.gen) return;
    if (c.timer === 'think') {
      this.begin(c);
      return;
    }
    // No outcome in time: the coordinator may be down or the transaction blocked. Ask again.
    this.counts.retries++;
    this.send(c, true);
  }

  onReply(requestId: number, _from: NodeId, reply: CommitReply): void {
    const r = this.requests.get(requestId);
    if (r === undefined) return;
    this.requests.delete(requestId);
    const c = this.clients[r.process] as Client;
    if (reply.type !== 'outcome' || c.tx !== r.tx) return;
    this.outcomes.set(r.tx, reply.outcome);
    this.counts[reply.outcome]++;
    this.context().complete(c.process, reply.outcome, { tx: r.tx, tries: c.tries });
    c.tx = null;
    this.think(c);
  }

  completed(): number {
    return this.counts.commit + this.counts.abort;
  }

  stop(): void {
    this.stopped = true;
  }

  finish(_budget: CheckBudget): readonly WorkloadVerdict[] {
    for (const c of this.clients) {
      if (c.tx === null) continue;
      this.counts.unanswered++;
      this.context().complete(c.process, 'info', { tx: c.tx, tries: c.tries });
      c.tx = null;
    }
    // Atomicity, validity and stability are checked on the nodes after every
    // event (src/commit/invariants.ts); the clients only count what they were told.
    return [{ result: 'ok', check: 'transactions', detail: `${this.counts.commit} committed, ${this.counts.abort} aborted, ${this.counts.unanswered} unanswered` }];
  }

  stats(): Readonly<Record<string, number>> {
    return { begun: this.begun, committed: this.counts.commit, aborted: this.counts.abort, unanswered: this.counts.unanswered, retries: this.counts.retries };
  }

  /** What the clients were told, by transaction (tests). */
  told(): ReadonlyMap<string, Outcome> {
    return this.outcomes;
  }

  private context(): WorkloadContext<CommitRequest> {
    assert(this.ctx !== null, 'transaction workload used before start()');
    return this.ctx;
  }

  private think(c: Client): void {
    if (this.stopped || this.begun >= this.config.maxTransactions) return;
    c.timer = 'think';
    c.gen++;
    this.context().setTimer(this.context().rng.exponential(this.config.thinkMs), c.gen * MAX_CLIENTS + c.process);
  }

  private begin(c: Client): void {
    if (this.stopped || this.begun >= this.config.maxTransactions) return;
    this.begun++;
    c.seq++;
    c.tx = TxId(`t${c.process}.${c.seq}`);
    c.tries = 0;
    this.context().invoke(c.process, { f: 'commit', tx: c.tx });
    this.send(c, false);
  }

  private send(c: Client, retry: boolean): void {
    if (c.tx === null) return;
    const ctx = this.context();
    c.tries++;
    const req: CommitRequest = retry ? { type: 'begin', tx: c.tx, retry } : { type: 'begin', tx: c.tx };
    const id = ctx.send(ctx.members[0] as NodeId, req);
    this.requests.set(id, { process: c.process, tx: c.tx });
    c.timer = 'timeout';
    c.gen++;
    ctx.setTimer(this.config.timeoutMs, c.gen * MAX_CLIENTS + c.process);
  }
}

export const transactionWorkload: WorkloadFactory<CommitRequest, CommitReply> = (o: WorkloadOptions) =>
  new TransactionWorkload(o.clients, {
    thinkMs: numberOption(o.options, 'thinkMs', DEFAULT_TRANSACTION_WORKLOAD.thinkMs, 0, 60_000),
    timeoutMs: numberOption(o.options, 'timeoutMs', DEFAULT_TRANSACTION_WORKLOAD.timeoutMs, 1, 600_000),
    maxTransactions: numberOption(o.options, 'maxTransactions', DEFAULT_TRANSACTION_WORKLOAD.maxTransactions, 1, 1_000_000),
  });
