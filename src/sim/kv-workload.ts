// The 'kv' workload: concurrent clients doing read / write / cas over a small
// key set (KvRequest / KvReply, src/kv/api.ts), Jepsen-style. Each client runs
// one operation at a time: it sends to the node it believes leads, follows
// 'not-leader' hints, and on a timeout or an 'unknown' answer retries with the
// SAME (client, seq), which the state machine applies at most once. It records
// a history (src/check/history.ts); operations never answered become 'info' at
// the end, and the history is checked for linearizability.

import { assert } from '../core/assert.js';
import { ClientId, type NodeId } from '../core/ids.js';
import type { History, HistoryEvent, OpFunction, Value } from '../check/history.js';
import { checkLinearizability } from '../check/linearizability.js';
import type { KvOp, KvReply, KvRequest } from '../kv/api.js';
import type { CheckBudget, Workload, WorkloadContext, WorkloadFactory, WorkloadOptions, WorkloadVerdict } from './workload.js';

export interface KvWorkloadConfig {
  readonly keys: number;
  /** Mean think time between two operations of one client, ms. */
  readonly thinkMs: number;
  /** How long a client waits for a reply before retrying elsewhere, ms. */
  readonly timeoutMs: number;
  /** Pause before a retry after a 'not-leader' or 'unknown' answer, ms. */
  readonly backoffMs: number;
  /** Share of reads and of cas among operations (the rest are writes). */
  readonly readShare: number;
  readonly casShare: number;
  /** Limit on recorded operations; once reached clients stop starting new ones. */
  readonly maxOps: number;
  /**
   * Share of clients that read from the node that last answered them a read
   * (sticky readers) instead of the node they believe leads: they keep talking
   * to an old leader cut off from the others, as a client with a cached
   * connection does, so that a stale read there is seen by the checker.
   */
  readonly stickyReaders: number;
}

export const DEFAULT_KV_WORKLOAD: KvWorkloadConfig = { keys: 3, thinkMs: 10, timeoutMs: 150, backoffMs: 5, readShare: 0.45, casShare: 0.2, maxOps: 100_000, stickyReaders: 0.4 };

/** Clients are numbered 0..255 (a timer tag packs the client and a generation). */
export const MAX_KV_CLIENTS = 256;

interface Client {
  readonly process: number;
  readonly id: ClientId;
  seq: number;
  /** The node this client believes leads. */
  target: number;
  /** Sticky readers: the node their reads go to (null: reads follow `target` like writes). */
  readTarget: number | null;
  /** The operation in progress, or null while thinking. */
  op: KvOp | null;
  invokeValue: Value | readonly [Value, Value];
  timerGen: number;
  /** What the client's one pending timer is for. */
  timer: 'think' | 'timeout' | 'backoff';
}

function numberOption(o: Readonly<Record<string, unknown>>, name: string, fallback: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`kv workload option ${name} must be a number in [${min}, ${max}], got ${String(v)}`);
  return v;
}

export function kvConfig(options: Readonly<Record<string, unknown>>): KvWorkloadConfig {
  const d = DEFAULT_KV_WORKLOAD;
  return {
    keys: numberOption(options, 'keys', d.keys, 1, 1000),
    thinkMs: numberOption(options, 'thinkMs', d.thinkMs, 0, 60_000),
    timeoutMs: numberOption(options, 'timeoutMs', d.timeoutMs, 1, 600_000),
    backoffMs: numberOption(options, 'backoffMs', d.backoffMs, 0, 60_000),
    readShare: numberOption(options, 'readShare', d.readShare, 0, 1),
    casShare: numberOption(options, 'casShare', d.casShare, 0, 1),
    maxOps: numberOption(options, 'maxOps', d.maxOps, 1, 10_000_000),
    stickyReaders: numberOption(options, 'stickyReaders', d.stickyReaders, 0, 1),
  };
}

