// A tiny ReplicatedLog for the adapter tests: one node that commits what it is
// given (at once, or when told), and that can be made to lose leadership,
// install a snapshot, or restart from its durable writes. It is not a
// consensus protocol; it drives the adapter through every output it handles.

import { EffectsBuilder } from '../../src/core/effects.js';
import type { Effects } from '../../src/core/effects.js';
import { LogIndex, NodeId } from '../../src/core/ids.js';
import type { CommittedEntry, LogOutput, LogStatus, ProposeResult, ReplicatedLog } from '../../src/core/replicated-log.js';
import type { KvCommand } from '../../src/kv/command.js';
import type { KvSnapshot } from '../../src/kv/snapshot.js';

export type FakeWrite =
  | { readonly type: 'entry'; readonly index: number; readonly command: KvCommand | null }
  | { readonly type: 'commit'; readonly index: number }
  | { readonly type: 'snapshot'; readonly index: number; readonly snapshot: KvSnapshot };

export interface FakeMsg {
  readonly type: 'ping';
  readonly n: number;
}

type Out = LogOutput<KvCommand, KvSnapshot>;

export class FakeLog implements ReplicatedLog<KvCommand, KvSnapshot, FakeWrite, FakeMsg> {
  readonly id: NodeId;
  role: 'leader' | 'follower' = 'leader';
  leader: NodeId | null;
  term = 1;
  /** When false, proposals wait in the log until commitAll(). */
  autoCommit = true;
  overloaded = false;
  entries: CommittedEntry<KvCommand>[] = [];
  commitIndex = 0;
  snapshot: { index: number; snapshot: KvSnapshot } | null = null;
  compactCalls: number[] = [];
  private fx = new EffectsBuilder<FakeWrite, FakeMsg, Out>();
  private open = false;

  constructor(id = 1) {
    this.id = NodeId(id);
    this.leader = this.id;
  }

  tick(): void {}
  step(): void {}

  propose(command: KvCommand): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leader };
    if (this.overloaded) return { ok: false, reason: 'overloaded' };
    this.append(command);
    if (this.autoCommit) this.commitAll();
    return { ok: true };
  }

  /** Appends an entry without a proposal (a no-op entry, or a command from "another leader"). */
  append(command: KvCommand | null): number {
    const index = this.lastIndex() + 1;
    this.entries.push({ index: LogIndex(index), command });
    this.fx.write({ type: 'entry', index, command });
    this.fx.send(NodeId(2), { type: 'ping', n: index });
    return index;
  }

  lastIndex(): number {
    return this.entries.length > 0 ? (this.entries[this.entries.length - 1] as CommittedEntry<KvCommand>).index : (this.snapshot?.index ?? 0);
  }

  commitAll(): void {
    const fresh = this.entries.filter((e) => e.index > this.commitIndex);
    if (fresh.length === 0) return;
    this.commitIndex = this.lastIndex();
    this.fx.write({ type: 'commit', index: this.commitIndex });
    this.fx.output({ type: 'committed', entries: fresh });
  }

  readIndex(ctx: number): void {
    if (this.role === 'leader') this.fx.output({ type: 'read-ready', ctx, index: LogIndex(this.lastIndex()) });
    else this.fx.output({ type: 'read-failed', ctx, leader: this.leader });
  }

  compact(index: LogIndex, snapshot: KvSnapshot): void {
    this.compactCalls.push(index);
    this.snapshot = { index, snapshot };
    this.entries = this.entries.filter((e) => e.index > index);
    this.fx.write({ type: 'snapshot', index, snapshot });
  }

  loseLeadership(newLeader: number | null): void {
    this.role = 'follower';
    this.term++;
    this.leader = newLeader === null ? null : NodeId(newLeader);
    this.fx.output({ type: 'event', event: { kind: 'role', detail: { role: 'follower', term: this.term } } });
  }

  /** Installs a snapshot sent by "the leader": drops the log and hands it to the state machine. */
  installSnapshot(index: number, snapshot: KvSnapshot): void {
    this.snapshot = { index, snapshot };
    this.entries = this.entries.filter((e) => e.index > index);
    this.commitIndex = Math.max(this.commitIndex, index);
    this.fx.write({ type: 'snapshot', index, snapshot });
    this.fx.output({ type: 'restore', index: LogIndex(index), snapshot });
  }

  ready(): Effects<FakeWrite, FakeMsg, Out> | null {
    if (this.fx.empty) return null;
    if (this.open) throw new Error('fake log: ready() twice without advance()');
    this.open = true;
    return this.fx.take();
  }

  advance(): void {
    if (!this.open) throw new Error('fake log: advance() without ready()');
    this.open = false;
  }

  status(): LogStatus {
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      term: this.term,
      commitIndex: LogIndex(this.commitIndex),
      lastIndex: LogIndex(this.lastIndex()),
      voters: [this.id],
    };
  }

  /** A restart from durable writes: re-delivers the snapshot, then the committed entries. */
  static recover(id: number, durable: readonly FakeWrite[]): FakeLog {
    const log = new FakeLog(id);
    let commit = 0;
    for (const w of durable) {
      if (w.type === 'entry') {
        log.entries = log.entries.filter((e) => e.index < w.index);
        log.entries.push({ index: LogIndex(w.index), command: w.command });
      } else if (w.type === 'commit') commit = Math.max(commit, w.index);
      else {
        log.snapshot = { index: w.index, snapshot: w.snapshot };
        log.entries = log.entries.filter((e) => e.index > w.index);
        commit = Math.max(commit, w.index);
      }
    }
    if (log.snapshot) log.fx.output({ type: 'restore', index: LogIndex(log.snapshot.index), snapshot: log.snapshot.snapshot });
    log.commitIndex = commit;
    const committed = log.entries.filter((e) => e.index <= commit);
    if (committed.length > 0) log.fx.output({ type: 'committed', entries: committed });
    return log;
  }
}
