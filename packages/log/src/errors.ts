/**
 * Typed errors of `@gregor/log`. Every error has a stable string `code` and, where Kafka has one,
 * Kafka's numeric `errorCode`, so the broker can answer with it unchanged.
 */

/** Base class of every operating error thrown by the log. */
export class LogError extends Error {
  readonly code: string;
  /** No log error goes away by retrying the same call. */
  readonly retriable = false;
  readonly errorCode: number | undefined;
  constructor(code: string, message: string, errorCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.errorCode = errorCode;
  }
}

/**
 * Bytes on disk that are not a valid batch where one must be (bad length, magic, CRC, offsets).
 * Names the file and the byte range `[startPosition, endPosition)` so an operator can inspect it
 * with `gregor dump-log`. Kafka's CORRUPT_MESSAGE (2).
 */
export class LogCorruptionError extends LogError {
  readonly path: string;
  readonly startPosition: number;
  readonly endPosition: number;
  /**
   * For a read: the first offset after the damage at which reading can resume (the next valid
   * batch's base offset, or the next segment's base, or the log end offset); undefined when unknown.
   */
  resumeOffset: number | undefined;
  constructor(path: string, startPosition: number, endPosition: number, reason: string, options: { resumeOffset?: number } = {}) {
    super('LOG_CORRUPTION', `corrupt log ${path} at bytes [${startPosition}, ${endPosition}): ${reason}`, 2);
    this.path = path;
    this.startPosition = startPosition;
    this.endPosition = endPosition;
    this.resumeOffset = options.resumeOffset;
  }
}

/** A fetch or seek outside [logStartOffset, logEndOffset]. Kafka's OFFSET_OUT_OF_RANGE (1). */
export class OffsetOutOfRangeError extends LogError {
  constructor(offset: number, logStartOffset: number, logEndOffset: number) {
    super('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${logStartOffset}, ${logEndOffset}]`, 1);
  }
}

/** A batch larger than `maxMessageBytes`. Kafka's MESSAGE_TOO_LARGE (10). */
export class RecordTooLargeError extends LogError {
  constructor(sizeBytes: number, maxMessageBytes: number) {
    super('RECORD_TOO_LARGE', `batch of ${sizeBytes} bytes exceeds maxMessageBytes ${maxMessageBytes}`, 10);
  }
}

/** An append whose bytes are not well-formed batches (framing, magic, CRC). Kafka's CORRUPT_MESSAGE (2). */
export class InvalidRecordError extends LogError {
  constructor(message: string) {
    super('INVALID_RECORD', message, 2);
  }
}

/** A follower append whose offsets go backwards. Kafka's UNKNOWN_SERVER_ERROR on the follower. */
export class UnexpectedAppendOffsetError extends LogError {
  constructor(firstOffset: number, logEndOffset: number) {
    super('UNEXPECTED_APPEND_OFFSET', `follower append at offset ${firstOffset} below log end offset ${logEndOffset}`, -1);
  }
}

/** The log was used after `close()`. */
export class LogClosedError extends LogError {
  constructor(dir: string) {
    super('LOG_CLOSED', `log ${dir} is closed`);
  }
}

/** A checkpoint file (leader epochs, recovery points) that does not parse. */
export class CheckpointFormatError extends LogError {
  constructor(path: string, reason: string) {
    super('CHECKPOINT_FORMAT', `malformed checkpoint file ${path}: ${reason}`);
  }
}

/** An I/O error injected by `MemoryFileSystem.failNext`, shaped like a Node system error. */
export class FileSystemError extends LogError {
  readonly syscall: string;
  readonly path: string;
  constructor(errno: string, syscall: string, path: string, message?: string) {
    super(errno, message ?? `${errno}: ${syscall} ${path}`);
    this.syscall = syscall;
    this.path = path;
  }
}
