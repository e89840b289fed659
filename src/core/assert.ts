// Assertions are always on (TigerBeetle's TIGER_STYLE): they catch our bugs,
// never a user's. Operational errors (bad input, I/O failure, a lost peer) are
// typed results or ordinary errors with a message, not assertions.

/** Thrown when an `// Invariant:` in code does not hold. Always a bug in synod. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'function' ? message() : message);
  }
}

/** Ends an exhaustive `switch` over a discriminated union. */
export function assertNever(value: never, what = 'value'): never {
  const shown = typeof value === 'object' && value !== null && 'type' in value ? String((value as { type: unknown }).type) : String(value);
  throw new AssertionError(`unexpected ${what}: ${shown}`);
}
