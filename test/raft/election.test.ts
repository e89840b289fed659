// Raft §5.1 (terms), §5.2 (leader election), thesis §9.6 (PreVote) and §6.2 (CheckQuorum).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex, NodeId, Term } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { RaftNode } from '../../src/raft/index.js';
import { Net, ids, type Msg } from './harness.js';

describe('Raft §5.1 terms', () => {
  test('a node that sees a higher term adopts it and becomes follower', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    const n2 = net.node(2);
    n2.step(NodeId(3), { type: 'Heartbeat', term: Term(9), commit: LogIndex(0), readRound: 0 });
    net.flush(2);
    assert.equal(n2.status().term, 9);
    assert.equal(n2.status().leader, 3);
    // The leader learns of term 9 from any message and steps down.
    net.node(1).step(NodeId(2), { type: 'AppendEntriesResponse', term: Term(9), success: false, index: LogIndex(0), conflictTerm: Term(0), conflictIndex: LogIndex(0) });
    net.flush(1);
    assert.equal(net.node(1).status().role, 'follower');
    assert.equal(net.node(1).status().term, 9);
  });

  test('a message of an older term is refused, and a stale leader is told the new term', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    const term = net.node(1).status().term;
    net.node(2).step(NodeId(3), { type: 'Heartbeat', term: Term(term + 5), commit: LogIndex(0), readRound: 0 });
    net.flush(2);
    net.queue = [];
    net.node(2).step(NodeId(1), { type: 'AppendEntries', term: Term(term), prevLogIndex: LogIndex(0), prevLogTerm: Term(0), entries: [], leaderCommit: LogIndex(0) });
    net.flush(2);
    const answer = net.queue.find((m) => m.from === 2 && m.to === 1);
    assert.ok(answer !== undefined && answer.msg.type === 'AppendEntriesResponse' && answer.msg.term === term + 5 && !answer.msg.success);
  });
});

describe('Raft §5.2 leader election', () => {
  test('a follower that hears nothing times out and is elected by a majority', () => {
    const net = new Net(ids(1, 2, 3, 4, 5));
    net.elect(3);
    assert.deepEqual(net.leaders(), [3]);
    for (const id of [1, 2, 4, 5]) {
      assert.equal(net.node(id).status().leader, 3);
      assert.equal(net.node(id).status().term, net.node(3).status().term);
    }
    assert.equal(net.eventsOf('election-won').length, 1);
  });

  test('election timeouts are randomized in [T, 2T) ticks', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const n = RaftNode.create<string, null>({ id: NodeId(1), peers: [NodeId(1), NodeId(2), NodeId(3)], rng: new Prng(seed), electionTimeoutTicks: 10, preVote: false });
      n.ready();
      n.advance();
      let ticks = 0;
      while (n.status().role === 'follower') {
        n.tick();
        ticks++;
      }
      assert.ok(ticks >= 10 && ticks < 20, `timeout ${ticks}`);
      seen.add(ticks);
    }
    assert.ok(seen.size >= 5, 'timeouts vary');
  });

  test('each node grants at most one vote per term, first come first served', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false });
    const n3 = net.node(3);
    const vote = (_from: number): Msg => ({ type: 'RequestVote', term: Term(2), lastLogIndex: LogIndex(1), lastLogTerm: Term(1), transfer: false });
    n3.step(NodeId(1), vote(1));
    n3.step(NodeId(2), vote(2));
    n3.step(NodeId(1), vote(1)); // a retry by the same candidate is granted again
    net.flush(3);
    const answers = net.queue.filter((m) => m.from === 3).map((m) => [m.to, m.msg.type === 'RequestVoteResponse' && m.msg.granted]);
    assert.deepEqual(answers, [[1, true], [2, false], [1, true]]);
  });

  test('the vote and term are durable before the vote response leaves', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false });
    net.node(3).step(NodeId(1), { type: 'RequestVote', term: Term(2), lastLogIndex: LogIndex(1), lastLogTerm: Term(1), transfer: false });
    const fx = net.node(3).ready();
    assert.ok(fx !== null);
    assert.equal(fx.sendNow.length, 0);
    assert.deepEqual(fx.persist, [{ type: 'hard-state', term: 2, vote: 1, commit: 1 }]);
    assert.equal(fx.sendAfterPersist[0]?.msg.type, 'RequestVoteResponse');
    net.node(3).advance();
  });

  test('a candidate that hears from a leader of its term becomes follower', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false });
    net.tick(2, 25); // 2 campaigns, messages not delivered
    assert.equal(net.node(2).status().role, 'candidate');
    const term = net.node(2).status().term;
    net.queue = [];
    net.node(2).step(NodeId(1), { type: 'AppendEntries', term: Term(term), prevLogIndex: LogIndex(1), prevLogTerm: Term(1), entries: [], leaderCommit: LogIndex(1) });
    net.flush(2);
    assert.equal(net.node(2).status().role, 'follower');
    assert.equal(net.node(2).status().leader, 1);
  });

  test('split votes are resolved by new elections with new random timeouts', () => {
    const net = new Net(ids(1, 2, 3, 4), { preVote: false }, 7);
    // 1 and 2 campaign at once; 3 votes for 1, 4 for 2: nobody has 3 of 4.
    net.tick(1, 20);
    net.tick(2, 20);
    assert.equal(net.node(1).status().role, 'candidate');
    assert.equal(net.node(2).status().role, 'candidate');
    net.deliverOne((m) => m.from === 1 && m.to === 3);
    net.deliverOne((m) => m.from === 2 && m.to === 4);
    net.deliver();
    assert.deepEqual(net.leaders(), []);
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll();
    assert.equal(net.leaders().length, 1);
  });

  test('Raft §5.4.1: a voter refuses a candidate whose log is less up-to-date', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false, checkQuorum: false });
    net.elect(1);
    net.propose(1, 'x');
    net.deliver();
    net.crash(1);
    const n2 = net.node(2);
    const last = n2.status().lastIndex;
    const term = n2.status().term;
    n2.step(NodeId(3), { type: 'RequestVote', term: Term(term + 1), lastLogIndex: LogIndex(last - 1), lastLogTerm: Term(term), transfer: false });
    n2.step(NodeId(3), { type: 'RequestVote', term: Term(term + 1), lastLogIndex: LogIndex(last + 5), lastLogTerm: Term(term - 1), transfer: false });
    net.flush(2);
    const answers = net.queue.filter((m) => m.from === 2 && m.msg.type === 'RequestVoteResponse');
    assert.equal(answers.length, 2);
    assert.ok(answers.every((a) => a.msg.type === 'RequestVoteResponse' && !a.msg.granted));
  });

  test('a single-voter cluster elects itself', () => {
    const net = new Net(ids(1));
    net.elect(1);
    net.propose(1, 'a');
    net.deliver();
    assert.deepEqual(net.commands(1), ['a']);
  });
});

