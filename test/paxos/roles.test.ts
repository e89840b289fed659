// Single-decree Paxos roles, one group per rule of "Paxos Made Simple" §2.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { EffectsBuilder } from '../../src/core/effects.js';
import { Ballot, compareBallots, nextBallot } from '../../src/paxos/ballot.js';
import { Acceptor } from '../../src/paxos/acceptor.js';
import { Proposer } from '../../src/paxos/proposer.js';
import { Learner } from '../../src/paxos/learner.js';
import { makeQuorums, QuorumConfigError } from '../../src/paxos/quorums.js';
import type { SynodMessage, SynodWrite } from '../../src/paxos/messages.js';

type V = string;
const fx = () => new EffectsBuilder<SynodWrite<V>, SynodMessage<V>, never>();
const n = (i: number) => NodeId(i);
const b = (round: number, node: number) => Ballot(round, n(node));
const three = [n(1), n(2), n(3)];
const five = [n(1), n(2), n(3), n(4), n(5)];

describe('ballots (§2.2 proposal numbers)', () => {
  test('ordered by round, then node id; unique per node', () => {
    assert.ok(compareBallots(b(1, 3), b(2, 1)) < 0);
    assert.ok(compareBallots(b(2, 1), b(2, 2)) < 0);
    assert.equal(compareBallots(b(2, 2), b(2, 2)), 0);
    assert.ok(compareBallots(null, b(0, 0)) < 0);
  });
  test('the next ballot is above the own round and everything seen', () => {
    assert.deepEqual(nextBallot(n(1), 4, b(7, 3)), b(8, 1));
    assert.deepEqual(nextBallot(n(1), 9, b(7, 3)), b(10, 1));
  });
  test('a negative round is refused', () => {
    assert.throws(() => Ballot(-1, n(1)), RangeError);
  });
});

describe('acceptor (§2.2 P1a)', () => {
  test('promises a higher ballot, durably before the promise leaves', () => {
    const a = new Acceptor<V>();
    const out = fx();
    a.onPrepare(n(2), b(1, 2), out);
    const e = out.take();
    assert.deepEqual(e.persist, [{ type: 'promise', ballot: b(1, 2) }]);
    assert.deepEqual(e.sendNow, []);
    assert.deepEqual(e.sendAfterPersist, [{ to: n(2), msg: { type: 'promise', ballot: b(1, 2), accepted: null } }]);
  });
  test('refuses a lower prepare with a nack naming the promise', () => {
    const a = new Acceptor<V>(undefined, { promised: b(5, 3), accepted: null });
    const out = fx();
    a.onPrepare(n(1), b(4, 1), out);
    assert.deepEqual(out.take().sendNow, [{ to: n(1), msg: { type: 'nack', ballot: b(4, 1), promised: b(5, 3) } }]);
  });
  test('refuses an accept below its promise', () => {
    const a = new Acceptor<V>(undefined, { promised: b(5, 3), accepted: null });
    const out = fx();
    a.onAccept(n(1), b(4, 1), 'x', three, out);
    const e = out.take();
    assert.equal(e.persist.length, 0);
    assert.equal(e.sendNow[0]?.msg.type, 'nack');
    assert.equal(a.accepted, null);
  });
  test('accepts at its promise, persists, and tells the proposer and every learner', () => {
    const a = new Acceptor<V>(undefined, { promised: b(5, 3), accepted: null });
    const out = fx();
    a.onAccept(n(3), b(5, 3), 'x', three, out);
    const e = out.take();
    assert.deepEqual(e.persist, [{ type: 'accept', ballot: b(5, 3), value: 'x' }]);
    assert.deepEqual(e.sendAfterPersist.map((s) => s.to), three);
    assert.ok(e.sendAfterPersist.every((s) => s.msg.type === 'accepted'));
  });
  test('a promise reports the accepted proposal', () => {
    const a = new Acceptor<V>(undefined, { promised: b(2, 1), accepted: { ballot: b(2, 1), value: 'x' } });
    const out = fx();
    a.onPrepare(n(2), b(3, 2), out);
    assert.deepEqual(out.take().sendAfterPersist[0]?.msg, { type: 'promise', ballot: b(3, 2), accepted: { ballot: b(2, 1), value: 'x' } });
  });
  test('recovers its promise and accepted value from durable writes', () => {
    const a = Acceptor.recover<V>([
      { type: 'promise', ballot: b(1, 1) },
      { type: 'accept', ballot: b(1, 1), value: 'x' },
      { type: 'promise', ballot: b(3, 2) },
    ]);
    assert.deepEqual(a.promised, b(3, 2));
    assert.deepEqual(a.accepted, { ballot: b(1, 1), value: 'x' });
  });
  test('mutant accept-lower-ballot accepts below the promise', () => {
    const a = new Acceptor<V>({ acceptLowerBallot: true, forgetPromise: false }, { promised: b(5, 3), accepted: null });
    a.onAccept(n(1), b(4, 1), 'x', three, fx());
    assert.deepEqual(a.accepted, { ballot: b(4, 1), value: 'x' });
  });
  test('mutant forget-promise sends the promise without a durable write', () => {
    const a = new Acceptor<V>({ acceptLowerBallot: false, forgetPromise: true });
    const out = fx();
    a.onPrepare(n(2), b(1, 2), out);
    const e = out.take();
    assert.equal(e.persist.length, 0);
    assert.equal(e.sendAfterPersist.length, 1);
    assert.equal(Acceptor.recover<V>(e.persist).promised, null);
  });
});

