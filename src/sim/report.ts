// A protocol's own sections in the run summary (e.g. messages by type, decided
// values, commit latencies). The simulator builds one Report per `synod sim`
// invocation and shows it every trace event of every seed.

import type { TraceEvent, TraceType } from './trace.js';

export interface ReportSection {
  readonly title: string;
  /** Lines for the human-readable summary. */
  readonly lines: readonly string[];
  /** The same content for `--json`. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface Report {
  /** The trace types it needs (default: all). Fewer types keep the simulator fast. */
  readonly types?: readonly TraceType[];
  /** Called for every trace event of every run (a report makes the simulator build its trace). */
  observe(e: TraceEvent, seed: number): void;
  sections(): readonly ReportSection[];
}
