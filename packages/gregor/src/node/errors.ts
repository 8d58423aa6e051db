/**
 * Errors of the node's wiring: each has a stable string `code`, `retriable`, and Kafka's numeric
 * `errorCode` where one fits, as every error of the project.
 */

/** Kafka's NETWORK_EXCEPTION (13): what a request that got no answer becomes. */
const NETWORK_EXCEPTION = 13;

export class NodeError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly errorCode: number | undefined;
  constructor(code: string, message: string, options: { retriable: boolean; errorCode?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable;
    this.errorCode = options.errorCode;
  }
}

/**
 * A peer that cannot be reached: its address is unknown, the network is closed, it did not answer,
 * or no active controller answered in time. Retriable except once the network is closed.
 */
export class NodeNetworkError extends NodeError {
  constructor(code: 'PEER_ADDRESS_UNKNOWN' | 'NETWORK_CLOSED' | 'PEER_UNREACHABLE' | 'CONTROLLER_UNREACHABLE', message: string, cause?: unknown) {
    super(code, message, { retriable: code !== 'NETWORK_CLOSED', errorCode: NETWORK_EXCEPTION, cause });
  }
}

/** The node's settings do not describe a node that can run (roles, voters, listeners). */
export class NodeConfigError extends NodeError {
  constructor(
    /** The Kafka setting at fault (`process.roles`, `controller.quorum.voters`, ...). */
    readonly setting: string,
    message: string,
  ) {
    super('INVALID_NODE_CONFIG', `${setting}: ${message}`, { retriable: false, errorCode: 40 });
  }
}
