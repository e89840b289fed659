import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortedKeys } from '../../src/kv/sorted-keys.js';

test('SortedKeys behaves as a sorted array under random inserts, removes and scans', () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant('insert' as const), k: fc.string({ maxLength: 3 }) }),
    fc.record({ t: fc.constant('remove' as const), k: fc.string({ maxLength: 3 }) }),
    fc.record({ t: fc.constant('removeAll' as const), ks: fc.array(fc.string({ maxLength: 2 }), { maxLength: 30 }) }),
    fc.record({ t: fc.constant('scan' as const), k: fc.string({ maxLength: 3 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const sk = new SortedKeys();
      let model: string[] = [];
      for (const o of ops) {
        if (o.t === 'insert' && !model.includes(o.k)) {
          sk.insert(o.k);
          model.push(o.k);
          model.sort();
        } else if (o.t === 'remove' && model.includes(o.k)) {
          sk.remove(o.k);
          model = model.filter((k) => k !== o.k);
        } else if (o.t === 'removeAll') {
          const gone = new Set(o.ks);
          sk.removeAll(gone);
          model = model.filter((k) => !gone.has(k));
        } else if (o.t === 'scan') {
          assert.deepEqual([...sk.from(o.k)], model.filter((k) => k >= o.k));
        }
        assert.equal(sk.size, model.length);
      }
      assert.deepEqual([...sk.from('')], model);
    }),
    { numRuns: 40 },
  );
});

test('SortedKeys stays fast in random order (many chunks)', () => {
  const sk = new SortedKeys();
  const keys = Array.from({ length: 20_000 }, (_, i) => String((i * 7919) % 20_011).padStart(6, '0'));
  for (const k of keys) sk.insert(k);
  assert.deepEqual([...sk.from('')], [...keys].sort());
  for (const k of keys.slice(0, 10_000)) sk.remove(k);
  assert.deepEqual([...sk.from('')], keys.slice(10_000).sort());
});
