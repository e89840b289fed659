// Watch responses on the wire: events in etcd's mvccpb shapes, and the packing
// of a watcher's events into responses of bounded size that never split a
// revision (a client resumes from the last revision it saw + 1, so a revision
// cut in two could lose its second half) unless the client asked for fragments.

import type { ChangeEvent } from '../kv/changes.js';
import type { KeyValue } from '../kv/command.js';
import * as T from './grpc/etcd-types.js';

function kvOut(kv: KeyValue): T.KeyValue {
  return { key: kv.key, create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease };
}

export function eventsOut(events: readonly ChangeEvent[], withPrevKv: boolean): T.Event[] {
  return events.map((e) => {
    const out: T.Event = { type: e.type === 'put' ? T.EventType.PUT : T.EventType.DELETE, kv: kvOut(e.kv) };
    if (withPrevKv && e.prevKv !== undefined) out.prev_kv = kvOut(e.prevKv);
    return out;
  });
}

/** Rough encoded size of an event (fields and framing beyond keys and values are small). */
function eventBytes(e: ChangeEvent): number {
  const prev = e.prevKv === undefined ? 0 : e.prevKv.key.length + e.prevKv.value.length + 32;
  return e.kv.key.length + e.kv.value.length + 32 + prev;
}

export interface Pack {
  readonly events: readonly ChangeEvent[];
  /** More fragments of the same response follow (etcd's WatchResponse.fragment). */
  readonly fragment: boolean;
}

/** Consecutive runs of events with the same mod revision. */
function byRevision(events: readonly ChangeEvent[]): ChangeEvent[][] {
  const groups: ChangeEvent[][] = [];
  let cur: ChangeEvent[] = [];
  for (const e of events) {
    const last = cur[cur.length - 1];
    if (last !== undefined && last.kv.modRevision !== e.kv.modRevision) {
      groups.push(cur);
      cur = [];
    }
    cur.push(e);
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** Splits one oversized revision into fragments of at most maxEvents events / about maxBytes. */
function fragments(group: readonly ChangeEvent[], maxEvents: number, maxBytes: number): Pack[] {
  const out: Pack[] = [];
  let cur: ChangeEvent[] = [];
  let bytes = 0;
  for (const e of group) {
    const b = eventBytes(e);
    if (cur.length > 0 && (cur.length >= maxEvents || bytes + b > maxBytes)) {
      out.push({ events: cur, fragment: true });
      [cur, bytes] = [[], 0];
    }
    cur.push(e);
    bytes += b;
  }
  out.push({ events: cur, fragment: false });
  return out;
}

/**
 * Events (in revision order) as responses: whole revisions, at most maxEvents
 * events and about maxBytes each; a revision larger than that goes alone, or
 * in fragments when the watcher asked for them.
 */
export function packRevisions(events: readonly ChangeEvent[], maxEvents: number, maxBytes: number, fragment: boolean): Pack[] {
  const packs: Pack[] = [];
  let cur: ChangeEvent[] = [];
  let bytes = 0;
  for (const g of byRevision(events)) {
    const b = g.reduce((n, e) => n + eventBytes(e), 0);
    if (cur.length > 0 && (cur.length + g.length > maxEvents || bytes + b > maxBytes)) {
      packs.push({ events: cur, fragment: false });
      [cur, bytes] = [[], 0];
    }
    if (g.length > maxEvents || b > maxBytes) {
      if (fragment) packs.push(...fragments(g, maxEvents, maxBytes));
      else packs.push({ events: g, fragment: false });
      continue;
    }
    cur.push(...g);
    bytes += b;
  }
  if (cur.length > 0) packs.push({ events: cur, fragment: false });
  return packs;
}
