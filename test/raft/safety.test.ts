// Raft §5.4 safety (election restriction, Figure 8's commit hazard), §5.5
// crashes and recovery from durable writes, and the mutants that break them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId, Term, LogIndex } from '../../src/core/ids.js';
import { Net, ids, syntheticDisk, type InFlight, type Msg } from './harness.js';

/**
 * Figure 8 from state (c): S1 leads term 4 with its term-2 entry at index 2
 * (on S1, S2), S5 holds a term-3 entry at index 2 and is down. S1 copies
 * index 2 to S3 (now on a majority) but its own no-op at 3 reaches nobody.
 */
function figure8(mutants: string[]): Net {
  const members = ids(1, 2, 3, 4, 5);
  const net = new Net(members, { preVote: false, checkQuorum: false, maxEntriesPerMsg: 1, mutants: new Set(mutants) });
  net.start(1, syntheticDisk(members, [1, 2], 3));
  net.start(2, syntheticDisk(members, [1, 2], 3));
  net.start(3, syntheticDisk(members, [1], 3));
  net.start(4, syntheticDisk(members, [1], 3));
  net.start(5, syntheticDisk(members, [1, 3], 3));
  net.crash(5);
  // S4 hears nothing; the no-op at 3 is cut out of every AppendEntries.
  net.drop = (m: InFlight): boolean => m.from === 1 && m.to === 4;
  net.rewrite = (m: InFlight): Msg => (m.msg.type === 'AppendEntries' && m.from === 1 ? { ...m.msg, entries: m.msg.entries.filter((e) => e.index < 3) } : m.msg);
  net.elect(1);
  assert.equal(net.node(1).status().term, 4);
  net.tickAll(3);
  assert.deepEqual(net.logTerms(3), [1, 2]);
  return net;
}

describe('Raft §5.4.2 committing entries from previous terms (Figure 8)', () => {
  test('a leader does not commit an earlier term entry by counting replicas', () => {
    const net = figure8([]);
    assert.equal(net.node(1).status().commitIndex, 1, 'index 2 (term 2) is on a majority but not committed');
    // (d): S1 crashes; S5 is elected with votes of S2, S3, S4 and overwrites index 2.
    net.crash(1);
    net.drop = (): boolean => false;
    net.rewrite = (m): Msg => m.msg;
    net.restart(5);
    net.elect(5);
    net.tickAll(3);
    for (const id of [2, 3, 4, 5]) assert.equal(net.applied(id)[2], 't3i2', `node ${id}`);
  });

  test('once an entry of the current term is on a majority, the earlier entries commit with it', () => {
    const net = figure8([]);
    net.drop = (): boolean => false;
    net.rewrite = (m): Msg => m.msg;
    net.tickAll(3);
    for (const id of [1, 2, 3, 4]) assert.equal(net.applied(id)[2], 't2i2');
  });

  test("mutant 'commit-old-term' commits it and State Machine Safety breaks", () => {
    const net = figure8(['commit-old-term']);
    assert.equal(net.node(1).status().commitIndex, 2);
    assert.equal(net.applied(1)[2], 't2i2');
    net.crash(1);
    net.drop = (): boolean => false;
    net.rewrite = (m): Msg => m.msg;
    net.restart(5);
    assert.throws(() => {
      net.elect(5);
      net.tickAll(3);
    }, /State Machine Safety/);
  });
});

