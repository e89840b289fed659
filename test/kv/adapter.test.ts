import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientId, NodeId } from '../../src/core/ids.js';
import type { Envelope } from '../../src/core/effects.js';
import { KvNode } from '../../src/kv/adapter.js';
import { MemoryBackend } from '../../src/kv/backend.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { KvOp, KvReply } from '../../src/kv/api.js';
import { utf8 } from '../../src/kv/bytes.js';
import type { SimOutput } from '../../src/sim/protocol.js';
import { FakeLog } from './fake-log.js';
import { stateMachineSafety } from '../../src/kv/spec.js';
import type { FakeMsg, FakeWrite } from './fake-log.js';

/** Runs ready/advance until quiet, as a host would; returns what came out. */
function drain(node: KvNode<FakeWrite, FakeMsg>, disk: FakeWrite[] = []) {
  const replies = new Map<number, KvReply[]>();
  const events: string[] = [];
  const sent: Envelope<FakeMsg>[] = [];
  for (let fx = node.ready(); fx !== null; fx = node.ready()) {
    sent.push(...fx.sendNow);
    disk.push(...fx.persist);
    sent.push(...fx.sendAfterPersist);
    for (const o of fx.outputs as SimOutput<KvReply>[]) {
      if (o.type === 'reply') replies.set(o.requestId, [...(replies.get(o.requestId) ?? []), o.reply]);
      else events.push(o.event.kind);
    }
    node.advance();
  }
  return { replies, events, sent };
}

const client = ClientId('c1');
let rid = 0;
function ask(node: KvNode<FakeWrite, FakeMsg>, op: KvOp, seq: number, who = client): number {
  const id = ++rid;
  node.request(id, { client: who, seq, op });
  return id;
}
const one = (m: Map<number, KvReply[]>, id: number): KvReply => {
  const r = m.get(id);
  assert.equal(r?.length, 1, `one reply for request ${id}, got ${JSON.stringify(r)}`);
  return r![0]!;
};

