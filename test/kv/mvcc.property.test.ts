import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import { kvSnapshotTextCodec } from '../../src/kv/codec.js';
import type { KvResult, KvWriteOp } from '../../src/kv/command.js';
import { DEFAULT_LIMITS } from '../../src/kv/limits.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/kv/snapshot.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { validateOp } from '../../src/kv/validate.js';
import { range as rangeArb, writeOp } from './arbitraries.js';
import { MvccModel } from './model.js';
import type { ModelResult } from './model.js';

const RUNS = Number(process.env['KV_PROPERTY_RUNS'] ?? 150);

/** The real result in the model's terms: bytes as latin1 strings, errors by code. */
function normalize(r: KvResult): ModelResult {
  if (!r.ok) return { ok: false, revision: r.revision, code: r.error.code };
  return { ok: true, revision: r.revision, response: plain(r.response) };
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const ALL = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

/** Every revision still readable reads the same in both; older ones fail as compacted in both. */
function sameHistory(sm: KvStateMachine, model: MvccModel): void {
  assert.equal(sm.revision, model.revision);
  assert.equal(sm.compactRevision, model.compactRevision);
  for (let rev = Math.max(1, model.compactRevision - 1); rev <= model.revision + 1; rev++) {
    assert.deepEqual(normalize(sm.range({ ...ALL, revision: rev })), model.range({ ...ALL, revision: rev }), `read at revision ${rev}`);
  }
}

/** Compaction keeps the least it may: per key, at most one version at or below the compact revision, and no tombstone there. */
function minimalAfterCompaction(sm: KvStateMachine): void {
  const low = new Map<string, number>();
  for (const v of sm.snapshot().versions) {
    if (v.main > sm.compactRevision) continue;
    assert.ok(!v.tombstone, `tombstone of ${JSON.stringify(v.key)} at ${v.main} kept after compaction at ${sm.compactRevision}`);
    low.set(v.key, (low.get(v.key) ?? 0) + 1);
  }
  for (const [k, n] of low) assert.equal(n, 1, `key ${JSON.stringify(k)} keeps ${n} versions at or below the compact revision`);
}

function run(ops: readonly KvWriteOp[], reads: readonly Parameters<MvccModel['range']>[0][]) {
  const sm = new KvStateMachine();
  const model = new MvccModel();
  ops.forEach((op, i) => {
    const real = sm.apply(LogIndex(i + 1), { client: ClientId('p'), seq: 0, op })!;
    const invalid = validateOp(op, DEFAULT_LIMITS);
    if (invalid) {
      assert.deepEqual(normalize(real), { ok: false, revision: model.revision, code: invalid.code });
    } else {
      assert.deepEqual(normalize(real), model.apply(op, i + 1), `op ${i}: ${JSON.stringify(plain(op))}`);
    }
    sameHistory(sm, model);
    assert.deepEqual(sm.leases(), [...model.leases].sort((a, b) => a[0] - b[0]).map(([id, ttl]) => ({ id, ttl })));
    if (op.type === 'compact') minimalAfterCompaction(sm);
  });
  for (const r of reads) {
    const invalid = sm.validateRange(r);
    if (invalid) continue;
    assert.deepEqual(normalize(sm.range(r)), model.range(r), `read ${JSON.stringify(plain(r))}`);
  }
  return { sm, model };
}

describe('MVCC against a reference model (etcd revision rules)', () => {
  test('random puts, deletes, txns and compactions give the same results, revisions, versions and history', () => {
    fc.assert(
      fc.property(fc.array(writeOp, { minLength: 8, maxLength: 40, size: 'large' }), fc.array(rangeArb, { maxLength: 12, size: 'large' }), (ops, reads) => {
        run(ops, reads);
      }),
      { numRuns: RUNS },
    );
  });

  test('a snapshot, binary or text, restores a state that reads and continues identically', () => {
    fc.assert(
      fc.property(fc.array(writeOp, { minLength: 5, maxLength: 30, size: 'large' }), fc.array(writeOp, { maxLength: 5 }), (ops, more) => {
        const { sm } = run(ops, []);
        const snap = sm.snapshot();
        const copies = [decodeSnapshot(encodeSnapshot(snap)), kvSnapshotTextCodec.decode(kvSnapshotTextCodec.encode(snap))];
        for (const copy of copies) {
          const other = new KvStateMachine();
          other.restore(copy);
          assert.deepEqual(plain(other.snapshot()), plain(snap));
          assert.equal(other.chain, sm.chain);
          for (let rev = sm.compactRevision; rev <= sm.revision; rev++) {
            assert.deepEqual(normalize(other.range({ ...ALL, revision: rev })), normalize(sm.range({ ...ALL, revision: rev })));
          }
        }
        // Both continue the same way (the original first, then the restored copy).
        const other = new KvStateMachine();
        other.restore(copies[0]!);
        more.forEach((op, i) => {
          const at = LogIndex(ops.length + i + 1);
          const a = sm.apply(at, { client: ClientId('p'), seq: 0, op })!;
          const b = other.apply(at, { client: ClientId('p'), seq: 0, op })!;
          assert.deepEqual(normalize(b), normalize(a));
        });
        assert.equal(other.chain, sm.chain);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
