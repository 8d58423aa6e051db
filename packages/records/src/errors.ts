/**
 * The typed errors of @gregor/records. Every error has a stable string `code`, and where Kafka has
 * an error code for the condition, its numeric `errorCode`, so the broker can answer with it.
 */

/** Base class of every error this package throws on bad input. */
export class RecordsError extends Error {
  readonly code: string;
  readonly errorCode: number;
  /** Bad bytes stay bad: never retriable. */
  readonly retriable = false;

  constructor(code: string, errorCode: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.errorCode = errorCode;
  }
}

/** Bytes that are not a valid RecordBatch v2: Kafka's CORRUPT_MESSAGE (2). */
export class CorruptRecordError extends RecordsError {
  constructor(message: string) {
    super('CORRUPT_RECORD', 2, message);
  }
}

/**
 * A compressed payload that would decompress to more than the allowed number of bytes. Kafka has
 * no dedicated code; the broker answers CORRUPT_MESSAGE (2) for it, as for any unreadable batch.
 */
export class DecompressedTooLargeError extends RecordsError {
  readonly decompressedBytesMax: number;

  constructor(decompressedBytesMax: number, detail: string) {
    super('DECOMPRESSED_TOO_LARGE', 2, `decompressed payload exceeds ${decompressedBytesMax} bytes: ${detail}`);
    this.decompressedBytesMax = decompressedBytesMax;
  }
}

/** A codec id this package does not know: Kafka's UNSUPPORTED_COMPRESSION_TYPE (76). */
export class UnsupportedCompressionError extends RecordsError {
  readonly compression: number;

  constructor(compression: number) {
    super('UNSUPPORTED_COMPRESSION_TYPE', 76, `unsupported compression type ${compression}`);
    this.compression = compression;
  }
}
