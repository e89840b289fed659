// The live half of the change stream for etcd's Watch (changes.ts reads the
// history half): the events of the write transaction that just committed, in
// sub-revision order, built exactly as changesSince builds them, so a watcher
// sees the same events whether it is caught up from history or fed live.

import { assert } from '../core/assert.js';
import type { StoredVersion } from './backend.js';
import type { ChangeEvent } from './changes.js';
import type { KeyValue } from './command.js';
import type { IndexEntry } from './mvcc-index.js';
import type { MvccStore } from './mvcc.js';

const EMPTY = new Uint8Array(0);

/**
 * Told after every applied write that changed keys (`events` of that one
 * revision), or with `events` null when the whole state was replaced by a
 * snapshot (changes up to `revision` must then be read from the history).
 */
export type ChangeListener = (revision: number, events: readonly ChangeEvent[] | null) => void;

/** The events of the versions one committed write added (they are in the index and the backend). */
export function changesOfWrite(store: MvccStore, written: readonly StoredVersion[]): ChangeEvent[] {
  return written.map((v) => {
    const h = store.index.versionsOf(v.key);
    let i = h.length - 1;
    while (i >= 0 && !((h[i] as IndexEntry).main === v.main && (h[i] as IndexEntry).sub === v.sub)) i--;
    // Invariant: a version written by the committed transaction is in the index.
    assert(i >= 0, 'change feed: a written version is missing from the index');
    const e = h[i] as IndexEntry;
    const prev = h[i - 1];
    const prevKv = prev === undefined || prev.tombstone ? undefined : store.keyValue(v.key, prev, null);
    const kv: KeyValue = e.tombstone
      ? { ...store.keyValue(v.key, e, null, false), createRevision: 0, version: 0, lease: 0, value: EMPTY }
      : store.keyValue(v.key, e, null);
    const type = e.tombstone ? 'delete' : 'put';
    return prevKv === undefined ? { type, kv } : { type, kv, prevKv };
  });
}
