/**
 * The broker's typed errors. Operating errors a request can cause are answered with Kafka's error
 * codes inside the response; BrokerError is for what the broker itself throws (bad data dir,
 * corrupt state files, calls after close), with a stable string `code`, Kafka's `errorCode` and
 * whether retrying may succeed (`retriable`, from Kafka's error table).
 */
import { errorInfo } from '@gregor/protocol';

export class BrokerError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: string,
    message: string,
    /** Kafka's numeric error code closest to this failure (-1 UNKNOWN_SERVER_ERROR if none). */
    readonly errorCode = -1,
  ) {
    super(message);
    this.name = 'BrokerError';
    this.retriable = errorCode >= 0 && errorInfo(errorCode).retriable;
  }
}
