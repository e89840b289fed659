// Small test protocols that exercise the simulator's machinery directly.

import { EffectsBuilder, type Effects } from '../../src/core/effects.js';
import type { NodeId } from '../../src/core/ids.js';
import type { KvReply, KvRequest } from '../../src/kv/api.js';
import type { NodeContext, NodeView, ProtocolSpec, SimNode, SimOutput } from '../../src/sim/protocol.js';

export type ProbeMessage = { readonly type: 'ping'; readonly n: number };
/** One durable record per request: its id and a batch position. */
export type ProbeWrite = { readonly requestId: number; readonly part: number };

/**
 * The probe: every request makes the node persist `parts` records in one batch,
 * then reply; every tick counts; every message is counted. It never replicates
 * anything, so it makes no progress a workload could see unless `answer` is set.
 */
export class ProbeNode implements SimNode<ProbeMessage, ProbeWrite, KvRequest, KvReply> {
  readonly id: NodeId;
  ticks = 0;
  received: number[] = [];
  requests: number[] = [];
  private readonly fx = new EffectsBuilder<ProbeWrite, ProbeMessage, SimOutput<KvReply>>();

  constructor(ctx: NodeContext, readonly recovered: readonly ProbeWrite[], private readonly parts: number, private readonly answer: boolean) {
    this.id = ctx.id;
  }

  tick(): void {
    this.ticks++;
  }

  step(_from: NodeId, msg: ProbeMessage): void {
    this.received.push(msg.n);
  }

  request(requestId: number, _req: KvRequest): void {
    this.requests.push(requestId);
    for (let p = 0; p < this.parts; p++) this.fx.write({ requestId, part: p });
    if (this.answer) this.fx.output({ type: 'reply', requestId, reply: { ok: false, error: 'not-leader', leader: null } });
  }

  /** Sends a ping to `to` on the next ready(). */
  ping(to: NodeId, n: number): void {
    this.fx.sendImmediately(to, { type: 'ping', n });
  }

  ready(): Effects<ProbeWrite, ProbeMessage, SimOutput<KvReply>> | null {
    return this.fx.empty ? null : this.fx.take();
  }

  advance(): void {}

  view(): NodeView {
    return { id: this.id, role: 'probe', ticks: this.ticks, received: this.received.length };
  }
}

export function probeSpec(opts: { parts?: number; answer?: boolean; name?: string; invariantAfterTicks?: number } = {}): ProtocolSpec<ProbeMessage, ProbeWrite, KvRequest, KvReply> {
  const parts = opts.parts ?? 1;
  const answer = opts.answer ?? false;
  return {
    name: opts.name ?? 'probe',
    description: 'test protocol: persists records per request, never makes progress',
    workload: 'kv',
    mutants: {},
    tickMs: 10,
    create: (ctx) => new ProbeNode(ctx, [], parts, answer),
    recover: (ctx, durable) => new ProbeNode(ctx, durable, parts, answer),
    invariants: () => {
      const limit = opts.invariantAfterTicks;
      if (limit === undefined) return [];
      return [{ name: 'tick-limit', check: (views) => (views.some((v) => (v['ticks'] as number) >= limit) ? `a node reached ${limit} ticks` : null) }];
    },
  };
}
