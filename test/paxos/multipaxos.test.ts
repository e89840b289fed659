// Multi-Paxos as a replicated log, grouped by the rule each test pins down.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LogIndex, NodeId, Slot } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { compareBallots } from '../../src/paxos/ballot.js';
import { QuorumConfigError } from '../../src/paxos/quorums.js';
import { MultiPaxos } from '../../src/paxos/multi/multipaxos.js';
import { MultiPaxosOptionError } from '../../src/paxos/multi/options.js';
import { paxosInvariants, type PaxosInvariantView } from '../../src/paxos/invariants.js';
import { multiCluster, applied, electLeader, leaderOf, commitIndex, type MultiCluster, type Cmd, type Snap } from './multi-harness.js';

const events = (c: MultiCluster, id: number, kind: string) => c.out(id).flatMap((o) => (o.type === 'event' && o.event.kind === kind ? [o.event] : []));

function proposeAll(c: MultiCluster, leader: number, cmds: readonly string[]) {
  c.act(leader, (n) => {
    for (const x of cmds) assert.deepEqual(n.propose(x), { ok: true });
  });
}

describe('replication (Paxos Made Simple §3)', () => {
  test('a leader is elected and every node applies the same commands in order', () => {
    const c = multiCluster(3, { seed: 4, minDelay: 1, maxDelay: 3 });
    const l = electLeader(c);
    proposeAll(c, l, ['a', 'b', 'c']);
    c.run(30);
    for (const id of [1, 2, 3]) assert.deepEqual(applied(c, id).log, ['a', 'b', 'c']);
    assert.ok(events(c, l, 'leader-change').length > 0);
  });

  test('a follower refuses proposals and names the leader', () => {
    const c = multiCluster(3, { seed: 2 });
    const l = electLeader(c);
    c.run(3);
    const f = c.ids.find((id) => id !== l) as NodeId;
    assert.deepEqual(c.node(f).propose('x'), { ok: false, reason: 'not-leader', leader: l });
  });

  test('proposals are batched into few accept messages and the window bounds slots in flight', () => {
    const c = multiCluster(3, { seed: 3, options: { maxBatch: 16, window: 32, alpha: 32 } });
    const l = electLeader(c);
    c.run(2);
    const before = c.count('accept');
    let maxInFlight = 0;
    c.onDeliver = () => {
      const s = c.node(l).status();
      maxInFlight = Math.max(maxInFlight, s.lastIndex - s.commitIndex);
    };
    proposeAll(c, l, Array.from({ length: 200 }, (_, i) => `c${i}`));
    assert.equal(c.count('accept') - before, 2 * 2, 'the first 32 slots go out in two messages of 16 to each of 2 followers');
    c.run(60);
    assert.equal(applied(c, l).index, 200);
    assert.ok(maxInFlight <= 32, `in flight ${maxInFlight}`);
  });

  test('too many queued proposals are refused as overloaded', () => {
    const c = multiCluster(3, { seed: 3, options: { maxQueue: 5, window: 1, alpha: 1 } });
    const l = electLeader(c);
    c.run(2);
    c.cut = () => true;
    const results = Array.from({ length: 8 }, (_, i) => c.node(l).propose(`c${i}`));
    assert.deepEqual(results.filter((r) => !r.ok), [{ ok: false, reason: 'overloaded' }, { ok: false, reason: 'overloaded' }, { ok: false, reason: 'overloaded' }]);
  });
});

