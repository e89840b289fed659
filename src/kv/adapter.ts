// The adapter from any replicated log (Raft, Multi-Paxos) to a key-value node:
// writes go through the log and are answered once applied; reads are served
// linearizably through the log's readIndex (Raft §6.4). The same class serves
// the simulator (as a SimNode) and the server (which drives it from a process):
// nothing here assumes simulated time or a simulated network.

import { assert, assertNever } from '../core/assert.js';
import type { Effects } from '../core/effects.js';
import type { ClientId, LogIndex, NodeId } from '../core/ids.js';
import type { LogOutput, LogStatus, Message, ReplicatedLog } from '../core/replicated-log.js';
import type { NodeView, SimNode, SimOutput } from '../sim/protocol.js';
import type { KvOp, KvReply, KvRequest } from './api.js';
import { fromUtf8 } from './bytes.js';
import type { KvCommand, KvRead } from './command.js';
import { commandOf, decodeValue, readOf, readReply, writeReply } from './ops.js';
import { isSnapshotMarker, snapshotMarker } from './snapshot.js';
import type { KvLogSnapshot } from './snapshot.js';
import { KvStateMachine } from './state-machine.js';
import type { KvStateMachineOptions } from './state-machine.js';

/** A log under a key-value node; its snapshots are whole states or, with `snapshotMarkers`, markers. */
export type KvLog<W, M extends Message> = ReplicatedLog<KvCommand, KvLogSnapshot, W, M>;

/** Deliberate bugs in the KV layer, for proving that the simulator's checks catch them. */
export const KV_MUTANTS = {
  'kv-local-read': 'serves reads from the local state at once, without a read index (stale reads: breaks linearizability, Raft §6.4)',
  'kv-reply-on-propose': 'answers a write as soon as the log accepts it, before it commits (acknowledged writes can be lost)',
} as const;

export interface KvNodeOptions {
  /** Hand the log a snapshot (log.compact) every this many applied entries; 0 or absent: never. */
  readonly snapshotEveryEntries?: number;
  /**
   * Hand the log a KvSnapshotMarker instead of the whole state: for a state
   * machine over a durable backend, whose host makes the state durable before
   * the log keeps the marker and materializes snapshots it sends (docs/storage.md).
   */
  readonly snapshotMarkers?: boolean;
  /** The state machine to use (e.g. over a durable backend), or options for a fresh in-memory one. */
  readonly stateMachine?: KvStateMachine | KvStateMachineOptions;
  /** Most requests waiting at once (writes being committed, reads being confirmed); beyond it: 'busy'. */
  readonly maxPendingRequests?: number;
  /** How many key-values view() shows (default 32). */
  readonly viewKeys?: number;
  /** How many recent applied-chain hashes view() shows (default 16). */
  readonly viewChainWindow?: number;
  /** Protocol-specific fields merged into view() (e.g. the Raft log for its invariants). */
  readonly extraView?: () => Readonly<Record<string, unknown>>;
  /** KV_MUTANTS to switch on (never outside tests and the simulator). */
  readonly mutants?: ReadonlySet<string>;
}

interface PendingWrite {
  readonly requestIds: number[];
  readonly op: KvOp;
  readonly client: ClientId;
  readonly seq: number;
  /** The log's term when proposed: a change of term means the entry may have been replaced. */
  readonly term: number;
}

interface PendingRead {
  readonly requestId: number;
  readonly op: KvOp;
  readonly read: KvRead;
  /** Set once the log has confirmed the read point. */
  index: LogIndex | null;
}

const sessionKey = (client: ClientId, seq: number): string => `${seq}\u0000${client}`;

