// One simulated process hosting a protocol node. It executes the node's effects
// batches in the one correct order (src/core/effects.ts): sendNow at once, then
// the persist on the simulated disk, and only after its fsync completes
// sendAfterPersist, the outputs, and advance(). While a persist is in flight
// (or the process is paused) inputs queue up in arrival order, bounded.

import { assert } from '../core/assert.js';
import type { Effects } from '../core/effects.js';
import type { NodeId } from '../core/ids.js';
import type { Message } from '../core/replicated-log.js';
import type { Disk } from './disk.js';
import type { SimNode, SimOutput } from './protocol.js';

export type ProcessStatus = 'up' | 'down' | 'paused';

/** What the host asks of the simulator. */
export interface HostEnv {
  send(from: number, to: NodeId, msg: Message): void;
  output(from: number, o: SimOutput<unknown>): void;
  /** The persist of `node` will be synced after `delayMs`. */
  scheduleSync(node: number, incarnation: number, delayMs: number, records: number): void;
}

const INPUT_TICK = 0;
const INPUT_MESSAGE = 1;
const INPUT_REQUEST = 2;
const INPUT_OPERATOR = 3;

interface Input {
  kind: number;
  /** Ticks: how many (coalesced); messages: the sender; requests: the request id. */
  n: number;
  payload: unknown;
}

/** Limit on effects batches one input may produce back to back (a runaway core). */
const MAX_BATCHES_PER_INPUT = 10_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNode = SimNode<any, any, any, any>;

export class NodeHost {
  status: ProcessStatus = 'up';
  incarnation = 0;
  node: AnyNode | null = null;
  readonly disk: Disk<unknown>;
  private queue: Input[] = [];
  private pendingFx: Effects<unknown, Message, SimOutput<unknown>> | null = null;
  /** The fsync completed while the process was paused; its continuation waits for resume. */
  private syncedWhilePaused = false;
  /** Inputs dropped because the queue was full (reported by the simulator). */
  droppedInputs = 0;

  constructor(readonly index: number, disk: Disk<unknown>, private readonly env: HostEnv, private readonly queueLimit: number) {
    this.disk = disk;
  }

  get busy(): boolean {
    return this.pendingFx !== null;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Replaces the node (start or restart) and runs whatever it asks at once. */
  start(node: AnyNode): void {
    this.node = node;
    this.status = 'up';
    this.drain();
  }

  tick(): void {
    if (this.canRun()) {
      (this.node as AnyNode).tick();
      this.drain();
      return;
    }
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.kind === INPUT_TICK) last.n++;
    else this.queue.push({ kind: INPUT_TICK, n: 1, payload: null });
  }

  /** Returns false when the input queue is full and the message was dropped. */
  message(from: number, msg: Message): boolean {
    if (this.canRun()) {
      (this.node as AnyNode).step(from as NodeId, msg);
      this.drain();
      return true;
    }
    return this.enqueue(INPUT_MESSAGE, from, msg);
  }

  request(requestId: number, req: unknown): boolean {
    if (this.canRun()) {
      (this.node as AnyNode).request(requestId, req);
      this.drain();
      return true;
    }
    return this.enqueue(INPUT_REQUEST, requestId, req);
  }

  /** An administrator's call on the node (src/sim/operator.ts). Returns false when the input queue is full and it was dropped. */
  operate(call: (node: AnyNode) => void): boolean {
    if (this.canRun()) {
      const node = this.node as AnyNode;
      call(node);
      this.drain();
      return true;
    }
    return this.enqueue(INPUT_OPERATOR, 0, call);
  }

  /** The disk finished the in-flight persist. */
  synced(): void {
    this.disk.sync();
    if (this.status === 'paused') {
      this.syncedWhilePaused = true;
      return;
    }
    this.continueAfterSync();
  }

  pause(): void {
    assert(this.status === 'up', 'pause of a process that is not up');
    this.status = 'paused';
  }

  resume(): void {
    assert(this.status === 'paused', 'resume of a process that is not paused');
    this.status = 'up';
    if (this.syncedWhilePaused) {
      this.syncedWhilePaused = false;
      this.continueAfterSync();
    } else {
      this.runQueue();
    }
  }

  /** Power loss: volatile state, queued inputs and unsynced writes are gone. */
  crash(torn: boolean): { lost: number; tornKept: number } {
    assert(this.status !== 'down', 'crash of a process that is down');
    this.status = 'down';
    this.incarnation++;
    this.node = null;
    this.queue = [];
    this.pendingFx = null;
    this.syncedWhilePaused = false;
    return this.disk.crash(torn);
  }

  private canRun(): boolean {
    return this.status === 'up' && this.pendingFx === null && this.queue.length === 0;
  }

  private enqueue(kind: number, n: number, payload: unknown): boolean {
    if (this.queue.length >= this.queueLimit) {
      this.droppedInputs++;
      return false;
    }
    this.queue.push({ kind, n, payload });
    return true;
  }

  private continueAfterSync(): void {
    const fx = this.pendingFx;
    assert(fx !== null, 'sync without pending effects');
    this.pendingFx = null;
    this.finish(fx);
    this.drain();
    this.runQueue();
  }

  /** Runs queued inputs in arrival order until the node becomes busy again. */
  private runQueue(): void {
    while (this.status === 'up' && this.pendingFx === null && this.queue.length > 0) {
      const input = this.queue.shift() as Input;
      const node = this.node as AnyNode;
      if (input.kind === INPUT_TICK) {
        while (input.n > 0 && this.pendingFx === null && this.status === 'up') {
          input.n--;
          node.tick();
          this.drain();
        }
        if (input.n > 0) this.queue.unshift(input);
        continue;
      }
      if (input.kind === INPUT_MESSAGE) node.step(input.n as NodeId, input.payload as Message);
      else if (input.kind === INPUT_OPERATOR) (input.payload as (node: AnyNode) => void)(node);
      else node.request(input.n, input.payload);
      this.drain();
    }
  }

  /** Executes ready() batches until the node has none or waits on its disk. */
  private drain(): void {
    const node = this.node as AnyNode;
    for (let k = 0; k < MAX_BATCHES_PER_INPUT; k++) {
      const fx = node.ready() as Effects<unknown, Message, SimOutput<unknown>> | null;
      if (fx === null) return;
      for (const e of fx.sendNow) this.env.send(this.index, e.to, e.msg);
      if (fx.persist.length > 0) {
        this.pendingFx = fx;
        const delay = this.disk.begin(fx.persist);
        this.env.scheduleSync(this.index, this.incarnation, delay, fx.persist.length);
        return;
      }
      this.finish(fx);
    }
    throw new Error(`node ${this.index} produced ${MAX_BATCHES_PER_INPUT} effects batches for one input`);
  }

  private finish(fx: Effects<unknown, Message, SimOutput<unknown>>): void {
    for (const e of fx.sendAfterPersist) this.env.send(this.index, e.to, e.msg);
    for (const o of fx.outputs) this.env.output(this.index, o);
    (this.node as AnyNode).advance();
  }
}
