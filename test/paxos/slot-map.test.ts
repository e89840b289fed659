// SlotMap against a Map reference, under random sets, deletes and prefix drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/core/prng.js';
import { SlotMap } from '../../src/paxos/multi/slot-map.js';

test('SlotMap behaves like a Map of slots', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const r = new Prng(seed);
    const m = new SlotMap<number>();
    const ref = new Map<number, number>();
    let floor = 0;
    for (let step = 0; step < 400; step++) {
      const x = r.float();
      const slot = floor + 1 + r.int(0, 300);
      if (x < 0.55) {
        m.set(slot, step);
        ref.set(slot, step);
      } else if (x < 0.9) {
        const keys = [...ref.keys()];
        const k = keys.length > 0 && r.chance(0.8) ? r.pick(keys) : slot;
        m.delete(k);
        ref.delete(k);
      } else {
        floor += r.int(0, 40);
        m.dropThrough(floor);
        for (const k of [...ref.keys()]) if (k <= floor) ref.delete(k);
      }
      assert.equal(m.size, ref.size, `seed ${seed} step ${step}`);
      const want = [...ref.entries()].sort((a, b) => a[0] - b[0]);
      assert.deepEqual(m.entries(), want, `seed ${seed} step ${step}`);
      assert.deepEqual(m.slotsFrom(floor + 100), want.map(([k]) => k).filter((k) => k >= floor + 100));
      for (const [k, v] of want) assert.equal(m.get(k), v);
    }
  }
});
