/**
 * The controller's answer to a request it refuses: a Kafka error (stable `code`, its name, e.g.
 * `STALE_BROKER_EPOCH`; `errorCode`, its number; `retriable` as Kafka's clients treat it). Thrown
 * inside the controller while a request is checked and turned into the response's error fields;
 * never thrown out of `QuorumController.handle`.
 */
import { ErrorCode, errorInfo, type KnownErrorName } from '@gregor/protocol';
import type { ApiError } from './interfaces.js';

export class ControllerError extends Error implements ApiError {
  /** Kafka's name of the error, e.g. `STALE_BROKER_EPOCH`. */
  readonly code: string;
  readonly errorCode: number;
  readonly retriable: boolean;

  /** By Kafka's name, or by number (an error a config validator returned). */
  constructor(code: KnownErrorName | number, message?: string) {
    const info = errorInfo(typeof code === 'number' ? code : ErrorCode[code]);
    super(message ?? info.message);
    this.name = 'ControllerError';
    this.code = info.name;
    this.errorCode = info.code;
    this.retriable = info.retriable;
  }
}

/** The error fields of a response for a ControllerError; anything else is a bug and is rethrown. */
export function apiErrorOf(error: unknown): ApiError {
  if (error instanceof ControllerError) return { errorCode: error.errorCode, message: error.message };
  throw error;
}

export const NONE: ApiError = Object.freeze({ errorCode: ErrorCode.NONE, message: '' });