export class KvNode<W, M extends Message> implements SimNode<M, W, KvRequest, KvReply> {
  readonly sm: KvStateMachine;
  private readonly snapshotEvery: number;
  private readonly maxPending: number;
  private readonly writes = new Map<string, PendingWrite>();
  private readonly reads = new Map<number, PendingRead>();
  private nextCtx = 1;
  private outbox: SimOutput<KvReply>[] = [];
  private logBatchOpen = false;
  private lastSnapshotIndex: number;
  private readonly recentChain = new Map<number, string>();
  /** Bumped whenever recentChain changes (part of the view's change key). */
  private chainVersion = 0;
  /** view() is rebuilt only when something it shows changed (the simulator compares views by identity). */
  private viewCache: { readonly view: NodeView; readonly extra: Readonly<Record<string, unknown>> | undefined; readonly status: LogStatus; readonly kvKey: readonly number[] } | null = null;
  private viewParts: { readonly revision: number; readonly compactRevision: number; readonly kv: Readonly<Record<string, unknown>>; readonly chainVersion: number; readonly appliedChain: Readonly<Record<string, string>> } | null = null;
  /** An input reached the node since the last view(): the cached view must be re-validated. */
  private inputSinceView = true;

  constructor(
    readonly log: KvLog<W, M>,
    private readonly opts: KvNodeOptions = {},
  ) {
    this.sm = opts.stateMachine instanceof KvStateMachine ? opts.stateMachine : new KvStateMachine(opts.stateMachine);
    this.snapshotEvery = opts.snapshotEveryEntries ?? 0;
    this.maxPending = opts.maxPendingRequests ?? 10_000;
    this.lastSnapshotIndex = this.sm.appliedIndex;
  }

  /**
   * A node restarted after a crash: `log` comes from the protocol's own recover
   * (from its durable writes). The log re-delivers what it had committed (a
   * 'restore' of its latest snapshot first, then 'committed' entries); entries
   * at or below the state machine's applied index (a durable backend keeps it)
   * are skipped, so replay is idempotent.
   */
  static recover<W, M extends Message>(log: KvLog<W, M>, opts: KvNodeOptions = {}): KvNode<W, M> {
    return new KvNode(log, opts);
  }

  get id(): NodeId {
    return this.log.id;
  }

  tick(): void {
    this.inputSinceView = true;
    this.log.tick();
  }

  step(from: NodeId, msg: M): void {
    this.inputSinceView = true;
    this.log.step(from, msg);
  }

  request(requestId: number, req: KvRequest): void {
    this.inputSinceView = true;
    const reply = (r: KvReply): void => void this.outbox.push({ type: 'reply', requestId, reply: r });
    if (this.writes.size + this.reads.size >= this.maxPending) return reply({ ok: false, error: 'busy' });
    const range = readOf(req.op);
    if (range !== null) return this.startRead(requestId, req.op, range, reply);
    const cmd = commandOf(req);
    assert(cmd !== null, 'kv: an op is either a read or a write');
    if (cmd.seq < 1) {
      return reply({ ok: false, error: 'rejected', code: 'invalid', message: 'synod: a write through the log needs seq >= 1 (the session matches its reply)' });
    }
    const invalid = this.sm.validate(cmd);
    if (invalid) return reply({ ok: false, error: 'rejected', code: invalid.code, message: invalid.message });
    const saved = this.sm.savedResult(cmd.client, cmd.seq);
    if (saved !== undefined) return reply(writeReply(req.op, saved));
    const key = sessionKey(cmd.client, cmd.seq);
    const waiting = this.writes.get(key);
    if (waiting !== undefined) return void waiting.requestIds.push(requestId);
    const proposed = this.log.propose(cmd);
    if (!proposed.ok) {
      if (proposed.reason === 'not-leader') return reply({ ok: false, error: 'not-leader', leader: proposed.leader });
      if (proposed.reason === 'transferring') return reply({ ok: false, error: 'not-leader', leader: null });
      return reply({ ok: false, error: 'busy' });
    }
    if (this.opts.mutants?.has('kv-reply-on-propose') === true) return reply(req.op.f === 'etcd' ? { ok: false, error: 'unknown' } : { ok: true, value: 'value' in req.op ? req.op.value : null });
    this.writes.set(key, { requestIds: [requestId], op: req.op, client: cmd.client, seq: cmd.seq, term: this.log.status().term });
  }

  private startRead(requestId: number, op: KvOp, read: KvRead, reply: (r: KvReply) => void): void {
    const invalid = this.sm.validateRead(read);
    if (invalid) return reply({ ok: false, error: 'rejected', code: invalid.code, message: invalid.message });
    if (this.opts.mutants?.has('kv-local-read') === true) return reply(readReply(op, this.sm.read(read)));
    const ctx = this.nextCtx++;
    this.reads.set(ctx, { requestId, op, read, index: null });
    this.log.readIndex(ctx);
  }

