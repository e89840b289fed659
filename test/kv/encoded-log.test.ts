// The server's log wrapper: commands travel encoded, are decoded once when committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Effects } from '../../src/core/effects.js';
import { ClientId, LogIndex, NodeId } from '../../src/core/ids.js';
import type { LogOutput, LogStatus, ProposeResult, ReplicatedLog } from '../../src/core/replicated-log.js';
import type { KvCommand } from '../../src/kv/command.js';
import { EncodedCommandLog, encodedCommandBytes, type EncodedCommand } from '../../src/kv/encoded-log.js';
import { Packr } from 'msgpackr';
import { b, s } from './helpers.js';

type Fx = Effects<string, { type: string }, LogOutput<EncodedCommand, null>>;

/** A log that commits what it is given at the next ready(), as a leader alone would. */
class InstantLog implements ReplicatedLog<EncodedCommand, null, string, { type: string }> {
  readonly id = NodeId(1);
  proposed: EncodedCommand[] = [];
  private next = 1;
  tick(): void {}
  step(): void {}
  readIndex(): void {}
  compact(): void {}
  advance(): void {}
  propose(c: EncodedCommand): ProposeResult {
    this.proposed.push(c);
    return { ok: true };
  }
  ready(): Fx | null {
    if (this.proposed.length === 0) return null;
    const entries = this.proposed.map((command) => ({ index: LogIndex(this.next++), command }));
    this.proposed = [];
    return { sendNow: [], persist: ['w'], sendAfterPersist: [], outputs: [{ type: 'event', event: { kind: 'x' } }, { type: 'committed', entries: [...entries, { index: LogIndex(this.next++), command: null }] }] };
  }
  status(): LogStatus {
    return { id: this.id, role: 'leader', leader: this.id, term: 1, commitIndex: LogIndex(0), lastIndex: LogIndex(0), voters: [this.id] };
  }
}

const put = (seq: number, key: string, value: string): KvCommand => ({ client: ClientId('c'), seq, op: { type: 'put', key: b(key), value: b(value) } });

test('a command is proposed as bytes and comes back decoded when committed; other outputs and writes pass through', () => {
  const inner = new InstantLog();
  const log = new EncodedCommandLog(inner);
  log.propose(put(1, 'k', 'v'));
  assert.ok(inner.proposed[0] instanceof Uint8Array, 'the inner log carries bytes');
  assert.equal(encodedCommandBytes(inner.proposed[0] as Uint8Array, () => 0), (inner.proposed[0] as Uint8Array).length);
  const fx = log.ready();
  assert.ok(fx !== null);
  assert.deepEqual(fx.persist, ['w']);
  assert.equal(fx.outputs[0]?.type, 'event');
  const committed = fx.outputs[1];
  assert.ok(committed?.type === 'committed');
  const [first, noop] = committed.entries;
  assert.equal(noop?.command, null);
  const cmd = first?.command;
  assert.ok(cmd !== null && cmd !== undefined && cmd.op.type === 'put');
  assert.equal(cmd.seq, 1);
  assert.equal(s(cmd.op.key), 'k');
  assert.equal(s(cmd.op.value), 'v');
});

test('keys and values decode as views of the command bytes; commands encoded with the typed-array extension still decode', () => {
  const inner = new InstantLog();
  const log = new EncodedCommandLog(inner);
  log.propose(put(1, 'key', 'value'));
  const bytes = inner.proposed[0] as Uint8Array;
  // What an earlier version proposed: the same command with typed arrays as msgpack extensions.
  inner.propose(new Packr({ useRecords: false, moreTypes: true }).pack(put(2, 'old', 'ext')));
  const committed = log.ready()?.outputs.find((o) => o.type === 'committed');
  assert.ok(committed?.type === 'committed');
  const [fresh, old] = committed.entries.map((e) => e.command);
  assert.ok(fresh?.op.type === 'put' && old?.op.type === 'put');
  assert.equal(s(fresh.op.key), 'key');
  assert.equal(s(fresh.op.value), 'value');
  assert.equal(fresh.op.value.buffer, bytes.buffer, 'a view, not a copy');
  assert.equal(s(old.op.key), 'old');
  assert.equal(s(old.op.value), 'ext');
});

test('a command written as an object by an older log passes through unchanged', () => {
  const inner = new InstantLog();
  const log = new EncodedCommandLog(inner);
  const old = put(7, 'a', 'b');
  inner.propose(old);
  const committed = log.ready()?.outputs.find((o) => o.type === 'committed');
  assert.ok(committed?.type === 'committed');
  assert.equal(committed.entries[0]?.command, old);
  assert.equal(encodedCommandBytes(old, () => 42), 42);
});