export class KvWorkload implements Workload<KvRequest, KvReply> {
  private ctx: WorkloadContext<KvRequest> | null = null;
  private readonly clients: Client[] = [];
  private readonly history: HistoryEvent[] = [];
  /** Request id -> (client, seq) of the attempt it carried. */
  private readonly requests = new Map<number, { process: number; seq: number }>();
  private stopped = false;
  private invoked = 0;
  private readonly counts = { ok: 0, fail: 0, info: 0, retries: 0, timeouts: 0 };

  constructor(private readonly clientCount: number, private readonly config: KvWorkloadConfig) {
    assert(clientCount >= 1 && clientCount <= MAX_KV_CLIENTS, () => `kv workload of ${clientCount} clients (1..${MAX_KV_CLIENTS})`);
  }

  start(ctx: WorkloadContext<KvRequest>): void {
    this.ctx = ctx;
    for (let p = 0; p < this.clientCount; p++) {
      const target = ctx.rng.int(0, ctx.members.length - 1);
      const sticky = ctx.rng.float() < this.config.stickyReaders;
      const c: Client = { process: p, id: ClientId(`c${p}`), seq: 0, target, readTarget: sticky ? target : null, op: null, invokeValue: null, timerGen: 0, timer: 'think' };
      this.clients.push(c);
      this.think(c);
    }
  }

  onTimer(tag: number): void {
    const c = this.clients[tag % MAX_KV_CLIENTS];
    if (c === undefined || Math.floor(tag / MAX_KV_CLIENTS) !== c.timerGen) return;
    if (c.timer === 'think') {
      this.invoke(c);
      return;
    }
    if (c.timer === 'timeout') {
      // No answer in time: the node may be down, partitioned or no longer leading.
      this.counts.timeouts++;
      this.moveOn(c, null);
    }
    this.attempt(c);
  }

  onReply(requestId: number, _from: NodeId, reply: KvReply): void {
    const r = this.requests.get(requestId);
    if (r === undefined) return;
    this.requests.delete(requestId);
    const c = this.clients[r.process] as Client;
    // A reply to an earlier try of the same (client, seq) is as good as any.
    if (c.op === null || r.seq !== c.seq) return;
    if (reply.ok) {
      this.complete(c, 'ok', 'value' in reply ? reply.value : null);
      return;
    }
    switch (reply.error) {
      case 'cas-mismatch':
        this.complete(c, 'fail', null);
        return;
      case 'not-leader':
        this.moveOn(c, reply.leader);
        this.retryLater(c);
        return;
      case 'unknown':
      case 'busy':
        this.retryLater(c);
        return;
      case 'rejected':
        // Refused by the state machine's rules: no effect, unless an earlier try may have had one.
        this.complete(c, reply.code === 'stale-sequence' ? 'info' : 'fail', null);
        return;
    }
  }

  completed(): number {
    return this.counts.ok + this.counts.fail;
  }

  stop(): void {
    this.stopped = true;
  }

  finish(budget: CheckBudget): readonly WorkloadVerdict[] {
    for (const c of this.clients) if (c.op !== null) this.complete(c, 'info', null);
    let verdict: ReturnType<typeof checkLinearizability>;
    try {
      verdict = checkLinearizability(this.history, { maxSteps: budget.maxSteps });
    } catch (err) {
      // A failure of the checker itself is no verdict on the protocol: reported as undecided, never hidden.
      return [{ result: 'unknown', check: 'linearizability', reason: `the checker failed: ${err instanceof Error ? err.message : String(err)}` }];
    }
    switch (verdict.result) {
      case 'ok':
        return [{ result: 'ok', check: 'linearizability', detail: `${this.history.length / 2} operations` }];
      case 'illegal':
        return [{ result: 'violation', check: 'linearizability', message: `key ${verdict.key}: ${verdict.explanation}` }];
      case 'unknown':
        return [{ result: 'unknown', check: 'linearizability', reason: verdict.reason }];
    }
  }

  stats(): Readonly<Record<string, number>> {
    return { ...this.counts, invoked: this.invoked };
  }

  /** The recorded history so far (for tests and the playground). */
  events(): History {
    return this.history;
  }

