// The grpc-timeout request header (gRPC over HTTP/2: "Timeout"): at most
// eight ASCII digits followed by a unit, H M S m u n.

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** Longest timer Node keeps exactly (2^31-1 ms); longer deadlines are not armed. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Milliseconds in a grpc-timeout value, or undefined when the value is
 * malformed (the caller answers INTERNAL, as grpc-go does).
 */
export function parseGrpcTimeoutMs(value: string): number | undefined {
  const n = value.length;
  if (n < 2 || n > 9) return undefined;
  const unit = UNIT_MS[value[n - 1] ?? ''];
  if (unit === undefined) return undefined;
  let amount = 0;
  for (let i = 0; i < n - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    amount = amount * 10 + d;
  }
  return amount * unit;
}
