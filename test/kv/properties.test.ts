// Properties of sessions and of the adapter under random schedules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import { KvNode } from '../../src/kv/adapter.js';
import type { KvReply } from '../../src/kv/api.js';
import type { KvWriteOp } from '../../src/kv/command.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { SimOutput } from '../../src/sim/protocol.js';
import { FakeLog } from './fake-log.js';
import { b } from './helpers.js';

const ALL = { key: b('\0'), rangeEnd: b('\0') };

describe('sessions under random retries', () => {
  const cmd = fc.record({
    client: fc.integer({ min: 0, max: 3 }),
    seq: fc.integer({ min: 1, max: 6 }),
    key: fc.constantFrom('a', 'b', 'c'),
    del: fc.boolean(),
  });

  test('applying a log with duplicate (client, seq) entries equals applying each first occurrence once', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 60, size: 'large' }), (cmds) => {
        const withDups = new KvStateMachine();
        const once = new KvStateMachine();
        const first = new Map<string, unknown>();
        let onceIndex = 0;
        cmds.forEach((c, i) => {
          const op: KvWriteOp = c.del ? { type: 'delete-range', key: b(c.key) } : { type: 'put', key: b(c.key), value: b(`${c.client}.${c.seq}`) };
          const id = `${c.client}/${c.seq}`;
          const r = withDups.apply(LogIndex(i + 1), { client: ClientId(String(c.client)), seq: c.seq, op });
          if (first.has(id)) {
            assert.deepEqual(r, first.get(id), 'a duplicate gets the first result');
            return;
          }
          first.set(id, r);
          assert.deepEqual(once.apply(LogIndex(++onceIndex), { client: ClientId('x'), seq: 0, op }), r);
        });
        assert.equal(withDups.revision, once.revision);
        assert.deepEqual(withDups.range(ALL), once.range(ALL));
        // The backend's sessions, built from per-entry updates, equal the table's.
        assert.deepEqual(withDups.snapshot().sessions, withDups.sessionRecords());
      }),
      { numRuns: 200 },
    );
  });

  test('with small bounds (evictions, dropped results) the backend keeps exactly the session table', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 60, size: 'large' }), (cmds) => {
        const sm = new KvStateMachine({ sessions: { maxSessions: 3, maxResultsPerSession: 2, maxResultBytes: 400 } });
        cmds.forEach((c, i) => sm.apply(LogIndex(i + 1), { client: ClientId(String(c.client)), seq: c.seq, op: { type: 'put', key: b(c.key), value: b('') } }));
        assert.deepEqual(sm.snapshot().sessions, sm.sessionRecords());
        assert.ok(sm.sessionCount <= 3);
      }),
      { numRuns: 200 },
    );
  });
});

describe('adapter under random schedules', () => {
  type Step =
    | { t: 'write'; client: number; retry: boolean }
    | { t: 'read' }
    | { t: 'commit' }
    | { t: 'auto'; on: boolean }
    | { t: 'lose' }
    | { t: 'regain' }
    | { t: 'snapshot' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('write' as const), client: fc.integer({ min: 0, max: 2 }), retry: fc.boolean() }) },
    { weight: 2, arbitrary: fc.constant({ t: 'read' as const }) },
    { weight: 2, arbitrary: fc.constant({ t: 'commit' as const }) },
    { weight: 1, arbitrary: fc.boolean().map((on) => ({ t: 'auto' as const, on })) },
    { weight: 2, arbitrary: fc.constant({ t: 'lose' as const }) },
    { weight: 1, arbitrary: fc.constant({ t: 'regain' as const }) },
    { weight: 3, arbitrary: fc.constant({ t: 'snapshot' as const }) },
  );

  test('every request gets exactly one reply; the state matches a follower that applied the same log', () => {
    let restores = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 120, size: 'large' }), (steps) => {
        const log = new FakeLog();
        const node = new KvNode(log, { snapshotEveryEntries: 5 });
        const replies = new Map<number, KvReply[]>();
        const seqs = [0, 0, 0];
        let rid = 0;
        let foreign = 0;
        const drain = () => {
          for (let fx = node.ready(); fx !== null; fx = node.ready()) {
            for (const o of fx.outputs as SimOutput<KvReply>[]) {
              if (o.type === 'reply') replies.set(o.requestId, [...(replies.get(o.requestId) ?? []), o.reply]);
              else if (o.event.kind === 'restore') restores++;
            }
            node.advance();
          }
        };
        for (const s of steps) {
          switch (s.t) {
            case 'write': {
              const seq = s.retry && seqs[s.client]! > 0 ? seqs[s.client]! : ++seqs[s.client]!;
              node.request(++rid, { client: ClientId(`c${s.client}`), seq, op: { f: 'write', key: `k${seq % 3}`, value: seq } });
              break;
            }
            case 'read':
              node.request(++rid, { client: ClientId('r'), seq: 0, op: { f: 'read', key: 'k1' } });
              break;
            case 'commit':
              log.commitAll();
              break;
            case 'auto':
              log.autoCommit = s.on;
              break;
            case 'lose':
              if (log.role === 'leader') log.loseLeadership(null);
              break;
            case 'regain':
              log.role = 'leader';
              log.term++;
              log.leader = log.id;
              break;
            case 'snapshot': {
              // A follower that fell behind: the leader elsewhere sends a snapshot with two more writes in it.
              if (log.role === 'leader') break;
              const other = new KvStateMachine();
              other.restore(node.sm.snapshot());
              for (let k = 0; k < 2; k++) {
                const at = LogIndex(Math.max(other.appliedIndex, log.lastIndex()) + 1);
                while (other.appliedIndex + 1 < at) other.apply(LogIndex(other.appliedIndex + 1), null);
                other.apply(at, { client: ClientId('elsewhere'), seq: ++foreign, op: { type: 'put', key: b('k1'), value: b(`"f${foreign}"`) } });
              }
              log.installSnapshot(other.appliedIndex, other.snapshot());
              break;
            }
          }
          drain();
        }
        log.role = 'leader';
        log.commitAll();
        drain();
        for (let id = 1; id <= rid; id++) assert.equal(replies.get(id)?.length, 1, `request ${id}: ${JSON.stringify(replies.get(id))}`);
        assert.equal(node.sm.appliedIndex, log.commitIndex);
        // A follower applying the same committed log from the start reaches the same state.
        const follower = new KvStateMachine();
        const committed = log.entries;
        if (log.snapshot) follower.restore(log.snapshot.snapshot);
        for (const e of committed) if (e.index > follower.appliedIndex) follower.apply(e.index, e.command);
        assert.equal(follower.chain, node.sm.chain);
        assert.deepEqual(follower.range(ALL), node.sm.range(ALL));
      }),
      { numRuns: 150 },
    );
    assert.ok(restores > 10, `the schedules installed only ${restores} snapshots`);
  });
});