describe('a new leader (phase 1 for all slots)', () => {
  test('re-proposes values reported by promises and fills a gap with a no-op before executing anything', () => {
    const c = multiCluster(3, { seed: 5 });
    const l = electLeader(c);
    c.run(3);
    // Slot 2's accept never leaves the leader; slots 1 and 3 reach the followers.
    c.cut = (_f, _t, m) => m.type === 'accept' && m.entries.some((e) => e.slot === 2);
    for (const x of ['a', 'b', 'c']) proposeAll(c, l, [x]);
    c.run(5);
    assert.equal(commitIndex(c, l), 1);
    c.crash(l);
    c.cut = () => false;
    const l2 = electLeader(c);
    assert.notEqual(l2, l);
    c.run(10);
    assert.deepEqual(applied(c, l2).log, ['a', null, 'c']);
    const change = events(c, l2, 'leader-change').find((e) => e.detail?.['leader'] === l2);
    assert.equal(change?.detail?.['refill'], 2, 'slots 2 (no-op) and 3 (re-proposed) refilled');
    proposeAll(c, l2, ['d']);
    c.run(10);
    for (const id of c.ids.filter((i) => i !== l)) assert.deepEqual(applied(c, id).log, ['a', null, 'c', 'd']);
  });

  test('ballots after a restart are higher than any used before', () => {
    const c = multiCluster(3, { seed: 6 });
    const l = electLeader(c);
    const before = c.node(l).view().ballot;
    c.crash(l);
    c.restart(l);
    // Isolate the others so the restarted node campaigns on its own.
    c.cut = (f, t) => f === l || t === l;
    c.runUntil(() => c.node(l).view().ballot !== null, 200);
    const after = c.node(l).view().ballot;
    assert.ok(compareBallots(after, before) > 0, `${JSON.stringify(after)} > ${JSON.stringify(before)}`);
  });

  test('a preempted leader steps down and its pending reads fail', () => {
    const c = multiCluster(3, { seed: 7 });
    const l = electLeader(c);
    c.run(2);
    c.cut = (f, t) => f === l || t === l;
    c.act(l, (n) => n.readIndex(42));
    assert.notEqual(c.runUntil(() => c.ids.some((id) => id !== l && c.node(id).status().role === 'leader'), 400), null);
    c.cut = () => false;
    c.run(10);
    assert.equal(c.node(l).status().role, 'follower');
    assert.ok(c.out(l).some((o) => o.type === 'read-failed' && o.ctx === 42));
  });
});

describe('learners catch up', () => {
  test('a follower cut off for a while learns the missed slots', () => {
    const c = multiCluster(3, { seed: 8 });
    const l = electLeader(c);
    const f = c.ids.find((id) => id !== l) as NodeId;
    c.cut = (a, b) => a === f || b === f;
    proposeAll(c, l, ['a', 'b', 'c', 'd']);
    c.run(10);
    assert.equal(applied(c, f).index, 0);
    c.cut = () => false;
    c.run(15);
    assert.deepEqual(applied(c, f).log, ['a', 'b', 'c', 'd']);
    assert.ok(events(c, f, 'catch-up').length > 0 || c.count('accept') > 0);
  });

  test('a node that fell behind a snapshot gets a restore, then the entries after it', () => {
    const c = multiCluster(3, { seed: 9 });
    const l = electLeader(c);
    const f = c.ids.find((id) => id !== l) as NodeId;
    c.cut = (a, b) => a === f || b === f;
    proposeAll(c, l, ['a', 'b', 'c']);
    c.run(10);
    for (const id of c.ids.filter((i) => i !== f)) c.act(id, (n) => n.compact(LogIndex(3), ['a', 'b', 'c']));
    proposeAll(c, l, ['d']);
    c.run(5);
    c.cut = () => false;
    c.run(20);
    assert.deepEqual(applied(c, f), { index: 4, log: ['a', 'b', 'c', 'd'] });
    assert.ok(c.out(f).some((o) => o.type === 'restore' && o.index === 3));
    assert.ok(events(c, l, 'compaction').length === 1);
  });

  test('compaction never drops an undecided slot', () => {
    const c = multiCluster(3, { seed: 9 });
    const l = electLeader(c);
    proposeAll(c, l, ['a']);
    c.run(5);
    assert.throws(() => c.node(l).compact(LogIndex(2), ['a', 'b']), /only slots through 1 are chosen/);
  });

  test('a restart rebuilds the node from its durable writes, snapshot first', () => {
    const c = multiCluster(3, { seed: 10 });
    const l = electLeader(c);
    proposeAll(c, l, ['a', 'b', 'c']);
    c.run(10);
    c.act(l, (n) => n.compact(LogIndex(2), ['a', 'b']));
    c.crash(l);
    c.restart(l);
    c.run(40);
    assert.deepEqual(applied(c, l), { index: 3, log: ['a', 'b', 'c'] });
    assert.equal(c.out(l)[0]?.type, 'restore');
  });
});

