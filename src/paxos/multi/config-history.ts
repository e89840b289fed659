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
    if (this.epochs.length === 1) return this.epochs[0] as ConfigEpoch;
    let found = this.epochs[0] as ConfigEpoch;
    for (const e of this.epochs) if (e.from <= slot) found = e;
    return found;
  }

  /** Distinct configurations governing slots in [from, to]. */
  between(from: Slot, to: Slot): readonly ConfigEpoch[] {
    if (this.epochs.length === 1) return this.epochs;
    const first = this.at(from);
    return [first, ...this.epochs.filter((e) => e.from > from && e.from <= to)];
  }

  /** Every member of the configurations governing [from, to], once each. */
  membersBetween(from: Slot, to: Slot): readonly NodeId[] {
    if (this.epochs.length === 1) return (this.epochs[0] as ConfigEpoch).members;
    return [...new Set(this.between(from, to).flatMap((e) => e.members))];
  }

  /** A configuration chosen in `slot` takes effect at slot + alpha. */
  chosen(slot: Slot, members: readonly NodeId[]): void {
    const from = toSlot(slot + this.alpha);
    if (this.epochs.some((e) => e.from === from)) return;
    this.epochs.push({ from, members: [...members] });
    this.epochs.sort((a, b) => a.from - b.from);
  }

  private readonly quorumCache = new Map<number, Quorums>();

  /** Quorum sizes for a configuration (flexible sizes apply to configurations of the initial size). */
  quorums(epoch: ConfigEpoch): Quorums {
    const n = epoch.members.length;
    let q = this.quorumCache.get(n);
    if (q === undefined) {
      q = makeQuorums(n, n === this.initialSize ? this.quorumOptions : {});
      this.quorumCache.set(n, q);
    }
    return q;
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
