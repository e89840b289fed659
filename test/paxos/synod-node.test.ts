// Single-decree Paxos nodes on the in-test network: decisions under delays and
// crashes, learner notification modes, catch-up by asking, dueling proposers.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { SynodNode, type SynodNodeMessage, type SynodNodeWrite, type DecreeReply } from '../../src/paxos/synod-node.js';
import type { SimOutput } from '../../src/sim/protocol.js';
import { paxosInvariants, type PaxosInvariantView } from '../../src/paxos/invariants.js';
import { Net, type NetOptions } from './harness.js';

type Out = SimOutput<DecreeReply>;

function cluster(n: number, options: Record<string, unknown> = {}, net: NetOptions = {}, mutants: string[] = []) {
  return new Net<SynodNodeMessage, SynodNodeWrite, Out, SynodNode>(
    n,
    (id: NodeId, members, durable) =>
      new SynodNode({ id, members, rng: new Prng((net.seed ?? 1) * 100 + id), mutants: new Set(mutants), options }, durable ?? []),
    net,
  );
}

type Cluster = ReturnType<typeof cluster>;
const learned = (c: Cluster) => c.ids.filter((id) => !c.down.has(id)).map((id) => c.node(id).view().learned);
const allLearned = (c: Cluster) => learned(c).every((v) => v !== null);
const replies = (c: Cluster, id: number) => c.out(id).filter((o): o is Extract<Out, { type: 'reply' }> => o.type === 'reply');

function checkInvariants(c: Cluster) {
  const inv = paxosInvariants();
  return () => {
    const views = c.ids.filter((id) => !c.down.has(id)).map((id) => c.node(id).view() as PaxosInvariantView);
    for (const i of inv) {
      const bad = i.check(views, c.now);
      if (bad !== null) return bad;
    }
    return null;
  };
}

describe('one decree, distinguished proposer (§2.4)', () => {
  test('three nodes choose one of the proposed values and answer every client', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = cluster(3, {}, { seed, minDelay: 1, maxDelay: 3 });
      c.act(1, (x) => x.request(1, { value: 'a' }));
      c.act(2, (x) => x.request(2, { value: 'b' }));
      c.act(3, (x) => x.request(3, { value: 'c' }));
      assert.notEqual(c.runUntil(() => allLearned(c), 400), null, `seed ${seed}`);
      const vs = new Set(learned(c));
      assert.equal(vs.size, 1);
      assert.ok(['a', 'b', 'c'].includes([...vs][0] as string));
      c.run(10);
      for (const id of [1, 2, 3]) assert.deepEqual(replies(c, id).map((r) => r.reply), [{ ok: true, chosen: [...vs][0] }]);
    }
  });

  test('agreement under drops, crashes and restarts, checked after every tick', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const c = cluster(5, {}, { seed, minDelay: 1, maxDelay: 4, dropRate: 0.1 });
      const check = checkInvariants(c);
      const r = new Prng(seed);
      for (let t = 0; t < 300; t++) {
        if (t < 100 && r.chance(0.05)) c.act(r.int(1, 5), (x) => x.request(t, { value: `v${t}` }));
        if (r.chance(0.03)) c.crash(r.int(1, 5));
        if (r.chance(0.05)) for (const id of [...c.down]) c.restart(id);
        c.step();
        const bad = check();
        assert.equal(bad, null, `seed ${seed}: ${bad}`);
      }
    }
  });

  test('a learner that missed the decision asks, a new round runs, and it learns the chosen value', () => {
    const c = cluster(3, {}, { seed: 3 });
    // Node 3 hears nothing about phase 2 (accepted and chosen messages to it are lost).
    let heal = false;
    c.cut = (from, to, msg) => !heal && to === 3 && from !== 3 && (msg.type === 'accepted' || msg.type === 'chosen');
    c.act(1, (x) => x.request(1, { value: 'a' }));
    assert.notEqual(c.runUntil(() => c.node(1).view().learned !== null && c.node(2).view().learned !== null, 200), null);
    assert.equal(c.node(3).view().learned, null);
    c.act(3, (x) => x.request(7, { value: 'z' }));
    heal = true;
    const before = c.count('prepare');
    assert.notEqual(c.runUntil(() => c.node(3).view().learned !== null, 200), null);
    assert.equal(c.node(3).view().learned, 'a');
    assert.deepEqual(replies(c, 3).map((r) => r.reply), [{ ok: true, chosen: 'a' }]);
    assert.ok(c.count('ask') > 0);
    // The leader knows the decision and tells it directly; a proposer that did not know would run a round.
    assert.ok(c.count('chosen') > 0 || c.count('prepare') > before);
  });

  test('a proposer that does not know the decision runs a new round for an asking learner', () => {
    const c = cluster(3, { leader: false }, { seed: 5 });
    // Phase 2 completes at the acceptors but every accepted message is lost: nobody learns.
    let lose = true;
    c.cut = (_from, _to, msg) => lose && msg.type === 'accepted';
    c.act(1, (x) => x.request(1, { value: 'a' }));
    c.run(5);
    assert.ok(learned(c).every((v) => v === null));
    lose = false;
    c.act(2, (x) => x.request(2, { value: 'b' }));
    assert.notEqual(c.runUntil(() => allLearned(c), 200), null);
    assert.deepEqual(new Set(learned(c)), new Set(['a']), 'the new round must find a (accepted by a quorum) and re-propose it');
  });
});

