// Each partition shape cuts exactly the links it should (Jepsen's nemesis shapes).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { blockedLinks, bridge, connected, groups, halves, isolate, oneWay, ring } from '../../src/sim/partitions.js';

const order = [3, 0, 4, 1, 2];

function reach(p: ReturnType<typeof halves>, a: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < p.n; b++) if (b !== a && connected(p, a, b)) out.push(b);
  return out;
}

describe('partition shapes (5 nodes)', () => {
  test('isolate cuts one node off both ways and leaves the rest whole', () => {
    const p = isolate(5, 2);
    assert.deepEqual(reach(p, 2), []);
    for (const a of [0, 1, 3, 4]) assert.deepEqual(reach(p, a), [0, 1, 3, 4].filter((b) => b !== a));
    assert.equal(blockedLinks(p).length, 8);
  });

  test('halves: a majority of 3 and a minority of 2, no link between them', () => {
    const p = halves(5, order);
    const maj = [3, 0, 4];
    const min = [1, 2];
    for (const a of maj) for (const b of min) assert.ok(!connected(p, a, b) && p.blocked[a * 5 + b] === 1 && p.blocked[b * 5 + a] === 1);
    for (const a of maj) assert.deepEqual(reach(p, a), maj.filter((b) => b !== a).sort());
    assert.deepEqual(reach(p, 1), [2]);
  });

  test('bridge: two sides that cannot talk, joined by one hub that talks to all (overlapping majorities)', () => {
    const p = bridge(5, order);
    const hub = 4; // order[2]
    assert.deepEqual(reach(p, hub), [0, 1, 2, 3]);
    assert.deepEqual(reach(p, 3), [0, 4]);
    assert.deepEqual(reach(p, 1), [2, 4]);
    // Each side plus the hub is a majority, and the two majorities overlap only in the hub.
    assert.ok(!connected(p, 3, 1) && !connected(p, 0, 2));
  });

  test('ring: every node talks to exactly its two neighbours', () => {
    const p = ring(5, order);
    assert.deepEqual(reach(p, 3), [0, 2]);
    assert.deepEqual(reach(p, 0), [3, 4]);
    assert.deepEqual(reach(p, 4), [0, 1]);
    assert.deepEqual(reach(p, 1), [2, 4]);
    assert.deepEqual(reach(p, 2), [1, 3]);
  });

  test('one-way: the node hears everyone, nobody hears it', () => {
    const p = oneWay(5, 1);
    for (let b = 0; b < 5; b++) {
      if (b === 1) continue;
      assert.equal(p.blocked[1 * 5 + b], 1, `1 -> ${b} blocked`);
      assert.equal(p.blocked[b * 5 + 1], 0, `${b} -> 1 open`);
    }
    assert.equal(blockedLinks(p).length, 4);
  });

  test('groups: a node in no group is alone; bad groups are refused', () => {
    const p = groups(5, [[0, 1], [2, 3]]);
    assert.deepEqual(reach(p, 0), [1]);
    assert.deepEqual(reach(p, 4), []);
    assert.throws(() => groups(5, [[0, 1], [1, 2]]), /two groups/);
    assert.throws(() => halves(5, [0, 1, 2, 3, 3]), /permutation/);
  });
});
