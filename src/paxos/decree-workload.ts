// The 'decree' workload for single-decree Paxos: every client proposes values
// (one request at a time, to a random node, retrying elsewhere on a timeout)
// and each answer carries the value chosen. At the end the workload checks
// what clients saw: one value, ever (agreement), and a value some client
// proposed (validity). After the decision every new request is answered at
// once, which is what the liveness phase counts.

import type { NodeId } from '../core/ids.js';
import type { CheckBudget, Workload, WorkloadContext, WorkloadFactory, WorkloadOptions, WorkloadVerdict } from '../sim/workload.js';
import type { DecreeReply, DecreeRequest } from './synod-node.js';

export interface DecreeWorkloadConfig {
  /** Mean think time between two proposals of one client, ms. */
  readonly thinkMs: number;
  /** How long a client waits for an answer before asking another node, ms. */
  readonly timeoutMs: number;
  /** Limit on recorded operations; once reached clients stop. */
  readonly maxOps: number;
}

export const DEFAULT_DECREE_WORKLOAD: DecreeWorkloadConfig = { thinkMs: 50, timeoutMs: 300, maxOps: 100_000 };

/** Clients are numbered 0..255 (a timer tag packs the client and a generation). */
export const MAX_DECREE_CLIENTS = 256;

function num(o: Readonly<Record<string, unknown>>, name: string, dflt: number, min: number, max: number): number {
  const v = o[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`decree workload option ${name} must be a number in [${min}, ${max}], got ${String(v)}`);
  return v;
}

interface Client {
  readonly process: number;
  /** The value of the proposal in progress, or null while thinking. */
  value: string | null;
  proposals: number;
  gen: number;
}

export class DecreeWorkload implements Workload<DecreeRequest, DecreeReply> {
  private ctx: WorkloadContext<DecreeRequest> | null = null;
  private readonly clients: Client[] = [];
  private readonly requests = new Map<number, number>();
  private readonly proposed = new Set<string>();
  /** Each distinct chosen value answered, with the first client that saw it. */
  private readonly answers = new Map<string, number>();
  private stopped = false;
  private ops = 0;
  private readonly counts = { ok: 0, overloaded: 0, timeouts: 0, pending: 0 };

  constructor(
    clients: number,
    private readonly config: DecreeWorkloadConfig,
  ) {
    if (!Number.isInteger(clients) || clients < 1 || clients > MAX_DECREE_CLIENTS) throw new RangeError(`decree workload: clients must be in [1, ${MAX_DECREE_CLIENTS}], got ${clients}`);
    for (let p = 0; p < clients; p++) this.clients.push({ process: p, value: null, proposals: 0, gen: 0 });
  }

  start(ctx: WorkloadContext<DecreeRequest>): void {
    this.ctx = ctx;
    // Every client proposes at time 0: proposers compete from the first moment.
    for (const c of this.clients) this.propose(c);
  }

  private get context(): WorkloadContext<DecreeRequest> {
    if (this.ctx === null) throw new Error('decree workload used before start()');
    return this.ctx;
  }

  private timer(c: Client, delayMs: number): void {
    c.gen++;
    this.context.setTimer(delayMs, c.gen * MAX_DECREE_CLIENTS + c.process);
  }

  private propose(c: Client): void {
    if (this.stopped || this.ops >= this.config.maxOps) return;
    this.ops++;
    c.proposals++;
    c.value = `v${c.process}.${c.proposals}`;
    this.proposed.add(c.value);
    this.context.invoke(c.process, { f: 'propose', value: c.value });
    this.send(c);
  }

  private send(c: Client): void {
    if (c.value === null) return;
    const node: NodeId = this.context.rng.pick(this.context.members);
    this.requests.set(this.context.send(node, { value: c.value }), c.process);
    this.timer(c, this.config.timeoutMs);
  }

  onReply(requestId: number, _from: NodeId, reply: DecreeReply): void {
    const p = this.requests.get(requestId);
    this.requests.delete(requestId);
    const c = p === undefined ? undefined : this.clients[p];
    if (c === undefined || c.value === null) return;
    if (!reply.ok) {
      this.counts.overloaded++;
      return;
    }
    if (!this.answers.has(reply.chosen)) this.answers.set(reply.chosen, c.process);
    this.counts.ok++;
    this.context.complete(c.process, 'ok', { chosen: reply.chosen });
    c.value = null;
    this.timer(c, Math.max(1, Math.round(this.context.rng.exponential(this.config.thinkMs))));
  }

  onTimer(tag: number): void {
    const c = this.clients[tag % MAX_DECREE_CLIENTS];
    if (c === undefined || Math.floor(tag / MAX_DECREE_CLIENTS) !== c.gen) return;
    if (c.value === null) return this.propose(c);
    this.counts.timeouts++;
    this.send(c);
  }

  completed(): number {
    return this.counts.ok;
  }

  stop(): void {
    this.stopped = true;
  }

  finish(_budget: CheckBudget): readonly WorkloadVerdict[] {
    this.counts.pending = this.clients.filter((c) => c.value !== null).length;
    const values = [...this.answers.keys()];
    const agreement: WorkloadVerdict =
      values.length <= 1
        ? { result: 'ok', check: 'decree-agreement', detail: values.length === 0 ? 'no answer' : `every answer was ${values[0]}` }
        : { result: 'violation', check: 'decree-agreement', message: `clients were told different chosen values: ${values.map((v) => `${v} (first to client ${this.answers.get(v)})`).join(', ')}` };
    const invalid = values.filter((v) => !this.proposed.has(v));
    const validity: WorkloadVerdict =
      invalid.length === 0
        ? { result: 'ok', check: 'decree-validity' }
        : { result: 'violation', check: 'decree-validity', message: `clients were told ${invalid.join(', ')}, which no client proposed` };
    return [agreement, validity];
  }

  stats(): Readonly<Record<string, number>> {
    return { ...this.counts, proposals: this.ops };
  }
}

export const decreeWorkload: WorkloadFactory<DecreeRequest, DecreeReply> = (o: WorkloadOptions) =>
  new DecreeWorkload(o.clients, {
    thinkMs: num(o.options, 'thinkMs', DEFAULT_DECREE_WORKLOAD.thinkMs, 0, 60_000),
    timeoutMs: num(o.options, 'timeoutMs', DEFAULT_DECREE_WORKLOAD.timeoutMs, 1, 600_000),
    maxOps: num(o.options, 'maxOps', DEFAULT_DECREE_WORKLOAD.maxOps, 1, 10_000_000),
  });
