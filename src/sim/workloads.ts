// Resolves a protocol's workload: the built-in ones by name, or its own factory.

import { kvWorkload } from './kv-workload.js';
import type { WorkloadFactory, WorkloadKind } from './workload.js';

const BUILT_IN: Readonly<Partial<Record<WorkloadKind, WorkloadFactory<unknown, unknown>>>> = {
  kv: kvWorkload as WorkloadFactory<unknown, unknown>,
};

export function resolveWorkload(protocol: string, workload: WorkloadKind | WorkloadFactory<unknown, unknown>): WorkloadFactory<unknown, unknown> {
  if (typeof workload === 'function') return workload;
  const factory = BUILT_IN[workload];
  if (factory === undefined) {
    throw new Error(`protocol '${protocol}' names the workload '${workload}', which is not built in (built in: ${Object.keys(BUILT_IN).join(', ')}); its spec must supply a WorkloadFactory (src/sim/workload.ts)`);
  }
  return factory;
}