describe('KV adapter over a replicated log', () => {
  test('writes commit through the log and reads see them', () => {
    const log = new FakeLog();
    const node = new KvNode(log);
    const w = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    const out = drain(node);
    assert.deepEqual(one(out.replies, w), { ok: true, value: 1 });
    assert.ok(out.events.includes('apply'));
    const r = ask(node, { f: 'read', key: 'x' }, 0);
    assert.deepEqual(one(drain(node).replies, r), { ok: true, value: 1 });
    const c1 = ask(node, { f: 'cas', key: 'x', expected: 2, value: 3 }, 2);
    const c2 = ask(node, { f: 'cas', key: 'x', expected: 1, value: 'a' }, 3);
    const c3 = ask(node, { f: 'cas', key: 'y', expected: null, value: true }, 4);
    const out2 = drain(node);
    assert.deepEqual(one(out2.replies, c1), { ok: false, error: 'cas-mismatch', actual: 1 });
    assert.deepEqual(one(out2.replies, c2), { ok: true, value: 'a' });
    assert.deepEqual(one(out2.replies, c3), { ok: true, value: true });
    const d = ask(node, { f: 'delete', key: 'x' }, 5);
    const rg = ask(node, { f: 'range', prefix: '' }, 0);
    const out3 = drain(node);
    assert.deepEqual(one(out3.replies, d), { ok: true, value: null });
    assert.deepEqual(one(out3.replies, rg), { ok: true, entries: [['y', true]] });
    assert.equal(node.sm.revision, 5, 'four writes and a delete; the failed cas wrote nothing');
  });

  test('effects of the log pass through unchanged', () => {
    const log = new FakeLog();
    const node = new KvNode(log);
    ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    const disk: FakeWrite[] = [];
    const out = drain(node, disk);
    assert.deepEqual(disk.map((w) => w.type), ['entry', 'commit']);
    assert.deepEqual(out.sent, [{ to: NodeId(2), msg: { type: 'ping', n: 1 } }]);
  });

  test('a proposal refused as not-leader is answered with the hint and has no effect', () => {
    const log = new FakeLog();
    log.loseLeadership(3);
    const node = new KvNode(log);
    const w = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    const out = drain(node);
    assert.deepEqual(one(out.replies, w), { ok: false, error: 'not-leader', leader: 3 });
    assert.equal(log.entries.length, 0);
    assert.ok(out.events.includes('role'), 'log events pass through');
  });

  test('an overloaded log answers busy', () => {
    const log = new FakeLog();
    log.overloaded = true;
    const node = new KvNode(log);
    const w = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    assert.deepEqual(one(drain(node).replies, w), { ok: false, error: 'busy' });
  });

  test('pending writes get unknown when leadership is lost; a later commit sends no second reply', () => {
    const log = new FakeLog();
    log.autoCommit = false;
    const node = new KvNode(log);
    const w = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    assert.equal(drain(node).replies.size, 0);
    log.loseLeadership(2);
    assert.deepEqual(one(drain(node).replies, w), { ok: false, error: 'unknown' });
    log.commitAll();
    const out = drain(node);
    assert.equal(out.replies.size, 0);
    assert.equal(node.sm.revision, 2, 'the entry still applied: unknown meant "maybe"');
  });

  test('a retry of an applied (client, seq) gets the saved result and is not proposed again', () => {
    const log = new FakeLog();
    const node = new KvNode(log);
    ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    drain(node);
    ask(node, { f: 'write', key: 'x', value: 2 }, 2, ClientId('other'));
    drain(node);
    const retry = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    assert.deepEqual(one(drain(node).replies, retry), { ok: true, value: 1 });
    assert.equal(log.entries.length, 2);
    const r = ask(node, { f: 'read', key: 'x' }, 0);
    assert.deepEqual(one(drain(node).replies, r), { ok: true, value: 2 });
  });

  test('a retry while the first try is pending waits for the same entry', () => {
    const log = new FakeLog();
    log.autoCommit = false;
    const node = new KvNode(log);
    const a = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    const b = ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    drain(node);
    assert.equal(log.entries.length, 1);
    log.commitAll();
    const out = drain(node);
    assert.deepEqual(one(out.replies, a), { ok: true, value: 1 });
    assert.deepEqual(one(out.replies, b), { ok: true, value: 1 });
  });

  test('a duplicate entry in the log (a retry through a new leader) applies once', () => {
    const log = new FakeLog();
    const node = new KvNode(log);
    const cmd = { client, seq: 1, op: { type: 'put', key: utf8('k'), value: utf8('1') } } as const;
    log.append(cmd);
    log.append(null);
    log.append(cmd);
    log.commitAll();
    drain(node);
    assert.equal(node.sm.revision, 2);
    assert.equal(node.sm.appliedIndex, 3);
  });

  test('reads wait until the state machine has applied the read index', () => {
    const log = new FakeLog();
    log.autoCommit = false;
    const node = new KvNode(log);
    ask(node, { f: 'write', key: 'x', value: 7 }, 1);
    const r = ask(node, { f: 'read', key: 'x' }, 0);
    const out = drain(node);
    assert.equal(out.replies.size, 0, 'read index 1 is not applied yet');
    assert.equal(node.view().pendingReads, 1);
    log.commitAll();
    const out2 = drain(node);
    assert.deepEqual(one(out2.replies, r), { ok: true, value: 7 });
  });

  test('a failed read index is answered not-leader', () => {
    const log = new FakeLog();
    log.loseLeadership(4);
    const node = new KvNode(log);
    const r = ask(node, { f: 'read', key: 'x' }, 0);
    assert.deepEqual(one(drain(node).replies, r), { ok: false, error: 'not-leader', leader: 4 });
  });

  test('requests over the limits are rejected before the log', () => {
    const log = new FakeLog();
    const node = new KvNode(log, { stateMachine: { limits: { maxValueBytes: 10 } } });
    const w = ask(node, { f: 'write', key: 'x', value: 'much too long a value' }, 1);
    const reply = one(drain(node).replies, w);
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error === 'rejected' && reply.code, 'value-too-large');
    assert.equal(log.entries.length, 0);
  });

  test('at most maxPendingRequests wait at once; beyond that: busy', () => {
    const log = new FakeLog();
    log.autoCommit = false;
    const node = new KvNode(log, { maxPendingRequests: 2 });
    ask(node, { f: 'write', key: 'a', value: 1 }, 1);
    ask(node, { f: 'write', key: 'b', value: 1 }, 2);
    const c = ask(node, { f: 'write', key: 'c', value: 1 }, 3);
    assert.deepEqual(one(drain(node).replies, c), { ok: false, error: 'busy' });
  });

  test('every N applied entries the log is handed a snapshot of the state at that index', () => {
    const log = new FakeLog();
    const node = new KvNode(log, { snapshotEveryEntries: 3 });
    for (let i = 1; i <= 7; i++) {
      ask(node, { f: 'write', key: `k${i}`, value: i }, i);
      drain(node);
    }
    assert.deepEqual(log.compactCalls, [3, 6]);
    assert.equal(log.snapshot?.snapshot.meta.appliedIndex, 6);
    assert.equal(log.snapshot?.snapshot.meta.revision, 7);
  });

  test('a restore replaces the state; a pending write inside the snapshot is answered from its session', () => {
    const leaderLog = new FakeLog(1);
    const leader = new KvNode(leaderLog);
    ask(leader, { f: 'write', key: 'x', value: 'v' }, 1);
    ask(leader, { f: 'write', key: 'y', value: 'w' }, 2);
    drain(leader);
    const snap = leader.sm.snapshot();

    const followerLog = new FakeLog(2);
    followerLog.autoCommit = false;
    const follower = new KvNode(followerLog);
    const pending = ask(follower, { f: 'write', key: 'y', value: 'w' }, 2);
    drain(follower);
    followerLog.loseLeadership(1);
    followerLog.role = 'leader'; // same term check still fails: the term moved
    followerLog.installSnapshot(2, snap);
    const out = drain(follower);
    assert.ok(out.events.includes('restore'));
    assert.deepEqual(one(out.replies, pending), { ok: true, value: 'w' }, 'answered from the snapshot, not unknown');
    assert.deepEqual(follower.sm.snapshot(), leader.sm.snapshot());
    assert.deepEqual(follower.view().kv, { x: 'v', y: 'w' });
  });

  test('recover: a restarted node rebuilds the same state from the log replay', () => {
    const log = new FakeLog();
    const node = new KvNode(log, { snapshotEveryEntries: 4 });
    const disk: FakeWrite[] = [];
    for (let i = 1; i <= 10; i++) {
      ask(node, { f: 'write', key: `k${i % 3}`, value: i }, i);
      drain(node, disk);
    }
    drain(node, disk);
    const again = KvNode.recover(FakeLog.recover(1, disk), { snapshotEveryEntries: 4 });
    drain(again);
    assert.equal(again.sm.appliedIndex, 10);
    assert.equal(again.sm.chain, node.sm.chain);
    assert.deepEqual(again.sm.snapshot(), node.sm.snapshot());
    const recovered = again.view().appliedChain as Record<string, string>;
    const original = node.view().appliedChain as Record<string, string>;
    assert.deepEqual(Object.keys(recovered), ['8', '9', '10'], 'restored at the snapshot of 8, then replayed 9 and 10');
    for (const [i, h] of Object.entries(recovered)) assert.equal(h, original[i]);
  });

  test('recover over a durable backend: the log replays from its snapshot; entries already applied are skipped', () => {
    const backend = new MemoryBackend();
    const node = new KvNode(new FakeLog(), { snapshotEveryEntries: 4, stateMachine: { backend } });
    const disk: FakeWrite[] = [];
    for (let i = 1; i <= 6; i++) {
      ask(node, { f: 'write', key: 'k', value: i }, i);
      drain(node, disk);
    }
    const chainAt6 = node.sm.chain;
    // Restart: the backend kept everything through 6; the log re-delivers restore(4), then 5 and 6.
    const log = FakeLog.recover(1, disk);
    const again = KvNode.recover(log, { snapshotEveryEntries: 4, stateMachine: new KvStateMachine({ backend }) });
    assert.equal(again.sm.appliedIndex, 6);
    const out = drain(again);
    assert.ok(!out.events.includes('restore'), 'a snapshot older than the applied state is not installed');
    assert.equal(again.sm.chain, chainAt6);
    const w = ask(again, { f: 'write', key: 'k', value: 7 }, 7);
    assert.deepEqual(one(drain(again).replies, w), { ok: true, value: 7 });
    assert.equal(again.sm.appliedIndex, 7);
    assert.equal(again.sm.revision, 8);
  });

  test('view merges the log status with the state summary', () => {
    const log = new FakeLog();
    const node = new KvNode(log, { extraView: () => ({ protocol: 'fake' }) });
    ask(node, { f: 'write', key: 'x', value: 1 }, 1);
    drain(node);
    const v = node.view();
    assert.equal(v.role, 'leader');
    assert.equal(v.id, 1);
    assert.equal(v.applied, 1);
    assert.equal(v.revision, 2);
    assert.equal(v.protocol, 'fake');
    assert.deepEqual(v.kv, { x: 1 });
    assert.equal(Object.keys(v.appliedChain as object).length, 1);
  });
});

