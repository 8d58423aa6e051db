/**
 * Time, injected into the client: the `clock` option of `new Client({ ... })` (default
 * `systemClock`). Everything in the client that reads the time or waits goes through it: linger,
 * retry and reconnect backoff, connection and request timeouts, the wait for buffer memory,
 * delivery.timeout.ms, metadata.max.age.ms, heartbeats, the auto-commit interval, the consumer's
 * pauses between fetches, event timestamps. So a test can drive a producer or a consumer on a
 * fake clock, and a simulation can run clients on its own time.
 *
 * The shape is @gregor/log's `Clock`, member for member (`FakeClock` and the log's `systemClock`
 * fit it as they are), but declared here: the client depends on the wire protocol and the record
 * format, not on the storage layer (docs/decisions.md, "The client's clock").
 *
 * Single-threaded: callers are the client's own objects on the event loop.
 */

/** What `setTimeout` returns, for `clearTimeout`: a fake clock's id, or Node's timer. */
export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Wall time with Node's timers. Unlike the log's background timers (unreferenced, so a flush never
 * keeps a process alive), the client's timers stay referenced: a send waiting out a retry backoff
 * or a linger must keep the process alive until it is answered, as with kafkajs.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves once `ms` have passed on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