describe('linearizable reads', () => {
  test('readIndex is answered after a phase-2 quorum acknowledged a heartbeat; followers refuse', () => {
    const c = multiCluster(3, { seed: 11 });
    const l = electLeader(c);
    proposeAll(c, l, ['a', 'b']);
    c.run(10);
    c.act(l, (n) => n.readIndex(1));
    assert.ok(!c.out(l).some((o) => o.type === 'read-ready'), 'not before the round');
    c.run(3);
    assert.ok(c.out(l).some((o) => o.type === 'read-ready' && o.ctx === 1 && o.index === 2));
    const f = c.ids.find((id) => id !== l) as NodeId;
    c.act(f, (n) => n.readIndex(2));
    assert.ok(c.out(f).some((o) => o.type === 'read-failed' && o.ctx === 2 && o.leader === l));
  });

  test('a leader cut off from the quorum never confirms a read', () => {
    const c = multiCluster(3, { seed: 12 });
    const l = electLeader(c);
    c.run(3);
    c.cut = (a, b) => a === l || b === l;
    c.act(l, (n) => n.readIndex(5));
    c.run(8);
    assert.ok(!c.out(l).some((o) => o.type === 'read-ready' && o.ctx === 5));
  });

  test('with leases, a leader serves reads alone while its lease lasts, and not after', () => {
    const c = multiCluster(3, { seed: 13, options: { leaseReads: true, electionTicks: 10, leaseMarginTicks: 2 } });
    const l = electLeader(c);
    c.run(5);
    c.cut = (a, b) => a === l || b === l;
    c.act(l, (n) => n.readIndex(1));
    assert.ok(c.out(l).some((o) => o.type === 'read-ready' && o.ctx === 1), 'served on the lease');
    c.run(10);
    c.act(l, (n) => n.readIndex(2));
    assert.ok(!c.out(l).some((o) => o.type === 'read-ready' && o.ctx === 2), 'lease expired');
  });

  test('with leases, followers refuse to promise another proposer while the leader is fresh', () => {
    const c = multiCluster(3, { seed: 14, options: { leaseReads: true } });
    const l = electLeader(c);
    c.run(5);
    const f = c.ids.find((id) => id !== l) as NodeId;
    const other = c.ids.find((id) => id !== l && id !== f) as NodeId;
    const promised = c.node(f).view().promised;
    c.act(other, (n) => n.step(other, { type: 'nack', ballot: c.node(l).view().ballot!, promised: c.node(l).view().ballot! }));
    c.act(f, (n) => n.step(other, { type: 'prepare', ballot: { round: 99, node: other } as never, fromSlot: Slot(1) }));
    assert.deepEqual(c.node(f).view().promised, promised);
  });
});

describe('leadership transfer (release)', () => {
  test('the target leads well before an election timeout; the log goes on; the old leader serves no lease read', () => {
    const c = multiCluster(3, { seed: 21, options: { leaseReads: true, electionTicks: 20 } });
    const l = electLeader(c);
    proposeAll(c, l, ['a', 'b']);
    c.run(10);
    const t = c.ids.find((id) => id !== l) as NodeId;
    c.act(l, (n) => assert.deepEqual(n.transferLeadership(t), { ok: true }));
    // Stepped down at once: no lease read, no proposal.
    c.act(l, (n) => n.readIndex(7));
    assert.ok(c.out(l).some((o) => o.type === 'read-failed' && o.ctx === 7));
    assert.equal(c.node(l).propose('late').ok, false);
    c.run(8);
    assert.equal(leaderOf(c), t, 'the target leads within 8 ticks, an election timeout being 20 or more');
    proposeAll(c, t, ['c']);
    c.run(10);
    for (const id of c.ids) assert.deepEqual(applied(c, id).log, ['a', 'b', 'c']);
  });

  test('refused by a follower and for a non-member; a stale release changes nothing', () => {
    const c = multiCluster(3, { seed: 22, options: { leaseReads: true } });
    const l = electLeader(c);
    c.run(3);
    const f = c.ids.find((id) => id !== l) as NodeId;
    assert.deepEqual(c.node(f).transferLeadership(l), { ok: false, reason: 'not-leader', leader: l });
    const bad = c.node(l).transferLeadership(NodeId(9));
    assert.ok(!bad.ok && bad.reason === 'invalid');
    assert.deepEqual(c.node(l).transferLeadership(l), { ok: true });
    // A release from a node that is not the leader is ignored: no campaign, the leader stays.
    const other = c.ids.find((id) => id !== l && id !== f) as NodeId;
    c.act(f, (n) => n.step(other, { type: 'release', ballot: c.node(l).view().ballot!, to: f }));
    c.run(3);
    assert.equal(leaderOf(c), l);
  });
});

