// The protocols the simulator can run, by name. Each protocol issue adds its
// spec here.
import type { ProtocolSpec } from './protocol.js';
import { registerSpec } from './reference/spec.js';
import { raftSpec } from '../raft/sim.js';
import { paxosSpec } from '../paxos/spec.js';
import { multiPaxosSpec } from '../paxos/multi/spec.js';
import { twoPhaseCommit } from '../commit/two-phase/spec.js';
import { threePhaseCommit } from '../commit/three-phase/spec.js';
import { paxosCommit } from '../commit/paxos-commit/spec.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = ProtocolSpec<any, any, any, any>;

const specs: AnySpec[] = [registerSpec, raftSpec, paxosSpec, multiPaxosSpec, twoPhaseCommit, threePhaseCommit, paxosCommit];

export function protocolNames(): string[] {
  return specs.map((s) => s.name);
}

export function findProtocol(name: string): AnySpec | undefined {
  return specs.find((s) => s.name === name);
}

export function allProtocols(): readonly AnySpec[] {
  return specs;
}
