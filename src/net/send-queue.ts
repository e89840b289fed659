// A bounded FIFO of encoded frames for one peer. When it is full the OLDEST
// unsent frame is dropped and counted: for consensus the newest message (the
// latest term, the latest commit index) is the one worth sending, and the
// protocol retransmits whatever it still needs.

import { assert } from '../core/assert.js';

export class SendQueue {
  private items: (Buffer | undefined)[] = [];
  private head = 0;
  private bytes_ = 0;
  dropped = 0;

  constructor(readonly maxMessages: number) {
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) throw new RangeError(`maxQueuedMessages must be at least 1, got ${maxMessages}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytes_;
  }

  push(frame: Buffer): void {
    if (this.length >= this.maxMessages) {
      this.shift();
      this.dropped++;
    }
    this.items.push(frame);
    this.bytes_ += frame.length;
    // Invariant: the queue never holds more than its bound.
    assert(this.length <= this.maxMessages, 'send queue over its bound');
  }

  /** Removes frames from the front up to about `maxBytes` (always at least one). */
  takeBatch(maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let size = 0;
    while (this.length > 0) {
      const next = this.items[this.head]!;
      if (out.length > 0 && size + next.length > maxBytes) break;
      out.push(this.shift());
      size += next.length;
    }
    return out;
  }

  /** Drops everything still queued (on stop); returns how many. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    this.bytes_ = 0;
    return n;
  }

  private shift(): Buffer {
    const f = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.bytes_ -= f.length;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }
}
