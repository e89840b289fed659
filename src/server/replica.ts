// The embedding API: a replicated state machine of your own, inside your own
// Node.js service, on Raft or Multi-Paxos, with synod's write-ahead log and
// TCP transport. See the README ("Embedding") for an example.
//
//   const replica = await startReplica({ id: 'a', members: { a: '127.0.0.1:7001', b: ..., c: ... },
//                                        dataDir: './data/a', stateMachine: new Counter() });
//   const result = await replica.propose({ add: 5 });     // applied on a majority, result from apply()
//   const value = await replica.read((sm) => sm.value);   // linearizable

import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { NodeId } from '../core/ids.js';
import type { LogStatus } from '../core/replicated-log.js';
import { RsmNode, type RsmCommand, type RsmReply, type RsmRequest, type RsmSnapshot, type StateMachine } from '../rsm/node.js';
import { TcpTransport } from '../net/tcp-transport.js';
import { openDurableLog } from '../storage/open-durable-log.js';
import { deriveId, type ProtocolName } from './config.js';
import { Forwarder, NotConnectedError, servePeerFrames, type PeerFrame } from './forwarding.js';
import { NodeHost } from './host.js';
import { bindProtocol } from './protocols.js';
import { persistAndCompact } from './durable-fold.js';
import type { SnapshotCodec } from '../raft/options.js';

export type { StateMachine } from '../rsm/node.js';

export interface ReplicaOptions<C, R, S> {
  /** This replica's name: a key of `members`. */
  readonly id: string;
  /** Every replica of the group, name -> host:port where it listens for its peers. The same on every replica. */
  readonly members: Readonly<Record<string, string>>;
  /** Where this replica keeps its write-ahead log. */
  readonly dataDir: string;
  readonly stateMachine: StateMachine<C, R, S>;
  /** Default 'raft'. */
  readonly protocol?: ProtocolName;
  /** Milliseconds per tick (default 100); an election takes `electionTicks` ticks (default 10). */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** Compact the log every this many applied commands (default 10,000). */
  readonly snapshotEveryEntries?: number;
  /** Snapshots as text for Raft's chunked transfer; default JSON (the snapshot must then be JSON data). */
  readonly snapshotCodec?: SnapshotCodec<S>;
  /** Default: warnings and errors on stderr. */
  readonly logger?: Logger;
  /** Distinguishes groups that share hosts. */
  readonly groupToken?: string;
}

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  /** 'unknown': the command may or may not have been applied (leadership changed, or no answer in time). */
  constructor(message: string, readonly outcome: 'not-applied' | 'unknown') {
    super(message);
  }
}

export interface Replica<C, R, S> {
  /** Applies `command` on the group; resolves with apply()'s result on the leader once a majority has it. */
  propose(command: C, timeoutMs?: number): Promise<R>;
  /** Runs `fn` on local state that holds every command acknowledged before the call (a linearizable read). */
  read<T>(fn: (stateMachine: StateMachine<C, R, S>) => T, timeoutMs?: number): Promise<T>;
  status(): LogStatus & { readonly applied: number; readonly leaderName: string | null };
  stop(): Promise<void>;
}

function parseAddress(name: string, addr: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(addr);
  if (m === null || Number(m[2]) === 0 || Number(m[2]) > 65535) throw new ReplicaError(`members.${name}: '${addr}' is not host:port`, 'not-applied');
  return { host: m[1] === 'localhost' ? '127.0.0.1' : (m[1] as string), port: Number(m[2]) };
}

