/**
 * When the answer to a failed authentication may be sent (Kafka's
 * `connection.failed.authentication.delay.ms`). Kafka holds every failed connection for the delay,
 * then answers and closes it; that alone does not slow a client that guesses on many connections
 * at once. Here the failures of one client address are also spaced: each is answered no sooner than
 * the delay after the previous answer to that address, so one address gets at most one failure
 * answer per delay however many connections it opens (a single failing connection waits exactly
 * the delay, as in Kafka).
 *
 * Memory: one entry per address that failed recently, at most `maxAddresses`. Entries are kept in
 * the order of their last failure; those at the front whose answer time has passed are dropped at
 * each failure, and when the map is full the address that failed least recently is forgotten. A connection held here counts against `max.connections` and is closed by the idle timeout
 * like any other. Event loop only; time from the injected clock.
 */
import assert from 'node:assert/strict';

/** Addresses remembered at once. */
export const FAILED_AUTHENTICATION_ADDRESSES_MAX = 10_000;

export class FailedAuthenticationDelays {
  /** Address to the time its latest failure is answered, in order of the last failure (re-inserted when updated). */
  private readonly answerAtMs = new Map<string, number>();

  constructor(
    private readonly delayMs: number,
    private readonly now: () => number,
    private readonly maxAddresses: number = FAILED_AUTHENTICATION_ADDRESSES_MAX,
  ) {
    assert.ok(Number.isSafeInteger(delayMs) && delayMs >= 0, 'delayMs must be a non-negative integer');
    assert.ok(Number.isSafeInteger(maxAddresses) && maxAddresses > 0, 'maxAddresses must be a positive integer');
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.answerAtMs.size;
  }

  /** A failure from `address` now: how long to hold its answer (ms). */
  delayFor(address: string): number {
    if (this.delayMs === 0) return 0;
    const now = this.now();
    this.dropPast(now);
    const previous = this.answerAtMs.get(address);
    const answerAt = Math.max(now, previous ?? now) + this.delayMs;
    this.answerAtMs.delete(address);
    if (this.answerAtMs.size >= this.maxAddresses) this.answerAtMs.delete(this.answerAtMs.keys().next().value as string);
    this.answerAtMs.set(address, answerAt);
    return answerAt - now;
  }

  /** Drops the entries at the front whose answer time has passed (cheap: stops at the first that has not). */
  private dropPast(now: number): void {
    for (const [address, answerAt] of this.answerAtMs) {
      if (answerAt > now) break;
      this.answerAtMs.delete(address);
    }
  }
}