describe('proposer (§2.2 P2c)', () => {
  const q = makeQuorums(3);
  test('persists its round before the prepares leave', () => {
    const p = new Proposer<V>(n(1), three, q);
    const out = fx();
    p.startRound(out);
    const e = out.take();
    assert.deepEqual(e.persist, [{ type: 'round', round: 1 }]);
    assert.equal(e.sendNow.length, 0);
    assert.deepEqual(e.sendAfterPersist.map((s) => s.msg), three.map(() => ({ type: 'prepare', ballot: b(1, 1) })));
  });
  test('ballots after a restart are higher than every ballot used before', () => {
    const p = new Proposer<V>(n(1), three, q);
    const out = fx();
    p.startRound(out);
    p.startRound(out);
    const writes = out.take().persist;
    const again = new Proposer<V>(n(1), three, q, false, Proposer.persistedRound(writes));
    const b2 = again.startRound(fx());
    assert.ok(compareBallots(b2, b(2, 1)) > 0, `got ${JSON.stringify(b2)}`);
  });
  test('adopts the value of the highest-ballot accepted proposal reported', () => {
    const p = new Proposer<V>(n(1), three, q);
    p.setValue('mine');
    const out = fx();
    const ballot = p.startRound(out);
    out.take();
    p.onPromise(n(2), ballot, { ballot: b(0, 3), value: 'old' }, out);
    p.onPromise(n(3), ballot, { ballot: b(0, 2), value: 'older' }, out);
    const e = out.take();
    assert.equal(p.phase, 'phase2');
    assert.deepEqual(e.sendAfterPersist.map((s) => s.msg), three.map(() => ({ type: 'accept', ballot, value: 'old' })));
  });
  test('proposes its own value when the quorum reports nothing accepted', () => {
    const p = new Proposer<V>(n(1), three, q);
    p.setValue('mine');
    const out = fx();
    const ballot = p.startRound(out);
    p.onPromise(n(1), ballot, null, out);
    p.onPromise(n(2), ballot, null, out);
    assert.equal(p.proposed, 'mine');
  });
  test('mutant ignore-accepted-value proposes its own value', () => {
    const p = new Proposer<V>(n(1), three, q, true);
    p.setValue('mine');
    const out = fx();
    const ballot = p.startRound(out);
    p.onPromise(n(2), ballot, { ballot: b(0, 3), value: 'old' }, out);
    p.onPromise(n(3), ballot, null, out);
    assert.equal(p.proposed, 'mine');
  });
  test('ignores promises for another ballot and from non-acceptors', () => {
    const p = new Proposer<V>(n(1), three, q);
    p.setValue('mine');
    const out = fx();
    const ballot = p.startRound(out);
    p.onPromise(n(2), b(0, 2), null, out);
    p.onPromise(n(9), ballot, null, out);
    p.onPromise(n(2), ballot, null, out);
    assert.equal(p.phase, 'phase1');
  });
  test('a nack ends the attempt and the next ballot jumps above the promise', () => {
    const p = new Proposer<V>(n(1), three, q);
    p.setValue('mine');
    const ballot = p.startRound(fx());
    assert.equal(p.onNack(ballot, b(9, 3)), true);
    assert.equal(p.phase, 'idle');
    assert.deepEqual(p.startRound(fx()), b(10, 1));
    assert.equal(p.onNack(ballot, b(9, 3)), false, 'a stale nack does not end the new attempt');
  });
});

