// Operational errors of the storage layer. Each names the file and, for
// corruption, the byte offset, so an operator knows what to inspect or restore.

/** A record or file that cannot be trusted was found where a torn tail is impossible. */
export class CorruptionError extends Error {
  override readonly name = 'CorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `storage corruption in ${file} at byte offset ${offset}: ${reason}. ` +
        'Refusing to start: restore this member from a snapshot or a peer, or remove its data directory and re-join it.',
    );
  }
}

/** An append larger than the configured record-size limit. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`record of ${sizeBytes} bytes exceeds the record-size limit of ${limitBytes} bytes`);
  }
}

/** More bytes are waiting for the disk than the configured bound allows. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly queuedBytes: number,
    readonly limitBytes: number,
  ) {
    super(`write queue holds ${queuedBytes} bytes, over its limit of ${limitBytes} bytes: the disk is not keeping up`);
  }
}

/** The log was closed, crashed (tests) or failed; no more appends are accepted. */
export class LogClosedError extends Error {
  override readonly name = 'LogClosedError';
}

/**
 * A write or fsync failed. The log stops for good: after a failed fsync the
 * kernel may have dropped the dirty pages, so retrying could report durable
 * data that is not (the "fsyncgate" lesson). Restart the process to recover
 * from what is on disk.
 */
export class LogFailedError extends Error {
  override readonly name = 'LogFailedError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}