describe('telling learners (§2.3)', () => {
  function decide(mode: 'all' | 'distinguished') {
    const c = cluster(5, { learners: mode, distinguishedLearners: 2 }, { seed: 11 });
    c.run(40); // elect a leader first, so only one ballot runs
    const base = c.count('*') - c.count('heartbeat');
    const leader = c.ids.find((id) => c.node(id).view().role === 'leader') as NodeId;
    c.act(leader, (x) => x.request(1, { value: 'a' }));
    assert.notEqual(c.runUntil(() => allLearned(c), 200), null);
    c.run(5);
    return { accepted: c.count('accepted'), chosen: c.count('chosen'), total: c.count('*') - c.count('heartbeat') - base };
  }
  test('every acceptor tells every learner: N*N accepted messages', () => {
    const m = decide('all');
    assert.equal(m.accepted, 25);
    assert.equal(m.chosen, 0);
    assert.equal(m.total, 5 + 5 + 5 + 25);
  });
  test('distinguished learners relay: N*k accepted plus k*(N-k) chosen', () => {
    const m = decide('distinguished');
    // Each acceptor tells the 2 distinguished learners and the proposer (when not one of them).
    assert.ok(m.accepted === 5 * 2 || m.accepted === 5 * 3, `accepted ${m.accepted}`);
    assert.equal(m.chosen, 2 * 3);
  });
});

describe('dueling proposers (§2.4)', () => {
  // Every message takes exactly 2 ticks: each proposer's prepare lands just before the
  // other's accept, forever (the livelock of Paxos Made Simple §2.4).
  function run(options: Record<string, unknown>, seed: number, ticks: number) {
    const c = cluster(3, { retryTicks: 30, ...options }, { seed, minDelay: 2, maxDelay: 2 });
    for (const id of [1, 2, 3]) c.act(id, (x) => x.request(id, { value: `v${id}` }));
    const took = c.runUntil(() => allLearned(c), ticks);
    const rounds = Math.max(...c.ids.map((id) => c.node(id).view().ballot?.round ?? 0));
    return { took, rounds, prepares: c.count('prepare') };
  }
  test('without a distinguished proposer, ballots climb and nothing is chosen', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const d = run({ leader: false }, seed, 500);
      assert.equal(d.took, null, `seed ${seed}: chosen after ${d.took} ticks`);
      assert.ok(d.rounds >= 100, `seed ${seed}: only ${d.rounds} rounds`);
    }
  });
  test('a distinguished proposer with randomized back-off ends the duel', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const l = run({ leader: true }, seed, 500);
      assert.notEqual(l.took, null, `seed ${seed}`);
      assert.ok((l.took ?? 0) < 60 && l.rounds <= 3, `seed ${seed}: ${JSON.stringify(l)}`);
    }
  });
  test('leaderless first, then the cure after duelRounds refusals, in one run', () => {
    const r = run({ leader: true, duelRounds: 40 }, 1, 1000);
    assert.notEqual(r.took, null);
    assert.ok(r.rounds >= 14, `the duel went on for ${r.rounds} rounds first`);
  });
});

describe('mutants are caught by the invariants', () => {
  function promiseThenRestart(mutants: string[]) {
    const c = cluster(3, { leader: false }, { seed: 2 }, mutants);
    const check = checkInvariants(c);
    c.act(1, (x) => x.request(1, { value: 'a' }));
    // Node 2 has answered the prepare; the accept is still two ticks away.
    assert.notEqual(c.runUntil(() => c.node(2).view().promised !== null, 10), null);
    assert.equal(check(), null);
    c.crash(2);
    c.restart(2);
    return { promised: c.node(2).view().promised, verdict: check() };
  }
  test('forget-promise: a restarted acceptor promises less than before', () => {
    const r = promiseThenRestart(['forget-promise']);
    assert.equal(r.promised, null);
    assert.match(r.verdict ?? '', /had promised 1\.1 and now promises only -/);
  });
  test('without the mutant the promise survives the restart', () => {
    const r = promiseThenRestart([]);
    assert.deepEqual(r.promised, { round: 1, node: 1 });
    assert.equal(r.verdict, null);
  });
});