describe('Thesis §9.6 PreVote', () => {
  test('an isolated node keeps its term while it cannot win', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    const term = net.node(1).status().term;
    net.isolate(3);
    for (let i = 0; i < 100; i++) net.tickAll();
    assert.equal(net.node(3).status().term, term);
    assert.equal(net.node(3).status().role, 'precandidate');
  });

  test('a healed node does not depose a healthy leader', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 100; i++) net.tickAll();
    net.heal();
    for (let i = 0; i < 50; i++) net.tickAll();
    assert.deepEqual(net.leaders(), [1]);
    assert.equal(net.eventsOf('election-won').length, 1);
    assert.equal(net.node(3).status().leader, 1);
  });

  test('without PreVote and CheckQuorum, the healed node disrupts the leader', () => {
    const net = new Net(ids(1, 2, 3), { preVote: false, checkQuorum: false });
    net.elect(1);
    const term = net.node(1).status().term;
    net.isolate(3);
    for (let i = 0; i < 100; i++) net.tickAll();
    assert.ok(net.node(3).status().term > term + 3);
    net.heal();
    for (let i = 0; i < 50; i++) net.tickAll();
    assert.ok(net.node(1).status().term > term, 'the leader was forced into a new term');
  });

  test('a node that lags behind gets no pre-votes, and nobody changes term', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.deliver();
    net.crash(1);
    net.heal();
    const term2 = net.node(2).status().term;
    // 3 times out first, but its log is behind 2's: its PreVote fails.
    net.tick(3, 30);
    net.deliver();
    assert.equal(net.node(2).status().term, term2);
    assert.notEqual(net.node(3).status().role, 'leader');
    net.elect(2);
  });
});

describe('Thesis §6.2 CheckQuorum', () => {
  test('a leader that cannot reach a majority steps down', () => {
    const net = new Net(ids(1, 2, 3, 4, 5));
    net.elect(1);
    net.partition([1, 2], [3, 4, 5]);
    for (let i = 0; i < 25; i++) net.tickAll();
    assert.notEqual(net.node(1).status().role, 'leader');
    assert.ok(net.eventsOf('step-down').some((e) => e.node === 1 && e.detail.reason === 'check-quorum'));
    // The majority side elects its own leader meanwhile.
    for (let i = 0; i < 60 && !net.leaders().some((l) => l >= 3); i++) net.tickAll();
    assert.ok(net.leaders().some((l) => l >= 3));
  });

  test('followers that hear from their leader ignore vote requests (leader stickiness)', () => {
    const net = new Net(ids(1, 2, 3));
    net.elect(1);
    const term = net.node(1).status().term;
    net.node(2).step(NodeId(3), { type: 'RequestVote', term: Term(term + 1), lastLogIndex: LogIndex(100), lastLogTerm: Term(term), transfer: false });
    net.flush(2);
    assert.equal(net.node(2).status().term, term);
    assert.equal(net.queue.filter((m) => m.from === 2 && m.msg.type === 'RequestVoteResponse').length, 0);
  });
});
