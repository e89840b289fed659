// Raft §5.3 log replication: the consistency check, conflict resolution,
// Figure 7, fast back-off, batching, pipelining and the limits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex, NodeId, Term } from '../../src/core/ids.js';
import { Net, ids, syntheticDisk, type Msg } from './harness.js';

describe('Raft §5.3 log replication', () => {
  test('a proposal is replicated, committed and applied in order on every node', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    for (const c of ['a', 'b', 'c']) net.propose(1, c);
    net.deliver();
    net.tickAll(2);
    for (const id of [1, 2, 3]) assert.deepEqual(net.commands(id), ['a', 'b', 'c']);
  });

  test('a new leader appends a no-op of its term (Raft §8)', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(2);
    const terms = net.logTerms(2);
    assert.equal(terms.length, 2);
    assert.equal(terms[1], net.node(2).status().term);
  });

  test('AppendEntries consistency check: a follower refuses entries whose predecessor it lacks', () => {
    const net = new Net(ids(1, 2, 3));
    const n2 = net.node(2);
    n2.step(NodeId(1), { type: 'AppendEntries', term: Term(2), prevLogIndex: LogIndex(5), prevLogTerm: Term(2), entries: [], leaderCommit: LogIndex(1) });
    n2.step(NodeId(1), { type: 'AppendEntries', term: Term(2), prevLogIndex: LogIndex(1), prevLogTerm: Term(2), entries: [], leaderCommit: LogIndex(1) });
    net.flush(2);
    const answers = net.queue.filter((m) => m.from === 2).map((m) => m.msg);
    assert.deepEqual(answers[0], { type: 'AppendEntriesResponse', term: 2, success: false, index: 5, conflictTerm: 0, conflictIndex: 2 });
    // Index 1 exists with term 1: the follower names its term and where that term starts.
    assert.deepEqual(answers[1], { type: 'AppendEntriesResponse', term: 2, success: false, index: 1, conflictTerm: 1, conflictIndex: 1 });
    assert.equal(n2.status().lastIndex, 1);
  });

  test('a follower deletes a conflicting suffix and appends the leader entries', () => {
    const members = ids(1, 2, 3);
    const net = new Net(members);
    net.start(2, syntheticDisk(members, [1, 2, 2, 2], 3));
    const entries = [2, 3].map((k) => ({ type: 'command' as const, index: LogIndex(k + 1), term: Term(3), bytes: 20, command: `n${k}` }));
    net.node(2).step(NodeId(1), { type: 'AppendEntries', term: Term(3), prevLogIndex: LogIndex(2), prevLogTerm: Term(2), entries, leaderCommit: LogIndex(1) });
    net.flush(2);
    assert.deepEqual(net.logTerms(2), [1, 2, 3, 3]);
    const w = net.disks.get(2)?.filter((x) => x.type === 'entries').at(-1);
    assert.ok(w !== undefined && w.type === 'entries' && w.entries[0]?.index === 3, 'the replacing entries are persisted from the conflict on');
  });

  test('an AppendEntries acknowledgement leaves only after the entries are durable', () => {
    const net = new Net(ids(1, 2, 3));
    const entries = [{ type: 'command' as const, index: LogIndex(2), term: Term(2), bytes: 20, command: 'x' }];
    net.node(2).step(NodeId(1), { type: 'AppendEntries', term: Term(2), prevLogIndex: LogIndex(1), prevLogTerm: Term(1), entries, leaderCommit: LogIndex(1) });
    const fx = net.node(2).ready();
    assert.ok(fx !== null);
    assert.deepEqual(fx.persist.map((w) => w.type), ['entries', 'hard-state']);
    assert.equal(fx.sendNow.length, 0);
    assert.equal(fx.sendAfterPersist[0]?.msg.type, 'AppendEntriesResponse');
    net.node(2).advance();
  });

  test('the leader sends AppendEntries before its own write (thesis §10.2.1)', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    const n1 = net.node(1);
    n1.propose('p');
    const fx = n1.ready();
    assert.ok(fx !== null);
    assert.ok(fx.sendNow.some((e) => e.msg.type === 'AppendEntries' && e.msg.entries.length === 1));
    assert.equal(fx.persist[0]?.type, 'entries');
    n1.advance();
  });

  test('a leader counts its own entries toward commit only once durable (after advance)', () => {
    const net = new Net(ids(1));
    net.elect(1);
    const n1 = net.node(1);
    const commit = n1.status().commitIndex;
    n1.propose('p');
    const fx = n1.ready();
    assert.ok(fx !== null && fx.outputs.every((o) => o.type !== 'committed'));
    assert.equal(n1.status().commitIndex, commit);
    n1.advance();
    assert.equal(n1.status().commitIndex, commit + 1);
    const fx2 = n1.ready();
    assert.ok(fx2 !== null && fx2.outputs.some((o) => o.type === 'committed' && o.entries[0]?.command === 'p'));
    n1.advance();
  });

  test('Figure 7: followers (a)-(f) are brought in line with the leader', () => {
    // Leader for term 8: terms of indexes 1..10 (index 1 is the bootstrap entry of term 1).
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    for (const [name, log] of Object.entries(followers)) {
      const members = ids(1, 2, 3);
      const net = new Net(members, { preVote: false });
      net.start(1, syntheticDisk(members, leaderLog, 7));
      net.start(2, syntheticDisk(members, log, 7));
      net.start(3, syntheticDisk(members, leaderLog, 7));
      net.elect(1);
      assert.equal(net.node(1).status().term, 8);
      net.tickAll(3);
      assert.deepEqual(net.logTerms(2), [...leaderLog, 8], `follower (${name})`);
      assert.equal(net.node(2).status().commitIndex, 11, `follower (${name}) commit`);
    }
  });

  test('fast back-off skips a whole conflicting term per round trip', () => {
    const members = ids(1, 2, 3);
    const net = new Net(members, { preVote: false });
    const long = [1, ...Array.from({ length: 50 }, () => 2)];
    net.start(1, syntheticDisk(members, [1, 3, 3], 3));
    net.start(2, syntheticDisk(members, long, 3));
    net.start(3, syntheticDisk(members, [1, 3, 3], 3));
    net.cutLink(1, 3);
    net.elect(1); // with 2's vote: its log (last term 2) is behind
    net.tickAll(3);
    assert.deepEqual(net.logTerms(2), [1, 3, 3, 4]);
    // Count refusals 2 sent: one per conflicting term, not one per entry.
    const refusals = (net.batches.get(2) ?? []).flatMap((b) => b.sendAfterPersist).filter((e) => e.msg.type === 'AppendEntriesResponse' && !e.msg.success);
    assert.ok(refusals.length <= 3, `${refusals.length} refusals`);
  });

  test('proposals between two ready() calls go out as one AppendEntries per follower', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    const n1 = net.node(1);
    for (let i = 0; i < 50; i++) assert.deepEqual(n1.propose(`c${i}`), { ok: true });
    const fx = n1.ready();
    assert.ok(fx !== null);
    const appends = fx.sendNow.filter((e) => e.msg.type === 'AppendEntries');
    assert.equal(appends.length, 2);
    for (const a of appends) assert.equal(a.msg.type === 'AppendEntries' && a.msg.entries.length, 50);
    n1.advance();
  });

  test('replicate state pipelines AppendEntries up to the in-flight window, then waits', () => {
    const net = new Net(ids(1, 2, 3), { maxInflightMsgs: 3, maxEntriesPerMsg: 1 });
    net.elect(1);
    net.tickAll(2);
    net.queue = [];
    for (let i = 0; i < 10; i++) net.node(1).propose(`c${i}`);
    net.flush(1);
    const toTwo = net.queue.filter((m) => m.to === 2 && m.msg.type === 'AppendEntries');
    assert.equal(toTwo.length, 3, 'window of 3 messages');
    net.deliver();
    net.tickAll(3);
    assert.equal(net.commands(2).length, 10, 'acks open the window until all are sent');
  });

  test('AppendEntries carry at most maxSizePerMsg bytes (at least one entry)', () => {
    const net = new Net(ids(1, 2, 3), { maxSizePerMsg: 100, commandBytes: (c) => c.length });
    net.elect(1);
    net.tickAll(2);
    net.queue = [];
    for (let i = 0; i < 10; i++) net.node(1).propose('x'.repeat(30));
    net.flush(1);
    const sizes = net.queue.filter((m) => m.to === 2 && m.msg.type === 'AppendEntries').map((m) => (m.msg.type === 'AppendEntries' ? m.msg.entries.length : 0));
    assert.ok(sizes.every((n) => n >= 1 && n <= 2), `entries per message ${sizes.join(',')}`);
    net.deliver();
    net.tickAll(3);
    assert.equal(net.commands(3).length, 10);
  });

  test('a proposal beyond maxUncommittedBytes is refused as overloaded, then accepted once committed', () => {
    const net = new Net(ids(1, 2, 3), { maxUncommittedBytes: 200, commandBytes: (c) => c.length });
    net.elect(1);
    net.tickAll(2);
    net.isolate(1);
    const results = Array.from({ length: 10 }, () => net.node(1).propose('y'.repeat(40)));
    assert.ok(results.some((r) => !r.ok && r.reason === 'overloaded'));
    net.flush(1);
    net.heal();
    net.tickAll(3);
    assert.deepEqual(net.node(1).propose('z'), { ok: true });
  });

  test('a follower refuses proposals and names the leader', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    assert.deepEqual(net.node(2).propose('q'), { ok: false, reason: 'not-leader', leader: 1 });
  });

  test('lost AppendEntries are repaired by the heartbeat-driven probe', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.tickAll(2);
    net.drop = (m): boolean => m.to === 3 && m.msg.type === 'AppendEntries';
    for (let i = 0; i < 5; i++) net.propose(1, `v${i}`);
    net.deliver();
    net.drop = (): boolean => false;
    net.tickAll(5);
    assert.equal(net.commands(3).length, 5);
  });

  test('stale reordered refusals do not move a follower backwards', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    for (let i = 0; i < 3; i++) net.propose(1, `v${i}`);
    net.deliver();
    const stale: Msg = { type: 'AppendEntriesResponse', term: Term(net.node(1).status().term), success: false, index: LogIndex(1), conflictTerm: Term(0), conflictIndex: LogIndex(1) };
    net.node(1).step(NodeId(2), stale);
    net.flush(1);
    net.deliver();
    net.propose(1, 'after');
    net.deliver();
    net.tickAll(2);
    assert.deepEqual(net.commands(2), ['v0', 'v1', 'v2', 'after']);
  });
});

describe('Raft Figure 2: the commit index is volatile state', () => {
  test('a batch that only advances the commit index writes nothing, so its committed entries need no fsync', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    const commitOnly = (net.batches.get(1) ?? []).filter((b) => b.outputs.some((o) => o.type === 'committed' && o.entries.some((e) => e.command === 'a')));
    assert.equal(commitOnly.length, 1);
    assert.deepEqual(commitOnly[0]?.persist, [], 'committing "a" waits for no write');
    // The commit index is written with the next batch that writes anyway.
    net.propose(1, 'b');
    const next = (net.batches.get(1) ?? []).at(-1);
    const hs = next?.persist.find((w) => w.type === 'hard-state');
    assert.ok(hs !== undefined && hs.type === 'hard-state' && hs.commit >= 3, `hard state written with the next entries: ${JSON.stringify(hs)}`);
  });
});
