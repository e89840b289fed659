// Key ranges as half-open intervals of byte strings (see bytes.ts).

import { toByteString } from './bytes.js';
import type { KeyRange } from './command.js';

/** [start, end); `end` null means "no upper bound". */
export interface Interval {
  readonly start: string;
  readonly end: string | null;
}

/** etcd's reading of (key, range_end): one key, every key >= key ("\0"), or [key, range_end). */
export function toInterval(r: KeyRange): Interval {
  const start = toByteString(r.key);
  const end = r.rangeEnd;
  if (end === undefined || end.length === 0) return { start, end: start + '\x00' };
  if (end.length === 1 && end[0] === 0) return { start, end: null };
  return { start, end: toByteString(end) };
}

export function isSingleKey(iv: Interval): boolean {
  return iv.end !== null && iv.end.length === iv.start.length + 1 && iv.end === iv.start + '\x00';
}

export function contains(iv: Interval, key: string): boolean {
  return key >= iv.start && (iv.end === null || key < iv.end);
}
