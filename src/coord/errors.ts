// Errors of the coordination helpers. Each says what happened and what the
// caller must do: a lost session or lock means the fencing token is no longer
// valid and work done under it must stop.

export class CoordError extends Error {
  override readonly name: string = 'CoordError';
}

/** The session's lease expired, was revoked, or could not be confirmed alive within its TTL. */
export class SessionLostError extends CoordError {
  override readonly name = 'SessionLostError';
}

/** The session was closed by its owner (not an error for the owner; the reason of aborted signals). */
export class SessionClosedError extends CoordError {
  override readonly name = 'SessionClosedError';
}

/**
 * A lock or leadership ended without `release()` / `resign()`: its session was
 * lost or its key was deleted. The holder must stop using the fencing token.
 */
export class LockLostError extends CoordError {
  override readonly name = 'LockLostError';
}

/** A lock or leadership was given up by its holder: the signal's reason after `release()` / `resign()`. */
export class LockReleasedError extends CoordError {
  override readonly name = 'LockReleasedError';
}

/** `acquire()` / `campaign()` gave up: the timeout passed or the caller's signal aborted. */
export class AcquireAbortedError extends CoordError {
  override readonly name = 'AcquireAbortedError';
}

/** An operation that requires leadership was attempted by a campaign that no longer leads. */
export class NotLeaderError extends CoordError {
  override readonly name = 'NotLeaderError';
}
