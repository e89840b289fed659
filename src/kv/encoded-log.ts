// A replicated log whose entries carry each KV command already encoded: the
// command is packed once, where it is proposed, and from then on the log's
// writes and messages hold an opaque byte string, which the write-ahead log
// and the peer codec copy instead of walking. Each member decodes a command
// once, when it applies it. This is the server's log; the simulator runs the
// plain log (nothing here changes what the protocols do).
//
// A log written before commands were encoded holds them as objects: such a
// command passes through unchanged, so old data directories still recover.

import { Packr } from 'msgpackr';
import type { Effects } from '../core/effects.js';
import type { LogIndex, NodeId } from '../core/ids.js';
import type { CommittedEntry, LogOutput, LogStatus, Message, ProposeResult, ReplicatedLog } from '../core/replicated-log.js';
import type { KvCommand } from './command.js';
import { decodePut, encodePut, PUT_MARK } from './put-codec.js';

/** What the inner log carries: encoded commands (or, from old logs, commands as objects). */
export type EncodedCommand = Uint8Array | KvCommand;

/**
 * One encoding for every member: no shared structures, and byte arrays as
 * msgpack bin, decoded as Buffers that view the command's own bytes (no copy;
 * the typed-array extension took a new buffer per key and value, about 1 µs
 * each). Commands encoded with that extension by earlier versions decode as
 * before; every member decodes the same bytes the same way.
 */
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Puts in their compact form (src/kv/put-codec.ts), every other command in MessagePack. */
export function encodeKvCommand(cmd: KvCommand): Uint8Array {
  return encodePut(cmd) ?? packr.pack(cmd);
}

export function decodeKvCommand(c: EncodedCommand): KvCommand {
  if (!(c instanceof Uint8Array)) return c;
  return c[0] === PUT_MARK ? decodePut(c) : (packr.unpack(c) as KvCommand);
}

/** The size of an encoded command for the logs' byte limits. */
export function encodedCommandBytes(c: EncodedCommand, objectBytes: (cmd: KvCommand) => number): number {
  return c instanceof Uint8Array ? c.length : objectBytes(c);
}

export class EncodedCommandLog<S, W, M extends Message> implements ReplicatedLog<KvCommand, S, W, M> {
  constructor(readonly inner: ReplicatedLog<EncodedCommand, S, W, M>) {}

  get id(): NodeId {
    return this.inner.id;
  }

  tick(): void {
    this.inner.tick();
  }

  step(from: NodeId, msg: M): void {
    this.inner.step(from, msg);
  }

  propose(command: KvCommand): ProposeResult {
    return this.inner.propose(encodeKvCommand(command));
  }

  readIndex(ctx: number): void {
    this.inner.readIndex(ctx);
  }

  compact(index: LogIndex, snapshot: S): void {
    this.inner.compact(index, snapshot);
  }

  ready(): Effects<W, M, LogOutput<KvCommand, S>> | null {
    const fx = this.inner.ready();
    if (fx === null) return null;
    let decoded: LogOutput<KvCommand, S>[] | null = null;
    for (let i = 0; i < fx.outputs.length; i++) {
      const o = fx.outputs[i] as LogOutput<EncodedCommand, S>;
      if (o.type !== 'committed') continue;
      decoded ??= fx.outputs.slice() as LogOutput<KvCommand, S>[];
      decoded[i] = { type: 'committed', entries: o.entries.map(decodeEntry) };
    }
    return decoded === null ? (fx as Effects<W, M, LogOutput<KvCommand, S>>) : { ...fx, outputs: decoded };
  }

  advance(): void {
    this.inner.advance();
  }

  status(): LogStatus {
    return this.inner.status();
  }
}

function decodeEntry(e: CommittedEntry<EncodedCommand>): CommittedEntry<KvCommand> {
  return e.command === null ? (e as CommittedEntry<KvCommand>) : { index: e.index, command: decodeKvCommand(e.command) };
}
