// Checks a run's protocol options before any run starts: the protocol
// validates its options when it creates a node, so creating one node of a
// throw-away cluster turns an ill-typed or out-of-range value into a usage
// error (exit 2) instead of an 'exception' violation of every seed.

import { NodeId } from '../core/ids.js';
import { Prng } from '../core/prng.js';
import { OptionError } from './options.js';
import type { AnySpec } from './engine.js';

export function checkProtocolOptions(spec: AnySpec, nodes: number, mutants: ReadonlySet<string>, options: Readonly<Record<string, unknown>>): void {
  if (Object.keys(options).length === 0) return;
  const members = [...Array(nodes).keys()].map((i) => NodeId(i));
  try {
    spec.create({ id: NodeId(0), members, rng: new Prng(0), mutants, options });
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new OptionError(`bad --option for protocol '${spec.name}': ${err.message}`);
    throw err;
  }
}