describe('configuration changes (alpha)', () => {
  test('a new configuration governs slots from alpha after its own; the added node learns the log', () => {
    const alpha = 4;
    const c = multiCluster(4, { seed: 15, initial: [1, 2, 3], options: { alpha, window: alpha } });
    const l = electLeader(c);
    assert.deepEqual(c.node(l).status().voters, [1, 2, 3]);
    proposeAll(c, l, ['a']);
    c.act(l, (n) => assert.deepEqual(n.proposeConfig([NodeId(1), NodeId(2), NodeId(3), NodeId(4)]), { ok: true }));
    c.run(10);
    // The configuration sits in slot 2: it governs slots from 2 + alpha = 6.
    for (let i = 0; i < 2; i++) proposeAll(c, leaderOf(c) ?? l, [`x${i}`]);
    c.run(10);
    const lead = leaderOf(c) ?? l;
    assert.ok(commitIndex(c, lead) < 6);
    assert.deepEqual(c.node(lead).status().voters, [1, 2, 3]);
    proposeAll(c, lead, ['p', 'q', 'r', 's']);
    c.run(40);
    const now = leaderOf(c) as NodeId;
    assert.ok(commitIndex(c, now) >= 7);
    assert.deepEqual(c.node(now).status().voters, [1, 2, 3, 4]);
    assert.deepEqual(applied(c, 4).log, applied(c, now).log);
  });

  test('an unsafe configuration is refused with a typed error', () => {
    const c = multiCluster(3, { seed: 16 });
    const l = electLeader(c);
    assert.throws(() => c.node(l).proposeConfig([]), MultiPaxosOptionError);
    assert.throws(() => c.node(l).proposeConfig([NodeId(1), NodeId(1)]), MultiPaxosOptionError);
  });
});

describe('flexible quorums (Howard, Malkhi, Spiegelman 2016)', () => {
  const make = (options: Record<string, unknown>) => MultiPaxos.create<Cmd, Snap>({ id: NodeId(1), members: [NodeId(1), NodeId(2), NodeId(3)], rng: new Prng(1), options });
  test('|Q1| + |Q2| <= N is refused at construction', () => {
    assert.throws(() => make({ phase1Quorum: 2, phase2Quorum: 1 }), (e: unknown) => e instanceof QuorumConfigError && e.code === 'quorums-do-not-intersect');
    assert.throws(() => make({ window: 10, alpha: 5 }), MultiPaxosOptionError);
  });
  test('with |Q2| = 1 the leader chooses alone, and a new leader needs all three promises', () => {
    const c = multiCluster(3, { seed: 17, options: { phase1Quorum: 3, phase2Quorum: 1 } });
    const l = electLeader(c);
    c.run(2);
    c.cut = (a, b) => a === l || b === l;
    proposeAll(c, l, ['a', 'b']);
    c.run(3);
    assert.equal(applied(c, l).index, 2, 'chosen by the leader alone');
    assert.equal(c.runUntil(() => c.ids.some((id) => id !== l && c.node(id).status().role === 'leader'), 200), null, 'no leader without all three');
    c.cut = () => false;
    c.run(100);
    const now = leaderOf(c) as NodeId;
    for (const id of c.ids) assert.deepEqual(applied(c, id).log.slice(0, 2), ['a', 'b'], `node ${id} via ${now}`);
  });
});