describe('state-machine-safety invariant', () => {
  const view = (id: number, chains: Record<number, string>) => ({ id: NodeId(id), role: 'follower', appliedChain: chains });

  test('holds while chains agree at every shared index, across events', () => {
    const inv = stateMachineSafety();
    assert.equal(inv.check([view(1, { 1: 'a', 2: 'b' }), view(2, { 1: 'a' })], 1), null);
    assert.equal(inv.check([view(2, { 2: 'b', 3: 'c' })], 2), null);
  });

  test('reports two nodes that applied different histories, even at different times', () => {
    const inv = stateMachineSafety();
    assert.equal(inv.check([view(1, { 5: 'x' })], 1), null);
    const msg = inv.check([view(2, { 5: 'y' })], 2);
    assert.match(msg ?? '', /node 2 applied a different command history through index 5 than node 1/);
  });

  test('two adapters fed different commands at one index disagree', () => {
    const a = new KvNode(new FakeLog(1));
    const b = new KvNode(new FakeLog(2));
    ask(a, { f: 'write', key: 'x', value: 1 }, 1);
    ask(b, { f: 'write', key: 'x', value: 2 }, 1);
    drain(a);
    drain(b);
    assert.notEqual(stateMachineSafety().check([a.view(), b.view()], 1), null);
  });
});

