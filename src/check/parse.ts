// The JSON Lines reader for histories (format in history.ts). Every problem
// is reported with the 1-based line number and what is wrong, so that a user
// can fix the file; nothing here throws on bad input.

import type { History, HistoryEvent } from './history.js';
import { eventShapeError, pairOperations } from './operations.js';

/** Limit: a history longer than this is refused rather than exhausting memory. */
export const MAX_HISTORY_EVENTS = 5_000_000;

export type ParseResult =
  | {
      readonly ok: true;
      readonly history: History;
      /** lines[i] is the 1-based line number of history[i] (blank lines are skipped). */
      readonly lines: readonly number[];
    }
  | { readonly ok: false; readonly line: number; readonly message: string };

export function parseHistory(text: string): ParseResult {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    if (events.length >= MAX_HISTORY_EVENTS) {
      return { ok: false, line: lineNo, message: `history longer than ${MAX_HISTORY_EVENTS} events (the limit)` };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      return { ok: false, line: lineNo, message: `bad JSON: ${(err as Error).message}` };
    }
    const problem = eventShapeError(parsed);
    if (problem !== null) return { ok: false, line: lineNo, message: problem };
    events.push(parsed as HistoryEvent);
    lines.push(lineNo);
  }
  const paired = pairOperations(events, (i) => `line ${lines[i] ?? '?'}`);
  if (!paired.ok) return { ok: false, line: lines[paired.index] ?? 0, message: paired.message };
  return { ok: true, history: events, lines };
}

/** One history event as a JSON line (the inverse of parseHistory for a single event). */
export function formatEvent(e: HistoryEvent): string {
  return JSON.stringify(e);
}
