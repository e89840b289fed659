// The store's history as a stream of changes, for etcd's Watch: every put and
// delete at or after a revision, in revision order, with the previous version
// when it is still retained. The server feeds new changes to watchers as it
// applies entries, and uses this to catch a watcher up from a past revision.

import type { KeyRange, KeyValue } from './command.js';
import type { IndexEntry } from './mvcc-index.js';
import type { MvccStore } from './mvcc.js';
import { toInterval } from './range.js';

/** etcd's mvccpb.Event. A delete's `kv` has the key and the delete's mod revision, other fields zero. */
export interface ChangeEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

export type ChangesResult =
  | { readonly ok: true; readonly events: readonly ChangeEvent[]; readonly more: boolean }
  /** `fromRevision` is below the compact revision: those changes are gone (etcd cancels the watch with compact_revision). */
  | { readonly ok: false; readonly compactRevision: number };

const EMPTY = new Uint8Array(0);

/** Changes to keys in `range` with mod revision >= `fromRevision`, at most `limit` (more: true when cut). */
export function changesSince(store: MvccStore, range: KeyRange, fromRevision: number, limit: number): ChangesResult {
  if (fromRevision < store.compactRevision) return { ok: false, compactRevision: store.compactRevision };
  const found: { key: string; e: IndexEntry; prev: IndexEntry | undefined }[] = [];
  for (const key of store.index.keysIn(toInterval(range))) {
    const h = store.index.versionsOf(key);
    h.forEach((e, i) => {
      if (e.main >= fromRevision) found.push({ key, e, prev: h[i - 1] });
    });
  }
  found.sort((a, b) => a.e.main - b.e.main || a.e.sub - b.e.sub);
  const more = found.length > limit;
  const events = found.slice(0, limit).map(({ key, e, prev }): ChangeEvent => {
    const prevKv = prev === undefined || prev.tombstone ? undefined : store.keyValue(key, prev, null);
    const kv: KeyValue = e.tombstone
      ? { ...store.keyValue(key, e, null, false), createRevision: 0, version: 0, lease: 0, value: EMPTY }
      : store.keyValue(key, e, null);
    const type = e.tombstone ? 'delete' : 'put';
    return prevKv === undefined ? { type, kv } : { type, kv, prevKv };
  });
  return { ok: true, events, more };
}
