// etcd's Watch on one member, served from the member's own applied state.
//
// The hub hears every applied write's events from the state machine (live
// path) and reads the MVCC history for watchers that are behind (catch-up
// path), as etcd's watchableStore does with its synced and unsynced groups. A
// watcher is "synced" when every event below `nextRev` has been handed to its
// stream and live events continue from there. A stream whose client reads
// slowly holds at most `maxBufferedEvents` per watcher; beyond that the
// watcher falls back to catching up from history once the stream drains, so
// memory stays bounded and no event is lost or sent twice. History compacted
// meanwhile cancels the watcher with compact_revision, as etcd does.

import { assert } from '../core/assert.js';
import type { ChangeEvent, ChangesResult } from '../kv/changes.js';
import type { KeyRange } from '../kv/command.js';
import { contains, toInterval, type Interval } from '../kv/range.js';
import { toByteString } from '../kv/bytes.js';
import * as T from './grpc/etcd-types.js';
import type { BidiCall } from './grpc/handlers.js';
import { int64ToNumber } from './grpc/handlers.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { eventsOut, packRevisions } from './watch-wire.js';

/** What the hub reads: a member's state machine. */
export interface WatchSource {
  readonly revision: number;
  readonly compactRevision: number;
  changes(range: KeyRange, fromRevision: number, limit: number): ChangesResult;
}

/** Where a stream's responses go (a gRPC BidiCall). */
export interface WatchSink {
  /** False when the outgoing buffer is full (wait for drained()) or the call is over. */
  write(response: T.WatchResponse): boolean;
  drained(): Promise<void>;
  readonly cancelled: boolean;
}

export interface WatchLimits {
  /** Most open watch streams on the member. */
  readonly maxStreams: number;
  /** Most watchers on one stream; a create beyond it is answered canceled with a reason. */
  readonly maxWatchersPerStream: number;
  /** Live events held for one watcher while its stream is backed up; beyond it: catch up from history later. */
  readonly maxBufferedEvents: number;
  /** Events per response (whole revisions; a larger revision goes alone, or in fragments if asked). */
  readonly maxEventsPerResponse: number;
  /** Approximate bytes per response (same rule as events). */
  readonly maxResponseBytes: number;
  /** Events read from history per catch-up step of one watcher. */
  readonly catchUpBatch: number;
  /** How often watchers with progress_notify hear the revision when idle (etcd: 10 minutes). */
  readonly progressNotifyMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxStreams: 10_000,
  maxWatchersPerStream: 1_000,
  maxBufferedEvents: 1_000,
  maxEventsPerResponse: 1_000,
  maxResponseBytes: 1024 * 1024,
  catchUpBatch: 1_000,
  progressNotifyMs: 10 * 60 * 1000,
};

export type HeaderOf = (revision: number) => T.ResponseHeader;

interface Watcher {
  readonly id: number;
  readonly range: KeyRange;
  readonly iv: Interval;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  /** Every event of this watcher below nextRev is in `buffer` or handed to the sink. */
  nextRev: number;
  /** The revision of the last event handed to the sink (0: none yet). */
  sentRev: number;
  synced: boolean;
  /** Live events not yet written, whole revisions, in order. */
  buffer: ChangeEvent[];
  /** Something was sent since the last progress tick. */
  active: boolean;
}

/** etcd's InvalidWatchID: responses about the stream rather than one watcher. */
const STREAM_WATCH_ID = -1;

