/**
 * Exponential backoff for retriable errors, kafkajs's `retry` options. `retries` bounds the
 * attempts; the delay doubles from `initialRetryTimeMs` up to `maxRetryTimeMs`, with ±20% jitter
 * so clients that failed together do not retry together.
 */
import { type Clock, sleep } from './clock.js';
import { isRetriable, RetriesExhaustedError } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First delay (default 100 ms). */
  initialRetryTimeMs?: number;
  /** Longest delay (default 30000 ms). */
  maxRetryTimeMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = { retries: 5, initialRetryTimeMs: 100, maxRetryTimeMs: 30_000 };

export function retryDelayMs(attempt: number, options: Required<RetryOptions>, random: () => number = Math.random): number {
  const base = Math.min(options.maxRetryTimeMs, options.initialRetryTimeMs * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Runs `fn` until it succeeds, fails with a non-retriable error, or the retries run out, waiting
 * out each backoff on `clock`. `onRetriableError` runs before each wait (to refresh metadata, find
 * a new coordinator...).
 */
export async function withRetry<T>(clock: Clock, fn: (attempt: number) => Promise<T>, options: RetryOptions = {}, onRetriableError?: (error: unknown) => void | Promise<void>): Promise<T> {
  const settings = { ...RETRY_DEFAULTS, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (attempt >= settings.retries) throw new RetriesExhaustedError(`gave up after ${attempt + 1} attempts: ${(error as Error).message}`, error);
      await onRetriableError?.(error);
      await sleep(clock, retryDelayMs(attempt, settings));
    }
  }
}
