// Shared helpers for the commit-protocol tests.
import { Cluster, type ClusterConfig, type NodeFactory } from '../../src/commit/cluster.js';
import { commitInvariants } from '../../src/commit/invariants.js';
import type { Message } from '../../src/core/replicated-log.js';

export function cluster<M extends Message, W>(factory: NodeFactory<M, W>, cfg: Partial<ClusterConfig> & { size: number }): Cluster<M, W> {
  return new Cluster(factory, { invariants: commitInvariants(), ...cfg, options: { noProbability: 0, ...(cfg.options ?? {}) } });
}

/** Participants' outcomes for tx as a sorted list of "id:outcome". */
export function outcomeList(c: Cluster<Message, unknown>, tx: string): string[] {
  return [...c.outcomes(tx)].map(([id, o]) => `${id}:${o ?? 'none'}`);
}

export function countByType(c: Cluster<Message, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of c.sent) out[s.type] = (out[s.type] ?? 0) + 1;
  return out;
}