export class WatchHub {
  readonly limits: WatchLimits;
  private readonly streams = new Set<WatchStream>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(readonly source: WatchSource, readonly header: HeaderOf, limits: Partial<WatchLimits> = {}) {
    this.limits = { ...DEFAULT_WATCH_LIMITS, ...limits };
    this.timer = setInterval(() => {
      for (const s of this.streams) s.progressTick();
    }, this.limits.progressNotifyMs);
    this.timer.unref();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** The state machine's change listener: one revision's events, or null after a snapshot restore. */
  /** Whether any Watch stream is open (the store builds change events only then). */
  get watching(): boolean {
    return this.streams.size > 0;
  }

  onChanges(revision: number, events: readonly ChangeEvent[] | null): void {
    if (this.streams.size === 0) return;
    const keys = events === null ? null : events.map((e) => toByteString(e.kv.key));
    for (const s of this.streams) s.deliver(revision, events, keys);
  }

  /** A new stream, or null when the member holds maxStreams already. */
  open(sink: WatchSink): WatchStream | null {
    if (this.streams.size >= this.limits.maxStreams) return null;
    const s = new WatchStream(this, sink);
    this.streams.add(s);
    return s;
  }

  /** @internal */
  forget(s: WatchStream): void {
    this.streams.delete(s);
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of [...this.streams]) s.close();
  }
}

export interface CreateRequest {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly startRevision: number;
  readonly watchId: number;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
}