export async function startReplica<C, R, S>(opts: ReplicaOptions<C, R, S>): Promise<Replica<C, R, S>> {
  const names = Object.keys(opts.members).sort();
  if (!names.includes(opts.id)) throw new ReplicaError(`id '${opts.id}' is not one of the members (${names.join(', ')})`, 'not-applied');
  const token = opts.groupToken ?? 'synod-replica';
  const idOf = new Map(names.map((n) => [n, deriveId(token, n)]));
  const nameOf = new Map([...idOf].map(([n, id]) => [id, n]));
  const me = idOf.get(opts.id) as NodeId;
  const logger = opts.logger ?? pino({ level: 'warn' }, pino.destination(2));
  type W = unknown;
  type M = { readonly type: string };

  await mkdir(opts.dataDir, { recursive: true });
  const { log: durable, recovered } = await openDurableLog<W>(join(opts.dataDir, 'wal'));
  const binding = bindProtocol<RsmCommand<C>, RsmSnapshot<S>>({
    protocol: opts.protocol ?? 'raft', id: me, members: [...idOf.values()], electionTicks: opts.electionTicks ?? 10,
    ...(opts.snapshotCodec ? { snapshotCodec: snapshotCodecOf(opts.snapshotCodec) } : {}),
  }, recovered);
  const node = new RsmNode<C, R, S, W, M>(binding.log, opts.stateMachine, { snapshotEveryEntries: opts.snapshotEveryEntries ?? 10_000 });

  const peers = new Map([...idOf].filter(([n]) => n !== opts.id).map(([n, id]) => [id, parseAddress(n, opts.members[n] as string)]));
  type Frame = PeerFrame<M, RsmRequest<C>, RsmReply<R>>;
  const transport = new TcpTransport<Frame>({ id: me, clusterId: token, listen: parseAddress(opts.id, opts.members[opts.id] as string), peers, logger });
  const forwarder = new Forwarder<M, RsmRequest<C>, RsmReply<R>>(transport);
  const host = new NodeHost<M, W, RsmRequest<C>, RsmReply<R>>(node, {
    persist: (writes) => persistAndCompact(durable, binding.fold, writes, logger),
    send: (to, msg) => {
      try {
        transport.send(to, { type: 'protocol', msg });
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'cannot send to peer');
      }
    },
  }, { tickMs: opts.tickMs ?? 100 });
  host.onFatal = (err) => logger.fatal({ err: err.message }, 'cannot make writes durable; the replica stopped');
  servePeerFrames(transport, forwarder, host);
  await transport.start();
  host.start();

  const origin = `${opts.id}.${randomInt(0, 2 ** 47).toString(36)}`;
  let seq = 1;
  const tickMs = opts.tickMs ?? 100;

  // A request answered 'not-leader' had no effect: retry at the leader, or after a pause while an election runs.
  async function send(req: RsmRequest<C>, timeoutMs: number): Promise<RsmReply<R> & { ok: true }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ReplicaError(`no leader answered within ${timeoutMs} ms`, req.type === 'propose' ? 'unknown' : 'not-applied');
      let reply: RsmReply<R>;
      try {
        reply = await host.request(req, left);
        if (!reply.ok && reply.error === 'not-leader' && reply.leader !== null && reply.leader !== me) reply = await forwarder.forward(reply.leader, req, left);
      } catch (err) {
        if (err instanceof NotConnectedError) {
          await new Promise((r) => setTimeout(r, tickMs));
          continue;
        }
        throw new ReplicaError((err as Error).message, req.type === 'propose' ? 'unknown' : 'not-applied');
      }
      if (reply.ok) return reply;
      if (reply.error === 'unknown') throw new ReplicaError('leadership changed before the command was applied; it may or may not have been', 'unknown');
      if (reply.error === 'busy') throw new ReplicaError('too many requests in flight; retry later', 'not-applied');
      await new Promise((r) => setTimeout(r, tickMs));
    }
  }

  return {
    async propose(command, timeoutMs = 5000) {
      const r = await send({ type: 'propose', origin, seq: seq++, command }, timeoutMs);
      if (r.type !== 'applied') throw new ReplicaError('unexpected reply to a proposal', 'unknown');
      return r.result;
    },
    async read(fn, timeoutMs = 5000) {
      await send({ type: 'read' }, timeoutMs);
      return fn(opts.stateMachine);
    },
    status() {
      const s = node.log.status();
      return { ...s, applied: node.appliedIndex, leaderName: s.leader === null ? null : (nameOf.get(s.leader) ?? null) };
    },
    async stop() {
      forwarder.stop();
      await host.stop();
      await transport.stop();
      await durable.close();
    },
  };
}

/** The user's codec covers their state; the index travels beside it. */
function snapshotCodecOf<S>(codec: SnapshotCodec<S>): SnapshotCodec<RsmSnapshot<S>> {
  return {
    encode: (s) => `${s.index}\n${codec.encode(s.state)}`,
    decode: (text) => {
      const nl = text.indexOf('\n');
      return { index: Number(text.slice(0, nl)), state: codec.decode(text.slice(nl + 1)) };
    },
  };
}
