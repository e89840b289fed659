// The compact form of a put command: the same state-machine results as the
// MessagePack form for any sequence of etcd writes (a property test: two state
// machines, one fed each form), fallbacks for puts the form cannot carry
// unchanged, and a clear error for malformed bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import type { KvCommand } from '../../src/kv/command.js';
import { decodeKvCommand, encodeKvCommand } from '../../src/kv/encoded-log.js';
import { decodePut, encodePut, PutDecodeError, PUT_MARK } from '../../src/kv/put-codec.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { writeOp } from './arbitraries.js';

const msgpack = new Packr({ useRecords: false, moreTypes: false });

/** Byte arrays as plain Uint8Arrays, for deep comparison of snapshots and results. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const leaseArb = fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.constant(2 ** 53 - 1)), { nil: undefined });
const flag = fc.option(fc.boolean(), { nil: undefined });
const putCommand = fc.record({
  client: fc.oneof(fc.constant('m1.abc'), fc.string({ maxLength: 12 }), fc.constant('ü-ß')).map(ClientId),
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  key: fc.uint8Array({ maxLength: 20 }),
  value: fc.uint8Array({ maxLength: 300 }),
  lease: leaseArb,
  prevKv: flag,
  ignoreValue: flag,
  ignoreLease: flag,
}).map(({ client, seq, ...op }): KvCommand => ({
  client,
  seq,
  op: Object.fromEntries(Object.entries({ type: 'put', ...op }).filter(([, v]) => v !== undefined)) as unknown as KvCommand['op'],
}));

test('a put round-trips with every field set to what the state machine reads', () => {
  fc.assert(fc.property(putCommand, (cmd) => {
    const bytes = encodePut(cmd);
    assert.ok(bytes !== null && bytes[0] === PUT_MARK);
    const back = decodePut(bytes);
    assert.equal(back.client, cmd.client);
    assert.equal(back.seq, cmd.seq);
    const op = cmd.op as Extract<KvCommand['op'], { type: 'put' }>;
    assert.deepEqual(plain(back.op), plain({ type: 'put', key: op.key, value: op.value, lease: op.lease ?? 0, prevKv: op.prevKv === true, ignoreValue: op.ignoreValue === true, ignoreLease: op.ignoreLease === true }));
  }), { numRuns: 500 });
});

test('property: state machines fed the compact form and the MessagePack form give the same results and state', () => {
  const command = fc.oneof({ weight: 3, arbitrary: putCommand }, { weight: 1, arbitrary: fc.tuple(writeOp, fc.integer({ min: 1, max: 1000 })).map(([op, seq]): KvCommand => ({ client: ClientId('c'), seq, op })) });
  fc.assert(fc.property(fc.array(command, { maxLength: 40 }), (cmds) => {
    // Without the hash chain, as members run (it hashes the command's fields as written; only the simulator keeps it).
    const viaCompact = new KvStateMachine({ fingerprint: false });
    const viaMsgpack = new KvStateMachine({ fingerprint: false });
    cmds.forEach((cmd, i) => {
      const a = viaCompact.apply(LogIndex(i + 1), decodeKvCommand(encodeKvCommand(cmd)));
      const b = viaMsgpack.apply(LogIndex(i + 1), msgpack.unpack(msgpack.pack(cmd)) as KvCommand);
      assert.deepEqual(plain(a), plain(b), `command ${i + 1}`);
    });
    assert.deepEqual(plain(viaCompact.snapshot()), plain(viaMsgpack.snapshot()));
  }), { numRuns: 200 });
});

test('puts the compact form cannot carry unchanged stay MessagePack; other commands too', () => {
  const put = (op: object, seq = 1): KvCommand => ({ client: ClientId('c'), seq, op: { type: 'put', key: new Uint8Array([1]), value: new Uint8Array(0), ...op } as KvCommand['op'] });
  assert.equal(encodePut(put({ lease: 1.5 })), null);
  assert.equal(encodePut(put({ lease: Number.NaN })), null);
  assert.equal(encodePut(put({}, 2 ** 60)), null);
  assert.equal(encodePut(put({ key: 'not bytes' })), null);
  assert.equal(encodePut({ client: ClientId('x'.repeat(70_000)), seq: 1, op: { type: 'put', key: new Uint8Array(1), value: new Uint8Array(0) } }), null);
  assert.equal(encodePut({ client: ClientId('c'), seq: 1, op: { type: 'delete-range', key: new Uint8Array([1]) } }), null);
  // Such a put still decodes as proposed: the lease that apply refuses arrives as it was.
  const odd = put({ lease: 1.5 });
  const back = decodeKvCommand(encodeKvCommand(odd));
  assert.equal((back.op as { lease?: number }).lease, 1.5);
});

test('malformed compact puts are refused with a message naming the problem', () => {
  const good = encodePut({ client: ClientId('c'), seq: 1, op: { type: 'put', key: new Uint8Array([1, 2]), value: new Uint8Array([3]) } });
  assert.ok(good !== null);
  assert.throws(() => decodePut(good.subarray(0, 10)), (e: unknown) => e instanceof PutDecodeError && /cut short/.test(e.message));
  assert.throws(() => decodePut(good.subarray(0, good.length - 1)), (e: unknown) => e instanceof PutDecodeError && /fields end at byte/.test(e.message));
  const future = Buffer.from(good);
  future[1] = 9;
  assert.throws(() => decodePut(future), (e: unknown) => e instanceof PutDecodeError && /version 9/.test(e.message));
  assert.throws(() => decodePut(Buffer.concat([good, Buffer.from([0])])), PutDecodeError);
});
