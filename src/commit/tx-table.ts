// Per-transaction state with a limit: a node that would keep more than
// `max` transactions refuses with a clear error instead of growing without
// bound or silently forgetting one (forgetting a prepared transaction breaks
// atomicity; see the `forget-prepared` mutant).

import type { Prng } from '../core/prng.js';
import type { NodeId, TxId } from '../core/ids.js';
import type { CommitOptions } from './options.js';
import type { Vote } from './types.js';

export class TxLimitError extends Error {
  override readonly name = 'TxLimitError';
}

export class TxTable<T> {
  private readonly map = new Map<TxId, T>();

  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {}

  get(tx: TxId): T | undefined {
    return this.map.get(tx);
  }

  has(tx: TxId): boolean {
    return this.map.has(tx);
  }

  set(tx: TxId, value: T): void {
    if (!this.map.has(tx) && this.map.size >= this.max) {
      throw new TxLimitError(`${this.what}: more than ${this.max} transactions (raise option maxTransactions)`);
    }
    this.map.set(tx, value);
  }

  entries(): IterableIterator<[TxId, T]> {
    return this.map.entries();
  }

  keys(): IterableIterator<TxId> {
    return this.map.keys();
  }

  values(): IterableIterator<T> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }
}

/** A participant's vote: 'no' for configured no-voters, else 'no' with the configured probability. */
export function chooseVote(rng: Prng, opts: CommitOptions, self: NodeId): Vote {
  if (opts.noVoters.has(self)) return 'no';
  return rng.chance(opts.noProbability) ? 'no' : 'yes';
}
