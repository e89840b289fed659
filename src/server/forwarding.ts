// Frames between members: protocol messages, and client requests that a
// follower forwards to the leader (with the leader's reply coming back).

import type { NodeId } from '../core/ids.js';
import type { Transport } from '../net/transport.js';

export type PeerFrame<M, Req, Reply> =
  | { readonly type: 'protocol'; readonly msg: M }
  /** A forwarded request: as an object, or `packed` by the host's RequestPacking. */
  | { readonly type: 'forward'; readonly id: number; readonly req?: Req; readonly packed?: Uint8Array; readonly timeoutMs: number }
  | { readonly type: 'forward-reply'; readonly id: number; readonly reply: Reply | ForwardFailure };

/** The leader could not take a forwarded request at all (stopping, overloaded, timed out). */
export interface ForwardFailure {
  readonly ok: false;
  readonly error: 'failed';
  readonly message: string;
}

export class ForwardError extends Error {
  override readonly name: string = 'ForwardError';
}

/** Nothing was sent: there is no connection to that member now (it may be down). Safe to retry. */
export class NotConnectedError extends ForwardError {
  override readonly name = 'NotConnectedError';
}

interface Waiting<Reply> {
  resolve(r: Reply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A compact form for the requests a host forwards most (the key-value server's
 * puts, src/kv/put-codec.ts): `pack` returns null for a request it does not
 * cover, which then travels as an object; `unpack` throws on bytes it cannot read.
 */
export interface RequestPacking<Req> {
  pack(req: Req): Uint8Array | null;
  unpack(bytes: Uint8Array): Req;
}

/** Sends requests to another member and matches the replies that come back. */
export class Forwarder<M, Req, Reply, X = never> {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting<Reply>>();

  constructor(
    private readonly transport: Transport<PeerFrame<M, Req, Reply> | X>,
    private readonly maxWaiting = 50_000,
    private readonly packing: RequestPacking<Req> | null = null,
  ) {}

  forward(to: NodeId, req: Req, timeoutMs: number): Promise<Reply> {
    // A leader we hold no connection to is probably gone: sending would only queue the request.
    if (!this.transport.connected(to)) {
      return Promise.reject(new NotConnectedError(`no connection to the leader ${to.toString(16)}`));
    }
    if (this.waiting.size >= this.maxWaiting) return Promise.reject(new ForwardError('too many requests forwarded to the leader; retry later'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ForwardError(`the leader did not answer within ${timeoutMs} ms (the request may still take effect)`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      try {
        const packed = this.packing?.pack(req) ?? null;
        this.transport.send(to, packed === null ? { type: 'forward', id, req, timeoutMs } : { type: 'forward', id, packed, timeoutMs });
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new ForwardError(`cannot forward to the leader: ${(err as Error).message}`));
      }
    });
  }

  settle(frame: PeerFrame<M, Req, Reply> & { type: 'forward-reply' }): void {
    const w = this.waiting.get(frame.id);
    if (w === undefined) return;
    this.waiting.delete(frame.id);
    clearTimeout(w.timer);
    if (isFailure(frame.reply)) w.reject(new ForwardError(`the leader failed the request: ${frame.reply.message}`));
    else w.resolve(frame.reply);
  }

  stop(): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new ForwardError('the member is stopping'));
    }
    this.waiting.clear();
  }
}

function isFailure(r: unknown): r is ForwardFailure {
  return typeof r === 'object' && r !== null && (r as { ok?: unknown }).ok === false && (r as { error?: unknown }).error === 'failed';
}

/** Serves the frames a member receives: protocol messages to the host, forwarded requests through it. */
export function servePeerFrames<M, Req, Reply, X extends { readonly type: string } = never>(
  transport: Transport<PeerFrame<M, Req, Reply> | X>,
  forwarder: Forwarder<M, Req, Reply, X>,
  host: { deliver(from: NodeId, msg: M): void; request(req: Req, timeoutMs: number): Promise<Reply> },
  other?: (from: NodeId, frame: X) => void,
  packing: RequestPacking<Req> | null = null,
): void {
  transport.onMessage((from, f) => {
    const frame = f as PeerFrame<M, Req, Reply>;
    switch (frame.type) {
      case 'protocol': return host.deliver(from, frame.msg);
      case 'forward': {
        const fail = (message: string): void => sendQuietly(transport, from, { type: 'forward-reply', id: frame.id, reply: { ok: false, error: 'failed', message } });
        let req: Req;
        try {
          req = requestOf(frame, packing);
        } catch (err) {
          return fail(`synod: a forwarded request does not decode: ${(err as Error).message}`);
        }
        host.request(req, frame.timeoutMs).then(
          (reply) => sendQuietly(transport, from, { type: 'forward-reply', id: frame.id, reply }),
          (err: Error) => fail(err.message),
        );
        return;
      }
      case 'forward-reply': return forwarder.settle(frame);
      default: return other?.(from, f as X);
    }
  });
}

function requestOf<Req>(frame: { readonly req?: Req; readonly packed?: Uint8Array }, packing: RequestPacking<Req> | null): Req {
  if (frame.packed !== undefined) {
    if (packing === null) throw new Error('a packed request reached a member that does not unpack requests');
    return packing.unpack(frame.packed);
  }
  if (frame.req === undefined) throw new Error('a forward frame without a request');
  return frame.req;
}

function sendQuietly<F>(transport: Transport<F>, to: NodeId, frame: F): void {
  try {
    transport.send(to, frame);
  } catch {
    // The peer left: the forwarding member times out and answers its client.
  }
}