  ready(): Effects<W, M, SimOutput<KvReply>> | null {
    assert(!this.logBatchOpen, 'kv: ready() called again before advance()');
    this.inputSinceView = true;
    const fx = this.log.ready();
    if (fx !== null) {
      this.logBatchOpen = true;
      for (const o of fx.outputs) this.handle(o);
    }
    this.failLostWrites();
    this.serveReads();
    const outputs = this.outbox;
    this.outbox = [];
    if (fx === null && outputs.length === 0) return null;
    return { sendNow: fx?.sendNow ?? [], persist: fx?.persist ?? [], sendAfterPersist: fx?.sendAfterPersist ?? [], outputs };
  }

  advance(): void {
    this.inputSinceView = true;
    if (this.logBatchOpen) {
      this.logBatchOpen = false;
      this.log.advance();
    }
    const applied = this.sm.appliedIndex;
    if (this.snapshotEvery > 0 && applied - this.lastSnapshotIndex >= this.snapshotEvery) {
      this.lastSnapshotIndex = applied;
      this.log.compact(applied, this.opts.snapshotMarkers === true ? snapshotMarker(applied) : this.sm.snapshot());
    }
  }

  private handle(o: LogOutput<KvCommand, KvLogSnapshot>): void {
    switch (o.type) {
      case 'committed':
        return this.applyEntries(o.entries);
      case 'read-ready': {
        const r = this.reads.get(o.ctx);
        if (r !== undefined) r.index = o.index;
        return;
      }
      case 'read-failed': {
        const r = this.reads.get(o.ctx);
        if (r === undefined) return;
        this.reads.delete(o.ctx);
        return this.reply(r.requestId, { ok: false, error: 'not-leader', leader: o.leader });
      }
      case 'restore':
        return this.restore(o.index, o.snapshot);
      case 'event':
        return void this.outbox.push({ type: 'event', event: o.event });
      default:
        return assertNever(o, 'log output');
    }
  }

  private reply(requestId: number, reply: KvReply): void {
    this.outbox.push({ type: 'reply', requestId, reply });
  }

  private applyEntries(entries: readonly { readonly index: LogIndex; readonly command: KvCommand | null }[]): void {
    let first = -1;
    for (const e of entries) {
      // Entries at or below the applied index were applied before a restart or are inside a restored snapshot.
      if (e.index <= this.sm.appliedIndex) continue;
      if (first < 0) first = e.index;
      const result = this.sm.apply(e.index, e.command);
      this.noteChain(e.index);
      if (e.command === null || result === null) continue;
      const key = sessionKey(e.command.client, e.command.seq);
      const w = this.writes.get(key);
      if (w === undefined) continue;
      this.writes.delete(key);
      const reply = writeReply(w.op, result);
      for (const id of w.requestIds) this.reply(id, reply);
    }
    if (first >= 0) {
      this.outbox.push({ type: 'event', event: { kind: 'apply', detail: { from: first, to: this.sm.appliedIndex, revision: this.sm.revision } } });
    }
  }

  private noteChain(index: number): void {
    const window = this.opts.viewChainWindow ?? 16;
    this.recentChain.set(index, this.sm.chain);
    this.chainVersion++;
    while (this.recentChain.size > window) this.recentChain.delete(this.recentChain.keys().next().value as number);
  }

