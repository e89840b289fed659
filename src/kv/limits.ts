// Limits on what one request may carry. A request over a limit is refused with
// a clear error before it reaches the log, and again (deterministically) when
// applied, so no replica ever stores an oversized entry.

export interface KvLimits {
  /** Largest key, bytes. */
  readonly maxKeyBytes: number;
  /** Largest value, bytes. */
  readonly maxValueBytes: number;
  /** Largest sum of key, range_end and value bytes in one command (etcd's --max-request-bytes, 1.5 MiB). */
  readonly maxRequestBytes: number;
  /** Most compares, or most operations in one branch, of a txn (etcd's --max-txn-ops). */
  readonly maxTxnOps: number;
  /** Deepest nesting of txns inside txns. */
  readonly maxTxnDepth: number;
}

export const DEFAULT_LIMITS: KvLimits = {
  maxKeyBytes: 8 * 1024,
  maxValueBytes: 1024 * 1024,
  maxRequestBytes: 1536 * 1024,
  maxTxnOps: 128,
  maxTxnDepth: 8,
};
