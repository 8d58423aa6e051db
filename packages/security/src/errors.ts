/**
 * Typed errors of authentication and authorization, each with a stable `code`. None is retriable:
 * a client that failed to authenticate must change its credentials, not retry.
 */
import { ErrorCode } from '@gregor/protocol';

export class SecurityError extends Error {
  readonly code: string;
  readonly retriable = false;
  /** Kafka's error code for an answer on the wire, when there is one. */
  readonly errorCode: number;
  constructor(code: string, message: string, options: { errorCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SecurityError';
    this.code = code;
    this.errorCode = options.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/**
 * A SASL exchange that failed: wrong password, unknown user, a nonce that does not match, a
 * message that cannot be parsed. The message given to the client is the same for every cause
 * (`publicMessage`); `reason` says which it was, for the broker's log only.
 */
export class SaslAuthenticationError extends SecurityError {
  readonly reason: string;
  constructor(mechanism: string, reason: string) {
    super('SASL_AUTHENTICATION_FAILED', saslFailureMessage(mechanism), { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED });
    this.name = 'SaslAuthenticationError';
    this.reason = reason;
  }
}

/** What a client is told about any failed authentication: nothing about which part was wrong. */
export function saslFailureMessage(mechanism: string): string {
  return `Authentication failed: invalid credentials with SASL mechanism ${mechanism}`;
}

/** A security setting that cannot be used (a JAAS line that does not parse, a keystore that cannot be read). */
export class SecurityConfigError extends SecurityError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SECURITY_CONFIG', message, { errorCode: ErrorCode.INVALID_CONFIG, cause: options.cause });
    this.name = 'SecurityConfigError';
  }
}
