// etcd's auto-compaction (--auto-compaction-mode, --auto-compaction-retention):
// the leader compacts the key-value history through the log, with a normal
// Compact request, so every member drops the same versions at the same point.
//
// - revision mode, retention N: every check interval (etcd: 5 minutes), compact
//   through (current revision - N) when that moved since the last compaction.
// - periodic mode, retention P: sample the revision every P/10 (at most every
//   6 minutes), and once P has passed, compact through the revision sampled P
//   ago; then again every P (at most every hour). As etcd, a bare number is
//   hours ("1" = 1h); otherwise a Go duration ("30m", "1h30m", "90s").
//
// Every member samples; only the one that is leader at the moment proposes.

import type { Logger } from 'pino';
import { ERROR_MESSAGES } from '../kv/command.js';
import type { KvOp } from '../kv/api.js';
import type { KvResult } from '../kv/command.js';
import { GrpcError } from './grpc/index.js';

export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retention: number; readonly checkMs: number };

export class AutoCompactionConfigError extends Error {
  override readonly name = 'AutoCompactionConfigError';
}

const HOUR_MS = 3_600_000;
/** etcd's revision compactor checks every 5 minutes. */
export const REVISION_CHECK_MS = 5 * 60_000;
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: HOUR_MS };

/** A Go duration ("1h30m", "90s", "1.5h", "500ms") in milliseconds; null when `text` is not one. */
export function parseDurationMs(text: string): number | null {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return ms;
}

/**
 * The policy the flags ask for, or null when auto-compaction is off
 * (retention "0" or absent, etcd's default). `interval` is synod's own
 * --auto-compaction-interval: how often revision mode checks.
 */
export function parseAutoCompaction(mode: string | undefined, retention: string | undefined, interval?: string): AutoCompaction | null {
  const m = mode ?? 'periodic';
  if (m !== 'periodic' && m !== 'revision') throw new AutoCompactionConfigError(`--auto-compaction-mode must be 'periodic' or 'revision', got '${m}'`);
  let checkMs = REVISION_CHECK_MS;
  if (interval !== undefined) {
    const ms = parseDurationMs(interval);
    if (ms === null || ms < 1) throw new AutoCompactionConfigError(`--auto-compaction-interval must be a duration such as 5m or 1s, got '${interval}'`);
    checkMs = ms;
  }
  const r = retention ?? '0';
  if (m === 'revision') {
    if (!/^\d+$/.test(r)) throw new AutoCompactionConfigError(`--auto-compaction-retention in revision mode must be a whole number of revisions, got '${r}'`);
    const n = Number(r);
    return n === 0 ? null : { mode: 'revision', retention: n, checkMs };
  }
  const ms = /^\d+$/.test(r) ? Number(r) * HOUR_MS : parseDurationMs(r);
  if (ms === null) throw new AutoCompactionConfigError(`--auto-compaction-retention in periodic mode must be hours (e.g. 1) or a duration (e.g. 30m, 1h30m), got '${r}'`);
  if (ms === 0) return null;
  if (ms < 10) throw new AutoCompactionConfigError(`--auto-compaction-retention '${r}' is too short (at least 10ms)`);
  return { mode: 'periodic', retentionMs: ms };
}

/** How often the compactor wakes up. */
export function checkIntervalMs(p: AutoCompaction): number {
  return p.mode === 'revision' ? p.checkMs : Math.min(p.retentionMs, HOUR_MS) / 10;
}

export interface CompactorDeps {
  revision(): number;
  compactRevision(): number;
  isLeader(): boolean;
  /** Proposes a Compact through the log; 'already' when the history was compacted at or past `rev` meanwhile. */
  compact(rev: number): Promise<'done' | 'already'>;
  readonly logger: Logger;
}

/** The compactor's decisions, driven by `check(nowMs)`: no clock of its own, so tests can drive it. */
export class AutoCompactor {
  private readonly samples: number[] = [];
  private readonly startedMs: number;
  private lastSuccessMs: number;
  /** Periodic mode: the wait before the first compaction is the whole retention; then min(retention, 1h). */
  private waitMs: number;
  private lastRevision = 0;
  private busy = false;

  constructor(readonly policy: AutoCompaction, private readonly deps: CompactorDeps, nowMs: number) {
    this.startedMs = nowMs;
    this.lastSuccessMs = nowMs;
    this.waitMs = policy.mode === 'periodic' ? policy.retentionMs : 0;
  }

  /** One wake-up: the revision to compact through now, or null. */
  private target(nowMs: number): number | null {
    const p = this.policy;
    if (p.mode === 'revision') {
      const rev = this.deps.revision() - p.retention;
      return rev > 0 && rev !== this.lastRevision ? rev : null;
    }
    this.samples.push(this.deps.revision());
    // Samples one retry interval apart; the first kept is the revision one retention ago.
    const keep = Math.floor(p.retentionMs / checkIntervalMs(p)) + 1;
    if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
    if (nowMs - this.lastSuccessMs < this.waitMs) return null;
    return this.samples[0] ?? null;
  }

  /** Returns the revision compacted through, or null when nothing was done. */
  async check(nowMs: number): Promise<number | null> {
    if (this.busy) return null;
    const rev = this.target(nowMs);
    if (rev === null || !this.deps.isLeader()) return null;
    if (rev <= this.deps.compactRevision()) {
      this.succeeded(rev, nowMs);
      return null;
    }
    this.busy = true;
    try {
      const outcome = await this.deps.compact(rev);
      this.succeeded(rev, nowMs);
      if (outcome === 'done') this.deps.logger.info({ revision: rev, mode: this.policy.mode, uptimeMs: nowMs - this.startedMs }, 'auto-compaction: compacted');
      return outcome === 'done' ? rev : null;
    } catch (err) {
      this.deps.logger.warn({ revision: rev, err: (err as Error).message }, 'auto-compaction failed; will retry');
      return null;
    } finally {
      this.busy = false;
    }
  }

  private succeeded(rev: number, nowMs: number): void {
    this.lastRevision = rev;
    this.lastSuccessMs = nowMs;
    if (this.policy.mode === 'periodic') this.waitMs = Math.min(this.policy.retentionMs, HOUR_MS);
  }
}

/** A Compact through `submit` (a member's path to the leader), with 'compacted' meaning already done. */
export function compactThrough(submit: (op: KvOp, timeoutMs: number) => Promise<KvResult>, timeoutMs: number): (rev: number) => Promise<'done' | 'already'> {
  return async (rev) => {
    try {
      await submit({ f: 'etcd', request: { type: 'compact', revision: rev }, internal: true }, timeoutMs);
      return 'done';
    } catch (err) {
      if (err instanceof GrpcError && err.message.includes(ERROR_MESSAGES.compacted)) return 'already';
      throw err;
    }
  };
}

/** Runs a compactor on a timer until the returned function is called. */
export function startAutoCompaction(policy: AutoCompaction, deps: CompactorDeps): () => void {
  const compactor = new AutoCompactor(policy, deps, Date.now());
  const timer = setInterval(() => void compactor.check(Date.now()), checkIntervalMs(policy));
  deps.logger.info({ mode: policy.mode, retention: policy.mode === 'revision' ? policy.retention : `${policy.retentionMs}ms`, checkMs: checkIntervalMs(policy) }, 'auto-compaction enabled');
  return () => clearInterval(timer);
}