/** One Watch call: its watchers and the order of what it sends. */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>();
  /** Created and canceled responses, sent before any watcher's events. */
  private readonly control: T.WatchResponse[] = [];
  private nextId = 0;
  private blocked = false;
  private scheduled = false;
  private closed = false;
  private progressWanted = false;
  private onClose: () => void = () => undefined;
  /** Resolves when the stream is closed (by the call ending or the hub closing). */
  readonly whenClosed = new Promise<void>((resolve) => {
    this.onClose = resolve;
  });

  constructor(private readonly hub: WatchHub, private readonly sink: WatchSink) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Answers a create request with a refusal (etcd: created and canceled at once, with the reason). */
  refuse(reason: string): void {
    this.control.push({ header: this.hub.header(this.hub.source.revision), watch_id: STREAM_WATCH_ID, created: true, canceled: true, cancel_reason: reason });
    this.schedule();
  }

  create(req: CreateRequest): void {
    const src = this.hub.source;
    const refuse = (reason: string): void => this.refuse(reason);
    if (req.watchId !== 0 && this.watchers.has(req.watchId)) return refuse('mvcc: duplicate watch ID');
    if (req.watchId < 0) return refuse('synod: a watch ID must not be negative');
    if (this.watchers.size >= this.hub.limits.maxWatchersPerStream) {
      return refuse(`synod: too many watchers on one stream (limit ${this.hub.limits.maxWatchersPerStream}); open another stream`);
    }
    const id = req.watchId !== 0 ? req.watchId : this.freeId();
    const range: KeyRange = req.rangeEnd.length === 0 ? { key: req.key } : { key: req.key, rangeEnd: req.rangeEnd };
    const start = req.startRevision > 0 ? req.startRevision : src.revision + 1;
    const w: Watcher = {
      id, range, iv: toInterval(range), prevKv: req.prevKv, noPut: req.noPut, noDelete: req.noDelete,
      progressNotify: req.progressNotify, fragment: req.fragment,
      nextRev: start, sentRev: 0, synced: start > src.revision, buffer: [], active: false,
    };
    this.watchers.set(id, w);
    this.control.push({ header: this.hub.header(src.revision), watch_id: id, created: true });
    this.schedule();
  }

  /** etcd assigns the lowest free id from a counter that starts at 0. */
  private freeId(): number {
    while (this.watchers.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  cancel(id: number): void {
    if (!this.watchers.delete(id)) return;
    this.control.push({ header: this.hub.header(this.hub.source.revision), watch_id: id, canceled: true });
    this.schedule();
  }

  /** etcd's progress request: the revision, once every watcher of the stream has been sent everything up to it. */
  requestProgress(): void {
    this.progressWanted = true;
    this.schedule();
  }

  /** Live events at `revision` (null: the state was replaced; everyone catches up from history). */
  deliver(revision: number, events: readonly ChangeEvent[] | null, keys: readonly string[] | null): void {
    let touched = false;
    for (const w of this.watchers.values()) {
      if (!w.synced) continue;
      if (events === null || keys === null) {
        if (w.nextRev <= revision) [w.synced, touched] = [false, true];
        continue;
      }
      if (revision < w.nextRev) continue;
      if (revision > w.nextRev) {
        // A revision went by unseen: read it from history rather than guess.
        [w.synced, touched] = [false, true];
        continue;
      }
      w.nextRev = revision + 1;
      events.forEach((e, i) => {
        if (contains(w.iv, keys[i] as string)) w.buffer.push(e);
      });
      if (w.buffer.length > this.hub.limits.maxBufferedEvents) this.fallBehind(w);
      touched = true;
    }
    if (touched) this.schedule();
  }

  /** Drops the buffered events of a watcher whose stream is backed up; they are read from history later. */
  private fallBehind(w: Watcher): void {
    const first = w.buffer[0];
    assert(first !== undefined, 'watch: falling behind with an empty buffer');
    w.nextRev = first.kv.modRevision;
    w.buffer = [];
    w.synced = false;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Sends what is due, in order, until the sink is full. */
  private flush(): void {
    if (this.closed || this.blocked) return;
    if (this.sink.cancelled) return this.close();
    while (this.control.length > 0) {
      if (!this.send(this.control.shift() as T.WatchResponse)) return;
    }
    let behind = false;
    for (const w of [...this.watchers.values()]) {
      if (!this.watchers.has(w.id)) continue;
      if (w.buffer.length > 0 && !this.sendBuffered(w)) return;
      if (!w.synced) {
        if (!this.catchUp(w)) return;
        behind ||= !w.synced;
      }
    }
    if (behind) return this.schedule();
    if (this.progressWanted) {
      this.progressWanted = false;
      this.send({ header: this.hub.header(this.hub.source.revision), watch_id: STREAM_WATCH_ID });
    }
  }

  /** Writes one response; false (and waits for the sink to drain) when the sink is full. */
  private send(r: T.WatchResponse): boolean {
    return this.sink.write(r) || this.waitDrain();
  }

  private waitDrain(): false {
    if (this.sink.cancelled) {
      this.close();
      return false;
    }
    this.blocked = true;
    void this.sink.drained().then(() => {
      this.blocked = false;
      this.schedule();
    });
    return false;
  }

  private sendBuffered(w: Watcher): boolean {
    const events = w.buffer;
    w.buffer = [];
    const through = w.synced ? w.nextRev - 1 : (events[events.length - 1] as ChangeEvent).kv.modRevision;
    return this.sendEvents(w, events, through);
  }

  /** Sends events of whole revisions; `through`: every event of w at or below it is then sent. */
  private sendEvents(w: Watcher, events: readonly ChangeEvent[], through: number): boolean {
    const first = events[0];
    // Invariant: a watcher's events go out once each, in revision order (etcd's watch guarantee).
    assert(first === undefined || first.kv.modRevision > w.sentRev, () => `watch: event at revision ${first?.kv.modRevision} after ${w.sentRev} was sent`);
    const lastEvent = events[events.length - 1];
    if (lastEvent !== undefined) w.sentRev = lastEvent.kv.modRevision;
    const kept = events.filter((e) => !(e.type === 'put' ? w.noPut : w.noDelete));
    const limits = this.hub.limits;
    const packs = packRevisions(kept, limits.maxEventsPerResponse, limits.maxResponseBytes, w.fragment);
    let ok = true;
    packs.forEach((p, i) => {
      const last = i === packs.length - 1;
      const rev = last ? through : (p.events[p.events.length - 1] as ChangeEvent).kv.modRevision;
      const r: T.WatchResponse = { header: this.hub.header(rev), watch_id: w.id, events: eventsOut(p.events, w.prevKv) };
      if (p.fragment) r.fragment = true;
      // Once the sink is full the rest of this batch still goes out: it is bounded and keeps the order.
      ok = this.sink.write(r) && ok;
    });
    if (packs.length > 0) w.active = true;
    return ok || this.waitDrain();
  }

  /** One step of reading history for a watcher that is behind; false when the sink is full. */
  private catchUp(w: Watcher): boolean {
    const src = this.hub.source;
    const batch = this.hub.limits.catchUpBatch;
    let r = src.changes(w.range, w.nextRev, batch);
    if (!r.ok) {
      this.watchers.delete(w.id);
      return this.send({ header: this.hub.header(src.revision), watch_id: w.id, canceled: true, compact_revision: r.compactRevision });
    }
    let events = r.events;
    let through = src.revision;
    if (r.more) {
      const lastRev = (events[events.length - 1] as ChangeEvent).kv.modRevision;
      const whole = events.filter((e) => e.kv.modRevision < lastRev);
      if (whole.length > 0) {
        events = whole;
        through = lastRev - 1;
      } else {
        // One revision larger than a batch: read it whole (its size is bounded by the store's own limits).
        r = src.changes(w.range, w.nextRev, Number.MAX_SAFE_INTEGER);
        assert(r.ok, 'watch: history compacted between two synchronous reads');
        events = r.events.filter((e) => e.kv.modRevision === lastRev);
        through = lastRev;
      }
    }
    w.nextRev = through + 1;
    w.synced = through >= src.revision;
    if (events.length === 0) return true;
    return this.sendEvents(w, events, through);
  }

  /** etcd's progress notification for idle, synced watchers that asked for it. */
  progressTick(): void {
    if (this.closed || this.blocked) return;
    for (const w of this.watchers.values()) {
      if (w.progressNotify && w.synced && w.buffer.length === 0 && !w.active) {
        if (!this.send({ header: this.hub.header(w.nextRev - 1), watch_id: w.id, events: [] })) return;
      }
      w.active = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.control.length = 0;
    this.hub.forget(this);
    this.onClose();
  }
}

/** Bytes the wire layer lent us, copied so they outlive the call's buffers (an absent field decodes as an empty array, not a Buffer). */
const copy = (b: Buffer): Uint8Array => (b.length === 0 ? new Uint8Array(0) : Uint8Array.prototype.slice.call(b));

/** A decoded create_request in the hub's terms. */
export function createOf(c: T.WatchCreateRequest): CreateRequest {
  return {
    key: copy(c.key),
    rangeEnd: copy(c.range_end),
    startRevision: int64ToNumber(c.start_revision, 'start_revision'),
    watchId: int64ToNumber(c.watch_id, 'watch_id'),
    prevKv: c.prev_kv,
    noPut: c.filters.includes(T.WatchFilterType.NOPUT),
    noDelete: c.filters.includes(T.WatchFilterType.NODELETE),
    progressNotify: c.progress_notify,
    fragment: c.fragment,
  };
}

/** Watch.Watch: one stream of create, cancel and progress requests. */
export async function serveWatch(hub: WatchHub, call: BidiCall<T.WatchRequest, T.WatchResponse>, permit?: (req: CreateRequest) => string | null): Promise<void> {
  const stream = hub.open(call);
  if (stream === null) {
    throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `synod: too many watch streams on this member (limit ${hub.limits.maxStreams})`);
  }
  try {
    for await (const req of call.requests) {
      if (req.request_union === 'create_request' && req.create_request !== null) {
        const create = createOf(req.create_request);
        const denied = permit?.(create) ?? null;
        if (denied === null) stream.create(create);
        else stream.refuse(denied);
      }
      else if (req.request_union === 'cancel_request' && req.cancel_request !== null) stream.cancel(int64ToNumber(req.cancel_request.watch_id, 'watch_id'));
      else if (req.request_union === 'progress_request') stream.requestProgress();
    }
    // etcd keeps a half-closed stream open: its watchers run until the call ends.
    if (!call.cancelled) {
      await Promise.race([stream.whenClosed, new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    }
  } finally {
    stream.close();
  }
}
