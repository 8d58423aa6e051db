/**
 * Typed errors of the protocol package. Every error thrown by this package is a `ProtocolError`
 * with a stable string `code` and Kafka's numeric `errorCode` where Kafka has one; decoders throw
 * only `ProtocolDecodeError` (or `UnsupportedVersionError` for a version we do not serve), so a
 * server can answer or close the connection without guessing what went wrong.
 */
import { ErrorCode, errorInfo } from './error-codes.js';

export class ProtocolError extends Error {
  readonly code: string;
  readonly errorCode: number;
  /** Whether Kafka's error table calls `errorCode` retriable. */
  readonly retriable: boolean;
  constructor(code: string, errorCode: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.errorCode = errorCode;
    this.retriable = errorInfo(errorCode).retriable;
  }
}

/** Malformed bytes: a length beyond the buffer, an over-long varint, an invalid uuid, ... */
export class ProtocolDecodeError extends ProtocolError {
  /** Dotted path of the field being read, e.g. `topics[2].partitions[0].records`. */
  readonly path: string;
  readonly reason: string;
  constructor(reason: string, path = '', context = '') {
    super('INVALID_REQUEST', ErrorCode.INVALID_REQUEST, ProtocolDecodeError.format(reason, path, context));
    this.reason = reason;
    this.path = path;
  }

  /** The same error with `segment` prepended to its field path (used while unwinding nested decoders). */
  withOuterPath(segment: string): ProtocolDecodeError {
    const path = this.path === '' ? segment : this.path.startsWith('[') ? `${segment}${this.path}` : `${segment}.${this.path}`;
    const error = new ProtocolDecodeError(this.reason, path);
    return error;
  }

  /** The same error with the message's name and version prefixed (`Metadata v9 request`). */
  withContext(context: string): ProtocolDecodeError {
    return new ProtocolDecodeError(this.reason, this.path, context);
  }

  private static format(reason: string, path: string, context: string): string {
    const where = [context, path === '' ? '' : `field ${path}`].filter((part) => part !== '').join(', ');
    return where === '' ? reason : `${where}: ${reason}`;
  }
}

/** A body that cannot be written in the requested version (null where not nullable, bad uuid...). */
export class ProtocolEncodeError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_FIELD', ErrorCode.INVALID_REQUEST, message);
  }
}

/** An (api key, version) pair that this package does not describe. */
export class UnsupportedVersionError extends ProtocolError {
  readonly apiKey: number;
  readonly apiVersion: number;
  constructor(apiKey: number, apiVersion: number) {
    super('UNSUPPORTED_VERSION', ErrorCode.UNSUPPORTED_VERSION, `api key ${apiKey} version ${apiVersion} is not supported`);
    this.apiKey = apiKey;
    this.apiVersion = apiVersion;
  }
}

/** A frame whose declared size is negative or above `frameBytesMax`; raised before any allocation. */
export class FrameTooLargeError extends ProtocolError {
  readonly sizeBytes: number;
  readonly frameBytesMax: number;
  constructor(sizeBytes: number, frameBytesMax: number) {
    super(
      'FRAME_TOO_LARGE',
      ErrorCode.INVALID_REQUEST,
      sizeBytes < 0 ? `frame size ${sizeBytes} is negative` : `frame size ${sizeBytes} exceeds frameBytesMax ${frameBytesMax}`,
    );
    this.sizeBytes = sizeBytes;
    this.frameBytesMax = frameBytesMax;
  }
}

/**
 * An error code returned by Kafka (or by our broker) in a response, as an exception for clients:
 * `code` is Kafka's name (`'NOT_COORDINATOR'`), `errorCode` the number.
 */
export class KafkaProtocolError extends Error {
  readonly code: string;
  readonly errorCode: number;
  readonly retriable: boolean;
  constructor(errorCode: number, detail?: string) {
    const info = errorInfo(errorCode);
    super(detail ? `${info.name}: ${detail}` : `${info.name}: ${info.message}`);
    this.name = 'KafkaProtocolError';
    this.code = info.name;
    this.errorCode = errorCode;
    this.retriable = info.retriable;
  }
}
