// Building a simulator ProtocolSpec for "key-value store on a replicated log":
// a protocol helper supplies how to create and recover its log; this file
// wraps each log in a KvNode and adds the state machine's own invariant.

import type { Message } from '../core/replicated-log.js';
import type { Invariant, NodeContext, NodeView, ProtocolSpec } from '../sim/protocol.js';
import type { KvReply, KvRequest } from './api.js';
import { KV_MUTANTS, KvNode } from './adapter.js';
import type { KvLog, KvNodeOptions } from './adapter.js';

export interface KvSpecParts<W, M extends Message> {
  readonly name: string;
  readonly description: string;
  readonly mutants: Readonly<Record<string, string>>;
  readonly tickMs: number;
  /** A fresh log with empty durable state. */
  createLog(ctx: NodeContext): KvLog<W, M>;
  /** A log restarted from the writes that survived (it re-delivers its snapshot and committed entries). */
  recoverLog(ctx: NodeContext, durable: readonly W[]): KvLog<W, M>;
  /** The protocol's own invariants (election safety, log matching...). */
  invariants(): readonly Invariant[];
  /** Adapter options; `snapshotEveryEntries` may also come from ctx.options.snapshotEveryEntries. */
  readonly node?: (ctx: NodeContext, log: KvLog<W, M>) => KvNodeOptions;
}

function nodeOptions<W, M extends Message>(parts: KvSpecParts<W, M>, ctx: NodeContext, log: KvLog<W, M>): KvNodeOptions {
  const given = { mutants: ctx.mutants, ...parts.node?.(ctx, log) };
  const every = ctx.options['snapshotEveryEntries'];
  if (given.snapshotEveryEntries === undefined && every !== undefined) {
    if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 0) {
      throw new RangeError(`option snapshotEveryEntries must be a non-negative integer, got ${String(every)}`);
    }
    return { ...given, snapshotEveryEntries: every };
  }
  return given;
}

/** The context the log sees: without the KV layer's mutants (a protocol may refuse names it does not know). */
function logContext(ctx: NodeContext): NodeContext {
  const mutants = new Set([...ctx.mutants].filter((m) => !Object.hasOwn(KV_MUTANTS, m)));
  return mutants.size === ctx.mutants.size ? ctx : { ...ctx, mutants };
}

export function kvProtocolSpec<W, M extends Message>(parts: KvSpecParts<W, M>): ProtocolSpec<M, W, KvRequest, KvReply> {
  return {
    name: parts.name,
    description: parts.description,
    workload: 'kv',
    // The protocol's own mutants, and the KV layer's (ctx.mutants reaches both).
    mutants: { ...parts.mutants, ...KV_MUTANTS },
    tickMs: parts.tickMs,
    create(ctx) {
      const log = parts.createLog(logContext(ctx));
      return new KvNode(log, nodeOptions(parts, ctx, log));
    },
    recover(ctx, durable) {
      const log = parts.recoverLog(logContext(ctx), durable);
      return KvNode.recover(log, nodeOptions(parts, ctx, log));
    },
    invariants: () => [...parts.invariants(), stateMachineSafety()],
  };
}

/** How many (index, chain) pairs the invariant remembers; older ones are forgotten first. */
const SAFETY_MEMORY = 200_000;

/**
 * Raft §5.4.3 State Machine Safety: no two nodes ever apply different commands
 * at the same index. Each KvNode view shows the hash chain at its recent
 * applied indexes; equal chains at i mean equal commands at 1..i. The invariant
 * remembers the first chain seen at each index across the whole run (crashed
 * and restarted nodes included) and reports any node that disagrees.
 */
export function stateMachineSafety(): Invariant<NodeView> {
  const seen = new Map<number, { chain: string; node: unknown }>();
  return {
    name: 'state-machine-safety',
    check(views) {
      for (const v of views) {
        const chains = v['appliedChain'];
        if (typeof chains !== 'object' || chains === null) continue;
        for (const [i, chain] of Object.entries(chains as Record<string, string>)) {
          const index = Number(i);
          const first = seen.get(index);
          if (first === undefined) {
            seen.set(index, { chain, node: v.id });
            if (seen.size > SAFETY_MEMORY) seen.delete(seen.keys().next().value as number);
          } else if (first.chain !== chain) {
            return `node ${v.id} applied a different command history through index ${index} than node ${String(first.node)}`;
          }
        }
      }
      return null;
    },
  };
}
