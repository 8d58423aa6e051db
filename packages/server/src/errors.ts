/** Typed errors of the TCP server, each with a stable `code`. */
export class ServerError extends Error {
  readonly code: string;
  readonly retriable = false;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerError';
    this.code = code;
  }
}

/** `listen()` called on a server that is listening or closed. */
export class ServerStateError extends ServerError {
  constructor(message: string) {
    super('SERVER_STATE', message);
    this.name = 'ServerStateError';
  }
}