  /**
   * Raft §7: the log installed a snapshot; the state machine takes it whole.
   * A snapshot materialized at send time from a durable backend (see
   * `snapshotMarkers`) may hold a state newer than its index: entries after
   * `index` that it already contains are committed ones, skipped when the log
   * hands them over again.
   */
  private restore(index: LogIndex, snapshot: KvLogSnapshot): void {
    if (index <= this.sm.appliedIndex) return;
    if (isSnapshotMarker(snapshot)) {
      // The log recovered a marker that the durable state does not cover: the state store lost data.
      throw new Error(`kv: the log's snapshot at index ${index} stands for state kept in the state store, but the store holds only index ${this.sm.appliedIndex}; restore this member from a snapshot or a peer`);
    }
    // Invariant: a snapshot handed over at index i holds the state after applying at least i.
    assert(snapshot.meta.appliedIndex >= index, () => `kv: snapshot for index ${index} holds ${snapshot.meta.appliedIndex}`);
    this.sm.restore(snapshot);
    // Compact next from the state's own index: the log hands out entries through it again first.
    this.lastSnapshotIndex = this.sm.appliedIndex;
    this.recentChain.clear();
    this.noteChain(this.sm.appliedIndex);
    this.outbox.push({ type: 'event', event: { kind: 'restore', detail: { index, revision: this.sm.revision } } });
    // Writes inside the snapshot are answered from the sessions it carries.
    for (const [key, w] of this.writes) {
      const saved = this.sm.savedResult(w.client, w.seq);
      if (saved === undefined) continue;
      this.writes.delete(key);
      const reply = writeReply(w.op, saved);
      for (const id of w.requestIds) this.reply(id, reply);
    }
  }

  /** A leader that lost its office cannot tell whether its pending entries will commit. */
  private failLostWrites(): void {
    if (this.writes.size === 0) return;
    const st = this.log.status();
    for (const [key, w] of this.writes) {
      if (st.role === 'leader' && st.term === w.term) continue;
      this.writes.delete(key);
      for (const id of w.requestIds) this.reply(id, { ok: false, error: 'unknown' });
    }
  }

  private serveReads(): void {
    const applied = this.sm.appliedIndex;
    for (const [ctx, r] of this.reads) {
      if (r.index === null || r.index > applied) continue;
      this.reads.delete(ctx);
      this.reply(r.requestId, readReply(r.op, this.sm.read(r.read)));
    }
  }

  /**
   * The same object as last time while nothing it shows changed: the simulator
   * skips its invariant checks when no node's view object changed, so any change
   * an invariant could read (log status, the protocol's extra fields, applied
   * state, pending requests) yields a new object.
   */
  view(): NodeView {
    const cached = this.viewCache;
    if (cached !== null && !this.inputSinceView) return cached.view;
    this.inputSinceView = false;
    const extra = this.opts.extraView?.();
    const status = this.log.status();
    const kvKey = [this.sm.appliedIndex, this.sm.revision, this.sm.compactRevision, this.sm.keyCount, this.sm.sessionCount, this.writes.size, this.reads.size, this.chainVersion];
    if (cached !== null && sameNumbers(cached.kvKey, kvKey) && sameFields(cached.status as unknown as Readonly<Record<string, unknown>>, status as unknown as Readonly<Record<string, unknown>>) && sameFields(cached.extra, extra)) {
      return cached.view;
    }
    const view = this.buildView(extra, status);
    this.viewCache = { view, extra, status, kvKey };
    return view;
  }

  private buildView(extra: Readonly<Record<string, unknown>> | undefined, status: LogStatus): NodeView {
    // The key-values and the chain window change less often than the rest: reuse them while unchanged.
    const parts = this.viewParts;
    const kv = parts !== null && parts.revision === this.sm.revision && parts.compactRevision === this.sm.compactRevision ? parts.kv : this.viewKv();
    const appliedChain = parts !== null && parts.chainVersion === this.chainVersion ? parts.appliedChain : Object.fromEntries(this.recentChain);
    this.viewParts = { revision: this.sm.revision, compactRevision: this.sm.compactRevision, kv, chainVersion: this.chainVersion, appliedChain };
    return {
      ...extra,
      ...status,
      applied: this.sm.appliedIndex,
      revision: this.sm.revision,
      compactRevision: this.sm.compactRevision,
      appliedChain,
      keyCount: this.sm.keyCount,
      kv,
      sessions: this.sm.sessionCount,
      pendingWrites: this.writes.size,
      pendingReads: this.reads.size,
    };
  }

  private viewKv(): Readonly<Record<string, unknown>> {
    const kv: Record<string, unknown> = {};
    for (const e of this.sm.entries(this.opts.viewKeys ?? 32)) kv[fromUtf8(e.key)] = decodeValue(e.value);
    return kv;
  }

}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shallow equality of two view parts: primitives and objects by identity, short arrays element by element. */
function sameFields(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.length > 64) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}