describe('etcd requests through the adapter (the server path)', () => {
  test('writes, ranges and lease queries answer with the full etcd result', () => {
    const node = new KvNode(new FakeLog());
    const g = ask(node, { f: 'etcd', request: { type: 'lease-grant', id: 0, ttl: 30 } }, 1);
    const p = ask(node, { f: 'etcd', request: { type: 'put', key: utf8('k'), value: utf8('v'), lease: 1 } }, 2);
    const bad = ask(node, { f: 'etcd', request: { type: 'put', key: utf8('k'), value: utf8('v'), lease: 99 } }, 3);
    const out = drain(node);
    assert.deepEqual(one(out.replies, g), { ok: true, result: { ok: true, revision: 1, response: { type: 'lease-grant', id: 1, ttl: 30 } } });
    assert.deepEqual(one(out.replies, p), { ok: true, result: { ok: true, revision: 2, response: { type: 'put' } } });
    const b = one(out.replies, bad);
    assert.ok(b.ok && 'result' in b && !b.result.ok && b.result.error.code === 'lease-not-found');
    const r = ask(node, { f: 'etcd', request: { type: 'range', key: utf8('k'), keysOnly: true } }, 0);
    const t = ask(node, { f: 'etcd', request: { type: 'lease-time-to-live', id: 1, keys: true } }, 0);
    const out2 = drain(node);
    const rr = one(out2.replies, r);
    assert.ok(rr.ok && 'result' in rr && rr.result.ok && rr.result.response.type === 'range' && rr.result.response.count === 1);
    const tt = one(out2.replies, t);
    assert.ok(tt.ok && 'result' in tt && tt.result.ok && tt.result.response.type === 'lease-time-to-live' && tt.result.response.keys.length === 1);
  });

  test('a write needs seq >= 1 to be matched with its reply', () => {
    const node = new KvNode(new FakeLog());
    const w = ask(node, { f: 'etcd', request: { type: 'put', key: utf8('k'), value: utf8('v') } }, 0);
    const reply = one(drain(node).replies, w);
    assert.ok(!reply.ok && reply.error === 'rejected' && reply.code === 'invalid');
  });
});
