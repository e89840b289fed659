// Flow control units (etcd-io/raft's tracker): the in-flight window and the
// probe / replicate / snapshot states of a follower's progress.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex } from '../../src/core/ids.js';
import { Inflights, Progress } from '../../src/raft/progress.js';
import { AssertionError } from '../../src/core/assert.js';

describe('Inflights', () => {
  test('fills by messages and by bytes, frees by acknowledged index', () => {
    const w = new Inflights(3, 100);
    w.add(5, 10);
    w.add(9, 10);
    assert.equal(w.full, false);
    w.add(12, 10);
    assert.equal(w.full, true);
    assert.throws(() => w.add(13, 1), AssertionError);
    w.freeTo(9);
    assert.equal(w.count, 1);
    assert.equal(w.bytes, 10);
    const b = new Inflights(10, 25);
    b.add(1, 20);
    b.add(2, 20);
    assert.equal(b.full, true, 'byte limit');
    b.freeFirst();
    assert.equal(b.full, false);
  });

  test('refuses out-of-order additions', () => {
    const w = new Inflights(4, 0);
    w.add(5, 1);
    assert.throws(() => w.add(5, 1), AssertionError);
  });
});

describe('Progress', () => {
  test('probe sends one message at a time; an acknowledgement moves it to replicate', () => {
    const p = new Progress(LogIndex(11), 4, 0);
    assert.equal(p.paused, false);
    p.sentEntries(LogIndex(12), 2, 10);
    assert.equal(p.paused, true);
    assert.equal(p.maybeUpdate(LogIndex(12)), true);
    p.becomeReplicate();
    assert.equal(p.next, 13);
    for (let i = 0; i < 4; i++) p.sentEntries(LogIndex(13 + i), 1, 1);
    assert.equal(p.paused, true, 'window of 4');
    assert.equal(p.next, 17);
  });

  test('after a snapshot, probing resumes right after the snapshot', () => {
    const p = new Progress(LogIndex(3), 4, 0);
    p.becomeSnapshot(LogIndex(50));
    assert.equal(p.paused, true);
    p.maybeUpdate(LogIndex(50));
    p.becomeProbe();
    assert.equal(p.state, 'probe');
    assert.equal(p.next, 51);
  });
});
