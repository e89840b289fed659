// A leader's view of one follower's log (Raft §5.3 nextIndex/matchIndex), with
// the flow control of etcd-io/raft: 'probe' sends one AppendEntries at a time
// until the follower's position is found; 'replicate' pipelines AppendEntries
// within a window of messages and bytes; 'snapshot' waits for InstallSnapshot.

import { assert } from '../core/assert.js';
import { LogIndex } from '../core/ids.js';

/** A ring of in-flight AppendEntries: (last index, bytes) of each, oldest first. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  bytes = 0;

  constructor(
    readonly maxMsgs: number,
    readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.lastIndexes.length - this.head;
  }

  get full(): boolean {
    return this.count >= this.maxMsgs || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  add(lastIndex: number, bytes: number): void {
    // Invariant: in-flight messages are sent in index order and the window is respected.
    assert(this.count === 0 || lastIndex > (this.lastIndexes[this.lastIndexes.length - 1] as number), 'inflight out of order');
    assert(!this.full, 'inflight window overflow');
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** The follower acknowledged everything through `index`. */
  freeTo(index: number): void {
    while (this.head < this.lastIndexes.length && (this.lastIndexes[this.head] as number) <= index) {
      this.bytes -= this.sizes[this.head] as number;
      this.head++;
    }
    if (this.head > 1024 || this.head === this.lastIndexes.length) {
      this.lastIndexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  freeFirst(): void {
    if (this.count > 0) this.freeTo(this.lastIndexes[this.head] as number);
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytes = 0;
  }
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  state: ProgressState = 'probe';
  match = LogIndex(0);
  next: LogIndex;
  /** Probe: one AppendEntries is out; wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** CheckQuorum (thesis §6.2): heard from since the last check. */
  recentActive = false;
  /** Snapshot state: the snapshot index being sent, and the next offset to send. */
  pendingSnapshot = LogIndex(0);
  snapshotOffset = 0;
  /** Snapshot state: whether a chunk is out; the leader resends on the heartbeat tick if it stays unanswered. */
  snapshotChunkOut = false;
  snapshotStalledTicks = 0;
  /** ReadIndex (Raft §8): the highest read round this follower has confirmed. */
  readRound = 0;
  /** The commit index last sent to this follower (to tell it of commit advances). */
  sentCommit = 0;
  readonly inflights: Inflights;

  constructor(next: LogIndex, maxMsgs: number, maxBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxMsgs, maxBytes);
  }

  becomeProbe(): void {
    // After a snapshot, continue right after it; otherwise after the last match.
    const next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.next = LogIndex(next);
    this.probeSent = false;
    this.pendingSnapshot = LogIndex(0);
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = LogIndex(this.match + 1);
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeSnapshot(index: LogIndex): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.snapshotOffset = 0;
    this.snapshotChunkOut = false;
    this.snapshotStalledTicks = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** The follower holds our log through `index`. Returns whether that is news. */
  maybeUpdate(index: LogIndex): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (index + 1 > this.next) this.next = LogIndex(index + 1);
    return updated;
  }

  /** An AppendEntries whose last entry is `last` went out. */
  sentEntries(last: LogIndex, count: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = LogIndex(last + 1);
        this.inflights.add(last, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Whether the leader may send AppendEntries now. */
  get paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full;
      case 'snapshot':
        return true;
    }
  }
}
