// The decree workload's own checks, driven by hand through a fake context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeId } from '../../src/core/ids.js';
import { Prng } from '../../src/core/prng.js';
import { decreeWorkload } from '../../src/paxos/decree-workload.js';
import type { DecreeRequest } from '../../src/paxos/synod-node.js';
import type { WorkloadContext } from '../../src/sim/workload.js';

function setup(clients: number) {
  const sent: { id: number; node: NodeId; req: DecreeRequest }[] = [];
  const ctx: WorkloadContext<DecreeRequest> = {
    members: [NodeId(0), NodeId(1), NodeId(2)],
    rng: new Prng(1),
    now: () => 0,
    send: (node, req) => (sent.push({ id: sent.length + 1, node, req }), sent.length),
    setTimer: () => {},
    invoke: () => {},
    complete: () => {},
  };
  const w = decreeWorkload({ clients, options: {} });
  w.start(ctx);
  return { w, sent };
}

test('every client proposes at once; one chosen value everywhere passes both checks', () => {
  const { w, sent } = setup(3);
  assert.equal(sent.length, 3);
  const chosen = (sent[1] as { req: DecreeRequest }).req.value;
  for (const s of sent) w.onReply(s.id, s.node, { ok: true, chosen });
  assert.equal(w.completed(), 3);
  assert.deepEqual(w.finish({ maxSteps: 1 }).map((v) => v.result), ['ok', 'ok']);
});

test('two different chosen values is an agreement violation; an unproposed one a validity violation', () => {
  const { w, sent } = setup(2);
  w.onReply(1, NodeId(0), { ok: true, chosen: (sent[0] as { req: DecreeRequest }).req.value });
  w.onReply(2, NodeId(1), { ok: true, chosen: 'nobody-proposed-this' });
  const verdicts = w.finish({ maxSteps: 1 });
  assert.deepEqual(verdicts.map((v) => `${v.check}:${v.result}`), ['decree-agreement:violation', 'decree-validity:violation']);
});

test('client counts are bounded', () => {
  assert.throws(() => decreeWorkload({ clients: 0, options: {} }), RangeError);
  assert.throws(() => decreeWorkload({ clients: 257, options: {} }), RangeError);
});
