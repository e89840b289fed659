// A lean effects builder for the reference protocol: the same four fields in
// the same order as core's EffectsBuilder (src/core/effects.ts), but a field
// stays a shared empty array until something is put in it. Most batches of
// this protocol carry one or two fields, so this spares the simulator's hot
// path several allocations per batch.

import type { Effects, Envelope } from '../../core/effects.js';
import type { NodeId } from '../../core/ids.js';

const NONE: readonly never[] = Object.freeze([]);

export class LeanEffects<W, M, O> {
  private sendNow: Envelope<M>[] | null = null;
  private persist: W[] | null = null;
  private sendAfterPersist: Envelope<M>[] | null = null;
  private outputs: O[] | null = null;

  /** A message whose meaning depends on nothing not yet durable. */
  sendImmediately(to: NodeId, msg: M): void {
    (this.sendNow ??= []).push({ to, msg });
  }

  /** A message that may only leave once every write so far is durable. */
  send(to: NodeId, msg: M): void {
    (this.sendAfterPersist ??= []).push({ to, msg });
  }

  write(w: W): void {
    (this.persist ??= []).push(w);
  }

  output(o: O): void {
    (this.outputs ??= []).push(o);
  }

  get empty(): boolean {
    return this.sendNow === null && this.persist === null && this.sendAfterPersist === null && this.outputs === null;
  }

  /** Hands over everything accumulated and starts a new batch. */
  take(): Effects<W, M, O> {
    const fx: Effects<W, M, O> = {
      sendNow: this.sendNow ?? NONE,
      persist: this.persist ?? NONE,
      sendAfterPersist: this.sendAfterPersist ?? NONE,
      outputs: this.outputs ?? NONE,
    };
    this.sendNow = null;
    this.persist = null;
    this.sendAfterPersist = null;
    this.outputs = null;
    return fx;
  }
}