describe('learner (§2.3)', () => {
  test('learns when a phase-2 quorum accepted the same ballot', () => {
    const l = new Learner<V>(three, makeQuorums(3));
    assert.equal(l.onAccepted(n(1), b(1, 1), 'x'), null);
    assert.deepEqual(l.onAccepted(n(2), b(1, 1), 'x'), { value: 'x' });
  });
  test('does not count one value accepted under two ballots together', () => {
    const l = new Learner<V>(three, makeQuorums(3));
    assert.equal(l.onAccepted(n(1), b(1, 1), 'x'), null);
    assert.equal(l.onAccepted(n(2), b(2, 2), 'x'), null);
    assert.equal(l.chosen, null);
    assert.deepEqual(l.onAccepted(n(3), b(2, 2), 'x'), { value: 'x' });
  });
  test('counting across ballots would learn a value never chosen (five acceptors)', () => {
    // b1: x at A1; b2: y at A2, A3; b3 (phase 1 saw b1's x): x at A4, A5. No ballot has 3,
    // yet x was accepted by 3 acceptors. b4 (phase 1 at A1, A2, A3) then chooses y.
    const seq: [number, Ballot, V][] = [[1, b(1, 1), 'x'], [2, b(2, 2), 'y'], [3, b(2, 2), 'y'], [4, b(3, 3), 'x'], [5, b(3, 3), 'x']];
    const right = new Learner<V>(five, makeQuorums(5));
    const mutant = new Learner<V>(five, makeQuorums(5), true);
    for (const [from, ballot, v] of seq) {
      right.onAccepted(n(from), ballot, v);
      mutant.onAccepted(n(from), ballot, v);
    }
    assert.equal(right.chosen, null);
    assert.deepEqual(mutant.chosen, { value: 'x' });
    for (const from of [1, 2, 3]) right.onAccepted(n(from), b(4, 4), 'y');
    assert.deepEqual(right.chosen, { value: 'y' });
  });
  test('ignores acceptances from non-members', () => {
    const l = new Learner<V>(three, makeQuorums(3));
    l.onAccepted(n(7), b(1, 1), 'x');
    l.onAccepted(n(8), b(1, 1), 'x');
    assert.equal(l.chosen, null);
  });
});

describe('flexible quorums (Howard, Malkhi, Spiegelman 2016)', () => {
  test('majorities by default', () => {
    assert.deepEqual(makeQuorums(5), { acceptors: 5, phase1: 3, phase2: 3 });
  });
  test('a small phase-2 quorum with a large phase-1 quorum is accepted', () => {
    assert.deepEqual(makeQuorums(5, { phase1: 4, phase2: 2 }), { acceptors: 5, phase1: 4, phase2: 2 });
    assert.deepEqual(makeQuorums(4, { phase1: 3, phase2: 2 }), { acceptors: 4, phase1: 3, phase2: 2 });
  });
  test('|Q1| + |Q2| <= N is refused with a typed error', () => {
    assert.throws(() => makeQuorums(5, { phase1: 3, phase2: 2 }), (e: unknown) => e instanceof QuorumConfigError && e.code === 'quorums-do-not-intersect' && /3 \+ 2 <= 5/.test(e.message));
    assert.throws(() => makeQuorums(4, { phase1: 2, phase2: 2 }), QuorumConfigError);
  });
  test('sizes out of range are refused', () => {
    assert.throws(() => makeQuorums(3, { phase1: 4 }), (e: unknown) => e instanceof QuorumConfigError && e.code === 'quorum-out-of-range');
    assert.throws(() => makeQuorums(3, { phase2: 0 }), QuorumConfigError);
    assert.throws(() => makeQuorums(0), (e: unknown) => e instanceof QuorumConfigError && e.code === 'no-acceptors');
  });
  test('a learner with a phase-2 quorum of 2 out of 5 learns from two acceptors', () => {
    const l = new Learner<V>(five, makeQuorums(5, { phase1: 4, phase2: 2 }));
    l.onAccepted(n(4), b(1, 1), 'x');
    assert.deepEqual(l.onAccepted(n(5), b(1, 1), 'x'), { value: 'x' });
  });
});