describe('Raft §5.4.3 / Figure 2 persistence', () => {
  test('a restarted node remembers its vote and does not vote twice in a term', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false, checkQuorum: false });
    const vote = { type: 'RequestVote' as const, term: Term(2), lastLogIndex: LogIndex(1), lastLogTerm: Term(1), transfer: false };
    net.node(3).step(NodeId(1), vote);
    net.flush(3);
    net.crash(3);
    net.restart(3);
    net.node(3).step(NodeId(2), vote);
    net.flush(3);
    const last = net.batches.get(3)?.at(-1)?.sendAfterPersist[0]?.msg;
    assert.ok(last?.type === 'RequestVoteResponse' && !last.granted);
  });

  test("mutant 'forget-vote': the restarted node votes again in the same term", () => {
    const net = new Net(ids(1, 2, 3), { preVote: false, checkQuorum: false, mutants: new Set(['forget-vote']) });
    const vote = { type: 'RequestVote' as const, term: Term(2), lastLogIndex: LogIndex(1), lastLogTerm: Term(1), transfer: false };
    net.node(3).step(NodeId(1), vote);
    net.flush(3);
    net.crash(3);
    net.restart(3);
    net.node(3).step(NodeId(2), vote);
    net.flush(3);
    const last = net.batches.get(3)?.at(-1)?.sendAfterPersist[0]?.msg;
    assert.ok(last?.type === 'RequestVoteResponse' && last.granted);
  });

  test("mutant 'double-vote' grants two votes in one term", () => {
    const net = new Net(ids(1, 2, 3), { preVote: false, mutants: new Set(['double-vote']) });
    const vote = { type: 'RequestVote' as const, term: Term(2), lastLogIndex: LogIndex(1), lastLogTerm: Term(1), transfer: false };
    net.node(3).step(NodeId(1), vote);
    net.node(3).step(NodeId(2), vote);
    net.flush(3);
    const granted = net.queue.filter((m) => m.from === 3 && m.msg.type === 'RequestVoteResponse' && m.msg.granted);
    assert.equal(granted.length, 2);
  });

  test("mutant 'skip-log-check' accepts entries after a mismatched predecessor", () => {
    const members = ids(1, 2, 3);
    const net = new Net(members, { mutants: new Set(['skip-log-check']) });
    net.start(2, syntheticDisk(members, [1, 2], 3));
    const entries = [{ type: 'command' as const, index: LogIndex(3), term: Term(3), bytes: 20, command: 'x' }];
    net.node(2).step(NodeId(1), { type: 'AppendEntries', term: Term(3), prevLogIndex: LogIndex(2), prevLogTerm: Term(3), entries, leaderCommit: LogIndex(1) });
    net.flush(2);
    assert.deepEqual(net.logTerms(2), [1, 2, 3], 'a log no leader ever had (Log Matching broken)');
  });
});

describe('Raft §5.5 follower and candidate crashes', () => {
  test('a crashed follower recovers its log from its durable writes and catches up', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    net.crash(3);
    net.propose(1, 'b');
    net.deliver();
    const n3 = net.restart(3);
    // The commit index is volatile (Figure 2): a restarted node applies at most what its writes say was committed.
    assert.ok(['a'].slice(0, net.commands(3).length).join() === net.commands(3).join(), 'applies a prefix of what was committed');
    assert.ok(n3.status().lastIndex >= 3);
    net.tickAll(3);
    assert.deepEqual(net.commands(3), ['a', 'b']);
  });

  test('a crashed leader is replaced, and its uncommitted entry is overwritten or kept safely', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    net.isolate(1);
    net.node(1).propose('lost');
    net.flush(1);
    net.crash(1);
    net.heal();
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll();
    const leader = net.leaders()[0];
    assert.ok(leader === 2 || leader === 3);
    net.propose(leader, 'c');
    net.deliver();
    net.restart(1);
    net.tickAll(5);
    for (const id of [1, 2, 3]) assert.deepEqual(net.commands(id), ['a', 'c']);
  });

  test('recovery replays conflicting suffix replacements in order', () => {
    const members = ids(1, 2, 3);
    const disk = syntheticDisk(members, [1, 2, 2, 2], 3);
    const replacement = { type: 'entries' as const, entries: [{ type: 'command' as const, index: LogIndex(3), term: Term(3), bytes: 20, command: 'r' }] };
    const net = new Net(members);
    net.start(2, [...disk, replacement]);
    assert.deepEqual(net.logTerms(2), [1, 2, 3]);
  });

  test('recover() with no writes equals create()', () => {
    const net = new Net(ids(1, 2, 3));
    net.start(2, []);
    assert.deepEqual(net.logTerms(2), [1]);
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    net.tickAll(2);
    assert.deepEqual(net.commands(2), ['a']);
  });
});
