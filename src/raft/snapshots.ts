// Raft §7: log compaction and InstallSnapshot. The snapshot goes out in chunks,
// one at a time; the follower answers each with the next offset it expects, so
// a lost chunk (or answer) is resent from where the follower stands.

import { LogIndex, type NodeId } from '../core/ids.js';
import type { Progress } from './progress.js';
import { Replication } from './replication.js';
import type { InstallSnapshot, InstallSnapshotResponse, SnapshotMeta } from './types.js';

export abstract class Snapshots<C, S> extends Replication<C, S> {
  /** The state machine holds a snapshot through `index`: drop the log up to it. */
  compact(index: LogIndex, snapshot: S): void {
    if (index <= this.log.snapshot.index) return;
    if (index > this.emittedIndex) {
      throw new RangeError(`raft: cannot compact through ${index}: only entries through ${this.emittedIndex} have been handed out for applying`);
    }
    const term = this.log.term(index);
    if (term === null) throw new RangeError(`raft: cannot compact through ${index}: no such entry`);
    const meta: SnapshotMeta = { index, term, conf: this.confAt(index) };
    this.log.compact(meta);
    this.confHistory = this.confHistory.filter((h) => h.index > index);
    this.snapshotData = snapshot;
    this.writeSnapshot({ meta, data: snapshot });
    this.event('compacted', { index, term });
  }

  protected override sendSnapshotChunk(to: NodeId, pr: Progress): void {
    if (pr.pendingSnapshot !== this.log.snapshot.index) {
      // The leader compacted again meanwhile: send the newer snapshot from the start.
      pr.becomeSnapshot(this.log.snapshot.index);
    }
    const text = this.snapshotEncoded();
    const data = text.slice(pr.snapshotOffset, pr.snapshotOffset + this.opts.snapshotChunkBytes);
    const msg: InstallSnapshot = {
      type: 'InstallSnapshot',
      term: this.term,
      meta: this.log.snapshot,
      offset: pr.snapshotOffset,
      data,
      done: pr.snapshotOffset + data.length >= text.length,
    };
    this.sendEarly(to, msg);
    pr.snapshotChunkOut = true;
    pr.snapshotStalledTicks = 0;
  }

  /** Leader, on each heartbeat: resend a chunk that has gone unanswered for half an election timeout. */
  protected resendStalledSnapshots(ticks: number): void {
    for (const [id, pr] of this.progress) {
      if (pr.state !== 'snapshot') continue;
      pr.snapshotStalledTicks += ticks;
      if (pr.snapshotStalledTicks >= Math.max(2, this.opts.electionTimeoutTicks >> 1)) this.sendSnapshotChunk(id, pr);
    }
  }

  protected handleInstallSnapshotResponse(from: NodeId, m: InstallSnapshotResponse): void {
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot') return;
    if (m.done) {
      if (m.index < pr.pendingSnapshot) return;
      pr.maybeUpdate(m.index);
      this.event('snapshot-done', { to: from, index: m.index });
      pr.becomeProbe();
      this.sendAppend(from, true);
      return;
    }
    if (m.index !== pr.pendingSnapshot) return;
    pr.snapshotOffset = m.nextOffset;
    this.sendSnapshotChunk(from, pr);
  }

  /** Follower: one chunk of a snapshot from the leader. */
  protected handleInstallSnapshot(from: NodeId, m: InstallSnapshot): void {
    this.lead = from;
    this.electionElapsed = 0;
    const reply = (index: number, nextOffset: number, done: boolean): void => {
      const r: InstallSnapshotResponse = { type: 'InstallSnapshotResponse', term: this.term, index: LogIndex(index), nextOffset, done };
      this.send(from, r);
    };
    if (m.meta.index <= this.log.committed) {
      // We have all of it already.
      this.incoming = null;
      reply(this.log.committed, 0, true);
      return;
    }
    const cur = this.incoming;
    if (m.offset === 0 && (cur === null || cur.index !== m.meta.index || cur.term !== m.meta.term || cur.received > 0)) {
      this.incoming = { index: m.meta.index, term: m.meta.term, chunks: [], received: 0 };
    }
    const inc = this.incoming;
    if (inc === null || inc.index !== m.meta.index || inc.term !== m.meta.term || m.offset !== inc.received) {
      // Out of order, or the start was lost: ask for what we need next.
      reply(m.meta.index, inc !== null && inc.index === m.meta.index ? inc.received : 0, false);
      return;
    }
    inc.chunks.push(m.data);
    inc.received += m.data.length;
    if (!m.done) {
      reply(m.meta.index, inc.received, false);
      return;
    }
    this.incoming = null;
    this.installSnapshot(m.meta, this.opts.snapshotCodec.decode(inc.chunks.join('')));
    reply(m.meta.index, inc.received, true);
  }

  private installSnapshot(meta: SnapshotMeta, data: S): void {
    this.log.restore(meta);
    this.conf = meta.conf;
    this.confHistory = [];
    this.snapshotData = data;
    this.writeSnapshot({ meta, data });
    this.emittedIndex = meta.index;
    this.outOutputs.push({ type: 'restore', index: meta.index, snapshot: data });
    this.event('snapshot-installed', { index: meta.index, term: meta.term, from: this.lead });
    this.setRole(this.passiveRole());
  }
}