  private context(): WorkloadContext<KvRequest> {
    assert(this.ctx !== null, 'kv workload used before start');
    return this.ctx;
  }

  private setTimer(c: Client, kind: Client['timer'], delayMs: number): void {
    c.timerGen++;
    c.timer = kind;
    this.context().setTimer(delayMs, c.timerGen * MAX_KV_CLIENTS + c.process);
  }

  private think(c: Client): void {
    if (this.stopped || this.invoked >= this.config.maxOps) return;
    this.setTimer(c, 'think', this.context().rng.exponential(this.config.thinkMs));
  }

  private invoke(c: Client): void {
    if (this.stopped || this.invoked >= this.config.maxOps) return;
    const ctx = this.context();
    const rng = ctx.rng;
    const key = `k${rng.int(0, this.config.keys - 1)}`;
    c.seq++;
    this.invoked++;
    const fresh = c.process * 1_000_000 + c.seq;
    const roll = rng.float();
    let f: OpFunction;
    if (roll < this.config.readShare) {
      f = 'read';
      c.op = { f, key };
      c.invokeValue = null;
    } else if (roll < this.config.readShare + this.config.casShare) {
      f = 'cas';
      const expected = this.recentValue(key);
      c.op = { f, key, expected, value: fresh };
      c.invokeValue = [expected, fresh];
    } else {
      f = 'write';
      c.op = { f, key, value: fresh };
      c.invokeValue = fresh;
    }
    this.history.push({ process: c.process, type: 'invoke', f, key, value: c.invokeValue, time: Math.round(ctx.now() * 1e6) });
    ctx.invoke(c.process, c.op);
    this.attempt(c);
  }

  /** A value some client wrote to `key` recently (or null), so that cas succeeds often enough. */
  private recentValue(key: string): Value {
    for (let i = this.history.length - 1, seen = 0; i >= 0 && seen < 40; i--, seen++) {
      const e = this.history[i] as HistoryEvent;
      if (e.key !== key || e.type !== 'ok') continue;
      if (e.f === 'read' || e.f === 'write') return e.value as Value;
      if (e.f === 'cas') return (e.value as readonly [Value, Value])[1];
    }
    return null;
  }

  private isStickyRead(c: Client): boolean {
    return c.readTarget !== null && c.op !== null && c.op.f === 'read';
  }

  /** After a timeout or a 'not-leader' answer: follow the hint or try the next node (a sticky reader moves its read target only). */
  private moveOn(c: Client, hint: NodeId | null): void {
    const n = this.context().members.length;
    if (this.isStickyRead(c)) c.readTarget = hint ?? ((c.readTarget as number) + 1) % n;
    else c.target = hint ?? (c.target + 1) % n;
  }

  private attempt(c: Client): void {
    const ctx = this.context();
    const op = c.op as KvOp;
    const to = this.isStickyRead(c) ? (c.readTarget as number) : c.target;
    const id = ctx.send(ctx.members[to] as NodeId, { client: c.id, seq: c.seq, op });
    this.requests.set(id, { process: c.process, seq: c.seq });
    this.setTimer(c, 'timeout', this.config.timeoutMs);
  }

  private retryLater(c: Client): void {
    this.counts.retries++;
    this.setTimer(c, 'backoff', this.config.backoffMs);
  }

  private complete(c: Client, type: 'ok' | 'fail' | 'info', readValue: Value): void {
    const op = c.op as KvOp;
    const value = type === 'ok' && op.f === 'read' ? readValue : c.invokeValue;
    this.history.push({ process: c.process, type, f: op.f as OpFunction, key: (op as { key: string }).key, value, time: Math.round(this.context().now() * 1e6) });
    this.context().complete(c.process, type, value);
    this.counts[type]++;
    c.op = null;
    c.timerGen++;
    this.think(c);
  }
}

export const kvWorkload: WorkloadFactory<KvRequest, KvReply> = (o: WorkloadOptions) => new KvWorkload(o.clients, kvConfig(o.options));
