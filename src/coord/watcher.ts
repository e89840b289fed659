// One etcd watch stream as an async iterator. It does not reconnect: when the
// stream fails it waits a short backoff, moves this client's watch endpoint on
// to the next one, and ends; callers re-read the state they care about and
// start a new watch from that read's revision + 1, so nothing is missed and a
// compacted history is never a problem.

import type { EtcdClient } from '../server/client.js';
import { CoordError } from './errors.js';
import { kvIn, type Kv, toRevision } from './etcd-ops.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: Kv;
}

export interface WatchRequest {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer;
  /** First revision to report (the revision of the read this watch continues, + 1). */
  readonly fromRevision: number;
  readonly signal: AbortSignal;
}

/** Events buffered but not yet consumed; beyond this the watch fails (the consumer is stuck). */
export const MAX_BUFFERED_EVENTS = 10_000;
const BACKOFF_MS = 200;

const cursor = new WeakMap<EtcdClient, number>();

function endpointOf(client: EtcdClient): string {
  return client.endpoints[(cursor.get(client) ?? 0) % client.endpoints.length] as string;
}

function moveOn(client: EtcdClient, from: string): void {
  // Only move if no other watch has moved it already.
  if (endpointOf(client) === from) cursor.set(client, (cursor.get(client) ?? 0) + 1);
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Events on `key` (or [key, rangeEnd)) from `fromRevision` on, until the
 * signal aborts (the iterator returns) or the stream fails (it returns after
 * a backoff). It never throws for a failed stream; it throws only when the
 * consumer falls more than MAX_BUFFERED_EVENTS behind.
 */
export async function* watchOnce(client: EtcdClient, req: WatchRequest): AsyncGenerator<WatchEvent, void, undefined> {
  if (req.signal.aborted) return;
  const endpoint = endpointOf(client);
  const stream = client.streamAt(endpoint, 'Watch', 'Watch');
  const buffered: WatchEvent[] = [];
  let failed = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('data', (res: Any) => {
    if (res.canceled) failed = true; // e.g. compacted: the caller re-reads
    for (const e of res.events as Any[]) buffered.push({ type: e.type === 'DELETE' ? 'delete' : 'put', kv: kvIn(e.kv) });
    poke();
  });
  stream.on('error', () => {
    failed = true;
    poke();
  });
  stream.on('end', () => {
    failed = true;
    poke();
  });
  req.signal.addEventListener('abort', poke);
  stream.write({ create_request: { key: req.key, range_end: req.rangeEnd ?? Buffer.alloc(0), start_revision: String(toRevision(req.fromRevision, 'fromRevision')) } });
  try {
    for (;;) {
      if (buffered.length > MAX_BUFFERED_EVENTS) throw new CoordError(`watch on '${req.key.toString()}': more than ${MAX_BUFFERED_EVENTS} events not consumed`);
      const e = buffered.shift();
      if (e !== undefined) {
        yield e;
        continue;
      }
      if (req.signal.aborted) return;
      if (failed) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    req.signal.removeEventListener('abort', poke);
    stream.cancel();
  }
  moveOn(client, endpoint);
  await sleep(BACKOFF_MS, req.signal);
}

/**
 * Resolves once `key` is deleted at `fromRevision` or later, or when the watch
 * ends without seeing it (stream failed, signal aborted): the caller re-reads.
 */
export async function deletedOrInterrupted(client: EtcdClient, key: Buffer, fromRevision: number, signal: AbortSignal): Promise<void> {
  for await (const e of watchOnce(client, { key, fromRevision, signal })) {
    if (e.type === 'delete') return;
  }
}