describe('safety under faults (invariants checked after every tick)', () => {
  function chaos(seed: number, mutants: string[] = [], ticks = 400) {
    const c = multiCluster(5, { seed, minDelay: 1, maxDelay: 4, dropRate: 0.05, mutants, options: { electionTicks: 6, maxBatch: 4 } });
    const inv = paxosInvariants();
    const r = new Prng(seed ^ 0x5eed);
    let k = 0;
    const check = (t: number) => {
      const views = c.ids.filter((id) => !c.down.has(id)).map((id) => c.node(id).view() as unknown as PaxosInvariantView);
      for (const i of inv) {
        const bad = i.check(views, t);
        if (bad !== null) return bad;
      }
      return null;
    };
    for (let t = 0; t < ticks; t++) {
      const l = leaderOf(c);
      if (l !== null && r.chance(0.5)) {
        c.act(l, (n) => void n.propose(`c${k++}`));
        const bad = check(t);
        if (bad !== null) return bad;
      }
      if (r.chance(0.02)) c.crash(r.int(1, 5));
      if (r.chance(0.02)) c.paused.add(leaderOf(c) ?? NodeId(r.int(1, 5)));
      if (r.chance(0.05)) c.paused.clear();
      if (r.chance(0.04)) for (const id of [...c.down]) c.restart(id);
      if (r.chance(0.01)) {
        const side = new Set([r.int(1, 5), r.int(1, 5)]);
        c.cut = (a, b) => side.has(a) !== side.has(b);
      }
      if (r.chance(0.03)) c.cut = () => false;
      if (r.chance(0.02)) {
        for (const id of c.ids) {
          const n = c.node(id);
          const at = Math.min(n.status().commitIndex, Math.max(0, applied(c, id).index - 2));
          if (at > 0 && !c.down.has(id)) c.act(id, (x) => x.compact(LogIndex(at), applied(c, id).log.slice(0, at) as Snap));
        }
      }
      c.step();
      const bad = check(t);
      if (bad !== null) return bad;
    }
    c.cut = () => false;
    c.paused.clear();
    for (const id of [...c.down]) c.restart(id);
    c.run(150);
    const logs = c.ids.map((id) => applied(c, id).log.join(','));
    if (new Set(logs).size !== 1) return `logs differ after healing: ${logs.join(' | ')}`;
    if (k > 10 && logs[0] === '') return 'nothing committed';
    return null;
  }

  test('agreement, validity and monotonic promises hold on 25 seeds with crashes, partitions, drops and compaction', () => {
    for (let seed = 1; seed <= 25; seed++) assert.equal(chaos(seed), null, `seed ${seed}`);
  });

  test('every mutant is caught on some seed', () => {
    // transfer-keeps-lease needs leadership transfers: the simulator's operator catches it (test/sim/mutants.test.ts).
    for (const m of ['accept-lower-ballot', 'ignore-accepted-value', 'learn-mixed-ballots', 'forget-promise']) {
      let caught: string | null = null;
      let seedCaught = 0;
      for (let seed = 1; seed <= 100 && caught === null; seed++) {
        caught = chaos(seed, [m], 300);
        seedCaught = seed;
      }
      assert.ok(caught !== null, `mutant ${m} not caught`);
      if (process.env['PAXOS_VERBOSE'] !== undefined) console.log(m, seedCaught, caught);
    }
  });
});

describe('a leader writes its own acceptance in parallel with the acceptors (like Raft thesis §10.2.1)', () => {
  test('accepts leave in sendNow, in the batch that writes the leader acceptance; the chosen output waits for the writes', () => {
    const c = multiCluster(3, { seed: 4, minDelay: 1, maxDelay: 3 });
    const l = electLeader(c);
    c.run(5);
    const leader = c.node(l);
    assert.deepEqual(leader.propose('x'), { ok: true });
    const fx = leader.ready();
    assert.ok(fx !== null);
    assert.ok(fx.persist.some((w) => w.type === 'accept'), 'the leader writes its own acceptance');
    assert.equal(fx.sendNow.filter((e) => e.msg.type === 'accept').length, 2, 'one accept per acceptor, sent before the write');
    assert.equal(fx.sendAfterPersist.filter((e) => e.msg.type === 'accept').length, 0);
    assert.ok(!fx.outputs.some((o) => o.type === 'committed'), 'nothing is chosen on the leader acceptance alone');
    leader.advance();
  });
});
