// Configurations as commands in the log (Lamport, "Paxos Made Simple" §3;
// "Reconfiguring a State Machine", alpha): a configuration chosen in slot k
// governs slots from k + alpha on. A leader keeps at most alpha slots in flight
// beyond what it knows chosen, so the configuration of every slot it proposes
// is already decided.

import type { NodeId, Slot } from '../../core/ids.js';
import { Slot as toSlot } from '../../core/ids.js';
import { assert } from '../../core/assert.js';
import { makeQuorums, type QuorumOptions, type Quorums } from '../quorums.js';
import type { ConfigEpoch } from './types.js';

export class ConfigHistory {
  private epochs: ConfigEpoch[];

  constructor(
    epochs: readonly ConfigEpoch[],
    readonly alpha: number,
    private readonly quorumOptions: QuorumOptions,
    private readonly initialSize: number,
  ) {
    assert(epochs.length > 0, 'a configuration history needs an epoch');
    this.epochs = [...epochs].sort((a, b) => a.from - b.from);
  }

  get all(): readonly ConfigEpoch[] {
    return this.epochs;
  }

  /** The configuration governing `slot`. */
  at(slot: Slot): ConfigEpoch {
    let found = this.epochs[0] as ConfigEpoch;
    for (const e of this.epochs) if (e.from <= slot) found = e;
    return found;
  }

  /** Distinct configurations governing slots in [from, to]. */
  between(from: Slot, to: Slot): ConfigEpoch[] {
    const first = this.at(from);
    return [first, ...this.epochs.filter((e) => e.from > from && e.from <= to)];
  }

  /** A configuration chosen in `slot` takes effect at slot + alpha. */
  chosen(slot: Slot, members: readonly NodeId[]): void {
    const from = toSlot(slot + this.alpha);
    if (this.epochs.some((e) => e.from === from)) return;
    this.epochs.push({ from, members: [...members] });
    this.epochs.sort((a, b) => a.from - b.from);
  }

  /** Quorum sizes for a configuration (flexible sizes apply to configurations of the initial size). */
  quorums(epoch: ConfigEpoch): Quorums {
    const n = epoch.members.length;
    return makeQuorums(n, n === this.initialSize ? this.quorumOptions : {});
  }

  /** Forgets epochs superseded before `slot` (they govern no slot still held). */
  compact(slot: Slot): void {
    const keep = this.at(slot);
    this.epochs = this.epochs.filter((e) => e.from >= keep.from);
  }

  replace(epochs: readonly ConfigEpoch[]): void {
    assert(epochs.length > 0, 'an empty configuration history');
    this.epochs = [...epochs].sort((a, b) => a.from - b.from);
  }
}
