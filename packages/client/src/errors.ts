/**
 * The client's typed errors. One base class, `KafkaClientError` (kafkajs's `KafkaJSError` shape:
 * `retriable`, a stable string `code`), and one subclass per kind of failure. Errors the broker
 * returns become `KafkaProtocolError` whose `code` is the name in `@gregor/protocol`'s error table.
 */
import { errorInfo } from '@gregor/protocol';

export class KafkaClientError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** kafkajs's name for the base class, for code that catches `KafkaJSError`. */
export { KafkaClientError as KafkaJSError };

/** A Kafka error code the broker answered with; `errorCode` is Kafka's number. */
export class KafkaProtocolError extends KafkaClientError {
  readonly errorCode: number;
  /** kafkajs calls the code name `type`. */
  readonly type: string;
  constructor(errorCode: number, detail?: string | null) {
    const info = errorInfo(errorCode);
    super(info.name, detail ? `${info.message}: ${detail}` : info.message, { retriable: info.retriable });
    this.errorCode = errorCode;
    this.type = info.name;
  }
}

/**
 * A partition holds a record batch that fails its checks at `offset` (Kafka's CORRUPT_MESSAGE):
 * the broker answered CORRUPT_MESSAGE for the fetch there, or the fetched bytes did not decode.
 * The consumer stops (a `crash` event) rather than skip data silently; `seek` past the damage and
 * `run` again to go on, as Kafka's consumer asks.
 */
export class CorruptMessageError extends KafkaClientError {
  /** Kafka's CORRUPT_MESSAGE. */
  readonly errorCode = 2;
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The first offset that could not be read, a decimal string as every client offset. */
    readonly offset: string,
    detail: string,
    cause?: unknown,
  ) {
    super('CORRUPT_MESSAGE', `Corrupt record batch in ${topic}-${partition} at offset ${offset} (${detail}); seek past it to continue`, { retriable: false, cause });
  }
}

/** The connection to a broker failed or closed with requests in flight; retriable. */
export class KafkaConnectionError extends KafkaClientError {
  constructor(message: string, cause?: unknown) {
    super('CONNECTION_ERROR', message, { retriable: true, cause });
  }
}

export class RequestTimeoutError extends KafkaClientError {
  constructor(message: string) {
    super('REQUEST_TIMEOUT', message, { retriable: true });
  }
}

/** The producer's buffer (`bufferMemoryBytes`) stayed full for `maxBlockMs`, or blocking is off. */
/** The caller stopped waiting for the answer (RequestOptions.signal); the broker may still act on the request. */
export class RequestAbortedError extends KafkaClientError {
  constructor(message: string) {
    super('REQUEST_ABORTED', message, { retriable: false });
  }
}

/** Rejects with RequestAbortedError when `signal` aborts before `promise` settles; a later outcome of `promise` is dropped. */
export function abandonOnAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new RequestAbortedError(`${what} abandoned`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(new RequestAbortedError(`${what} abandoned`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export class BufferFullError extends KafkaClientError {
  constructor(message: string) {
    super('BUFFER_FULL', message, { retriable: false });
  }
}

/** A record larger than the batch limit or the whole buffer can never be sent. */
export class RecordTooLargeError extends KafkaClientError {
  constructor(message: string) {
    super('RECORD_TOO_LARGE', message, { retriable: false });
  }
}

export class NotConnectedError extends KafkaClientError {
  constructor(message: string, cause?: unknown) {
    super('NOT_CONNECTED', message, { retriable: false, cause: cause ?? undefined });
  }
}

/**
 * A batch was still not acknowledged `deliveryTimeoutMs` after it opened (Kafka's
 * delivery.timeout.ms, its TimeoutException "Expiring N record(s)"); `cause` is the last error the
 * broker or the connection gave. Not retriable: the producer has retried until then, and sending
 * the records again may write them twice.
 */
export class DeliveryTimeoutError extends KafkaClientError {
  constructor(message: string, cause: unknown) {
    super('DELIVERY_TIMEOUT', message, { retriable: false, cause });
  }
}

/**
 * `send` waited `maxBlockMs` for the topic's metadata (Kafka's max.block.ms, its TimeoutException
 * "Topic X not present in metadata after N ms"); `cause` is the last error metadata gave. Nothing
 * of the send was taken.
 */
export class MetadataTimeoutError extends KafkaClientError {
  constructor(message: string, cause: unknown) {
    super('METADATA_TIMEOUT', message, { retriable: false, cause });
  }
}

/** Retries of a retriable error ran out; `cause` is the last error. */
export class RetriesExhaustedError extends KafkaClientError {
  constructor(message: string, cause: unknown) {
    super('RETRIES_EXHAUSTED', message, { retriable: false, cause });
  }
}

/** The broker does not serve any version of an API the client needs. */
export class UnsupportedApiError extends KafkaClientError {
  constructor(message: string) {
    super('UNSUPPORTED_API', message, { retriable: false });
  }
}

/** A malformed consumer-protocol payload or a response that breaks the protocol. */
export class MalformedPayloadError extends KafkaClientError {
  constructor(message: string) {
    super('MALFORMED_PAYLOAD', message, { retriable: false });
  }
}

/** kafkajs's KafkaJSDeleteGroupsError: some groups were not deleted; `groups` holds each failure. */
export class DeleteGroupsError extends KafkaClientError {
  readonly groups: { groupId: string; errorCode: number; error: KafkaProtocolError }[];
  constructor(groups: { groupId: string; errorCode: number; error: KafkaProtocolError }[]) {
    super('DELETE_GROUPS_FAILED', `Error in DeleteGroups: ${groups.map((group) => `${group.groupId}: ${group.error.code}`).join(', ')}`, { retriable: false });
    this.groups = groups;
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof KafkaClientError && error.retriable;
}

/** Throws a `KafkaProtocolError` when `errorCode` is not NONE (0). */
export function throwIfError(errorCode: number | undefined, detail?: string | null): void {
  if (errorCode !== undefined && errorCode !== 0) throw new KafkaProtocolError(errorCode, detail);
}
