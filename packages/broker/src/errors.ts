/**
 * The broker's typed errors. Operating errors a request can cause are answered with Kafka's error
 * codes inside the response; BrokerError is for what the broker itself throws (bad data dir,
 * corrupt state files, calls after close), with a stable string `code` and Kafka's `errorCode`.
 */
export class BrokerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Kafka's numeric error code closest to this failure (-1 UNKNOWN_SERVER_ERROR if none). */
    readonly errorCode = -1,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}
