// The effects batch: what a pure core asks its host to do. The field order is
// the execution order, and a host runs a batch through `executeEffects` (or the
// simulator's equivalent) so that "persist, then send" cannot be got wrong:
//
//   1. sendNow          - messages that depend on no write in this batch
//                         (Raft thesis §10.2.1: a leader may send AppendEntries
//                         in parallel with its own disk write);
//   2. persist          - durable writes, in order; ALL must be durable (synced)
//                         before anything in steps 3 and 4 happens;
//   3. sendAfterPersist - messages whose promise rests on those writes (a vote,
//                         a promise, an AppendEntries acknowledgement);
//   4. outputs          - results for the host: committed entries, replies,
//                         protocol events for the trace.
// Then the host calls the core's `advance()`.

import type { NodeId } from './ids.js';

export interface Envelope<M> {
  readonly to: NodeId;
  readonly msg: M;
}

export interface Effects<W, M, O> {
  readonly sendNow: readonly Envelope<M>[];
  readonly persist: readonly W[];
  readonly sendAfterPersist: readonly Envelope<M>[];
  readonly outputs: readonly O[];
}

export function isEmpty(fx: Effects<unknown, unknown, unknown>): boolean {
  return fx.sendNow.length === 0 && fx.persist.length === 0 && fx.sendAfterPersist.length === 0 && fx.outputs.length === 0;
}

/** Accumulates effects inside a core between two `ready()` calls. */
export class EffectsBuilder<W, M, O> {
  private sendNow: Envelope<M>[] = [];
  private persist: W[] = [];
  private sendAfterPersist: Envelope<M>[] = [];
  private outputs: O[] = [];

  /** A message whose meaning depends on nothing not yet durable. */
  sendImmediately(to: NodeId, msg: M): void {
    this.sendNow.push({ to, msg });
  }

  /** A message that may only leave once every write so far is durable. */
  send(to: NodeId, msg: M): void {
    this.sendAfterPersist.push({ to, msg });
  }

  write(w: W): void {
    this.persist.push(w);
  }

  output(o: O): void {
    this.outputs.push(o);
  }

  get empty(): boolean {
    return this.sendNow.length === 0 && this.persist.length === 0 && this.sendAfterPersist.length === 0 && this.outputs.length === 0;
  }

  /** Hands over everything accumulated and starts a new batch. */
  take(): Effects<W, M, O> {
    const fx: Effects<W, M, O> = {
      sendNow: this.sendNow,
      persist: this.persist,
      sendAfterPersist: this.sendAfterPersist,
      outputs: this.outputs,
    };
    this.sendNow = [];
    this.persist = [];
    this.sendAfterPersist = [];
    this.outputs = [];
    return fx;
  }
}

/** The host side of an effects batch. `persist` returns once the writes are durable. */
export interface EffectsHost<W, M, O> {
  send(envelope: Envelope<M>): void;
  persist(writes: readonly W[]): void | Promise<void>;
  output(o: O): void;
}

/** Executes a batch in the one correct order. */
export async function executeEffects<W, M, O>(fx: Effects<W, M, O>, host: EffectsHost<W, M, O>): Promise<void> {
  for (const e of fx.sendNow) host.send(e);
  if (fx.persist.length > 0) await host.persist(fx.persist);
  for (const e of fx.sendAfterPersist) host.send(e);
  for (const o of fx.outputs) host.output(o);
}
