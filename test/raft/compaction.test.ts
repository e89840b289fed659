// Raft §7 log compaction and InstallSnapshot (chunked, resumable).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex } from '../../src/core/ids.js';
import { Net, ids } from './harness.js';

function compactAt(net: Net, id: number): number {
  const applied = net.applied(id).length - 1;
  net.node(id).compact(LogIndex(applied), net.applied(id).slice());
  net.flush(id);
  return applied;
}

describe('Raft §7 log compaction', () => {
  test('compact() drops the log through the index and writes a snapshot', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    for (let i = 0; i < 10; i++) net.propose(1, `c${i}`);
    net.tickAll(2);
    const at = compactAt(net, 2);
    const v = net.node(2).view();
    assert.equal(v.snapshotIndex, at);
    assert.equal(v.logTerms.length, v.lastIndex - at);
    assert.ok(net.disks.get(2)?.some((w) => w.type === 'snapshot' && w.snapshot.meta.index === at));
  });

  test('compacting beyond what was handed out for applying is refused', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    assert.throws(() => net.node(1).compact(LogIndex(50), []), RangeError);
  });

  test('a node recovers from its snapshot and the entries after it, restoring the state machine first', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    for (let i = 0; i < 6; i++) net.propose(1, `c${i}`);
    net.tickAll(2);
    compactAt(net, 3);
    for (let i = 6; i < 9; i++) net.propose(1, `c${i}`);
    net.tickAll(2);
    net.crash(3);
    net.restart(3);
    const all = Array.from({ length: 9 }, (_, i) => `c${i}`);
    // The snapshot is restored first; entries after it are re-applied up to the commit index last written.
    assert.deepEqual(net.commands(3), all.slice(0, net.commands(3).length));
    assert.ok(net.commands(3).length >= 3, `${net.commands(3).length} commands restored`);
    assert.ok(net.node(3).view().snapshotIndex > 0);
    net.tickAll(3);
    assert.deepEqual(net.commands(3), all);
  });

  test('a follower that fell behind a compaction gets InstallSnapshot in chunks, then entries', () => {
    const net = new Net(ids(1, 2, 3), { snapshotChunkBytes: 16 });
    net.elect(1);
    net.crash(3);
    for (let i = 0; i < 20; i++) net.propose(1, `cmd-${i}`);
    net.tickAll(2);
    compactAt(net, 1);
    net.propose(1, 'after');
    net.deliver();
    net.restart(3);
    net.tickAll(40);
    assert.deepEqual(net.commands(3), [...Array.from({ length: 20 }, (_, i) => `cmd-${i}`), 'after']);
    const chunks = (net.batches.get(1) ?? []).flatMap((b) => b.sendNow).filter((e) => e.msg.type === 'InstallSnapshot');
    assert.ok(chunks.length > 5, `${chunks.length} chunks`);
    assert.ok(net.eventsOf('snapshot-installed').some((e) => e.node === 3));
    assert.ok(net.eventsOf('snapshot-sent').some((e) => e.node === 1 && e.detail.to === 3));
  });

  test('a lost chunk is resent and the transfer resumes where the follower stands', () => {
    const net = new Net(ids(1, 2, 3), { snapshotChunkBytes: 16 });
    net.elect(1);
    net.crash(3);
    for (let i = 0; i < 20; i++) net.propose(1, `cmd-${i}`);
    net.tickAll(2);
    compactAt(net, 1);
    net.restart(3);
    let dropped = 0;
    const offsets: number[] = [];
    net.drop = (m): boolean => {
      if (m.msg.type !== 'InstallSnapshot') return false;
      offsets.push(m.msg.offset);
      if (m.msg.offset === 64 && dropped < 2) {
        dropped++;
        return true;
      }
      return false;
    };
    net.tickAll(60);
    assert.equal(dropped, 2);
    assert.equal(net.commands(3).length, 20);
    // Every chunk before the lost one went once: the transfer did not restart from 0.
    assert.equal(offsets.filter((o) => o === 0).length, 1);
    assert.equal(offsets.filter((o) => o === 64).length, 3);
  });

  test('the follower emits a restore output with the snapshot, then later entries as committed', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.crash(2);
    for (let i = 0; i < 5; i++) net.propose(1, `x${i}`);
    net.tickAll(2);
    compactAt(net, 1);
    net.restart(2);
    net.tickAll(10);
    const outs = (net.batches.get(2) ?? []).flatMap((b) => b.outputs).filter((o) => o.type === 'restore' || o.type === 'committed');
    const restoreAt = outs.findIndex((o) => o.type === 'restore');
    assert.ok(restoreAt >= 0);
    const restore = outs[restoreAt];
    assert.ok(restore?.type === 'restore' && restore.snapshot.includes('x4'));
  });
});
