/**
 * The console's one error class: a stable string `code`, the HTTP status it answers with, and
 * `retriable` (a 503 for a busy console or an unreachable broker is worth retrying, a 400 is not).
 * Errors from the cluster (the client's KafkaProtocolError) keep Kafka's error name in `code`.
 */
export class ConsoleError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    retriable?: boolean,
  ) {
    super(message);
    this.name = 'ConsoleError';
    this.retriable = retriable ?? status === 503;
  }
}

/** A request parameter that is missing, malformed or out of bounds: 400 with the parameter named. */
export function badParameter(name: string, problem: string): ConsoleError {
  return new ConsoleError('INVALID_PARAMETER', `parameter '${name}' ${problem}`, 400);
}
