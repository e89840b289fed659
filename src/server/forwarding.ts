// Frames between members: protocol messages, and client requests that a
// follower forwards to the leader (with the leader's reply coming back).
// Members also tell each other their client URLs, for MemberList.

import type { NodeId } from '../core/ids.js';
import type { KvReply, KvRequest } from '../kv/api.js';
import type { Transport } from '../net/transport.js';

export type PeerFrame<M> =
  | { readonly type: 'protocol'; readonly msg: M }
  | { readonly type: 'forward'; readonly id: number; readonly req: KvRequest; readonly timeoutMs: number }
  | { readonly type: 'forward-reply'; readonly id: number; readonly reply: KvReply | { readonly ok: false; readonly error: 'failed'; readonly message: string } }
  | { readonly type: 'member-info'; readonly name: string; readonly clientUrls: readonly string[] };

export class ForwardError extends Error {
  override readonly name = 'ForwardError';
}

interface Waiting {
  resolve(r: KvReply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** Sends requests to another member and matches the replies that come back. */
export class Forwarder<M> {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly transport: Transport<PeerFrame<M>>, private readonly maxWaiting = 50_000) {}

  forward(to: NodeId, req: KvRequest, timeoutMs: number): Promise<KvReply> {
    if (this.waiting.size >= this.maxWaiting) return Promise.reject(new ForwardError('too many requests forwarded to the leader; retry later'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ForwardError(`the leader did not answer within ${timeoutMs} ms (the request may still take effect)`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      try {
        this.transport.send(to, { type: 'forward', id, req, timeoutMs });
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new ForwardError(`cannot forward to the leader: ${(err as Error).message}`));
      }
    });
  }

  settle(id: number, reply: PeerFrame<M> & { type: 'forward-reply' }): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    if (reply.reply.ok === false && reply.reply.error === 'failed') w.reject(new ForwardError(`the leader failed the request: ${reply.reply.message}`));
    else w.resolve(reply.reply as KvReply);
  }

  stop(): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new ForwardError('the member is stopping'));
    }
    this.waiting.clear();
  }
}
