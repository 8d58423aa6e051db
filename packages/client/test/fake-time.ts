/** Waiting on the client's FakeClock in tests: let in-process work run, watch a promise, advance in steps. */
import type { FakeClock } from '@gregor/log';

/** How far `advanceUntil` moves the fake clock at a time. */
export const STEP_MS = 250;

/** Lets pending promises, setImmediate callbacks and in-process requests run; the fake clock does not move. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface Outcome<T> {
  settledAtMs: number | null;
  value?: T;
  error?: unknown;
}

/** The outcome of `promise` and the fake time it settled at. */
export function watch<T>(clock: FakeClock, promise: Promise<T>): Outcome<T> {
  const state: Outcome<T> = { settledAtMs: null };
  promise.then(
    (value) => Object.assign(state, { settledAtMs: clock.now(), value }),
    (error: unknown) => Object.assign(state, { settledAtMs: clock.now(), error }),
  );
  return state;
}

/** Advances the fake clock in steps until `done` or `limitMs` of fake time have passed. */
export async function advanceUntil(clock: FakeClock, done: () => boolean, limitMs: number): Promise<void> {
  await settle();
  for (let passed = 0; passed < limitMs && !done(); passed += STEP_MS) {
    clock.advance(STEP_MS);
    await settle();
  }
}
