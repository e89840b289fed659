// The simulator's event queue: a binary min-heap ordered by (time, sequence
// number). The sequence number breaks ties in insertion order, so two events at
// the same virtual instant always run in the same order: one seed, one run.
//
// Events are plain objects of one shape (monomorphic for the JIT); finished
// ones are recycled through a free list to keep the hot path allocation-free.

import { assert } from '../core/assert.js';

export const EventKind = {
  Deliver: 1,
  Tick: 2,
  Synced: 3,
  ClientDeliver: 4,
  ClientReply: 5,
  ClientTimer: 6,
  Nemesis: 7,
  Callback: 8,
  /** A delivery cancelled by hand (the playground dropped the message). */
  Cancelled: 9,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export class SimEvent {
  time = 0;
  seq = 0;
  kind: EventKind = EventKind.Callback;
  /** The node concerned (or -1). */
  node = -1;
  /** A number whose meaning depends on the kind: message id, incarnation, request id, timer tag. */
  a = 0;
  /** A second number (the sender of a message). */
  b = 0;
  /** A third number (when a message was sent). */
  c = 0;
  /** Anything else (a message, a request, a callback). */
  payload: unknown = null;
}

/** Limit on pending events: a run that schedules more has a runaway loop. */
export const MAX_PENDING_EVENTS = 4_000_000;

export class EventQueue {
  private heap: SimEvent[] = [];
  private free: SimEvent[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** A fresh (or recycled) event; fill it in and `push` it. */
  alloc(time: number, kind: EventKind, node: number, a: number, b: number, payload: unknown): SimEvent {
    const e = this.free.pop() ?? new SimEvent();
    e.time = time;
    e.seq = this.nextSeq++;
    e.kind = kind;
    e.node = node;
    e.a = a;
    e.b = b;
    e.payload = payload;
    return e;
  }

  push(e: SimEvent): void {
    assert(this.heap.length < MAX_PENDING_EVENTS, () => `more than ${MAX_PENDING_EVENTS} pending simulator events`);
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SimEvent;
      if (!before(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as SimEvent;
    if (h.length > 0) this.siftDown(last);
    return top;
  }

  /** Returns a popped event to the free list once the simulator is done with it. */
  release(e: SimEvent): void {
    e.payload = null;
    if (this.free.length < 1024) this.free.push(e);
  }

  /** Every pending event, in no particular order (for inspection). */
  pending(): readonly SimEvent[] {
    return this.heap;
  }

  private siftDown(e: SimEvent): void {
    const h = this.heap;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(h[r] as SimEvent, h[l] as SimEvent)) c = r;
      const child = h[c] as SimEvent;
      if (!before(child, e)) break;
      h[i] = child;
      i = c;
    }
    h[i] = e;
  }
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
