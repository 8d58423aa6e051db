/**
 * Time, injected. `systemClock` is wall time with Node timers; `FakeClock` only moves when a test
 * calls `advance(ms)`, running due timers in order, so scheduled flush/retention/compaction work is
 * deterministic. Single-threaded: callers are the log, the log manager and the broker.
 */

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // A scheduled flush or retention check must not keep the process alive on its own.
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  id: number;
  dueMs: number;
  fn: () => void;
}

/** A clock for tests: time stands still until `advance`. */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.currentMs + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.timers = this.timers.filter((timer) => timer.id !== id);
  }

  /** Number of timers not yet run. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Due time of the earliest timer not yet run, or undefined when none is pending. A simulation
   * steps the clock timer by timer with it (`advance(nextTimerDueMs - now())`), settling promises
   * between two due times.
   */
  get nextTimerDueMs(): number | undefined {
    let earliest: number | undefined;
    for (const timer of this.timers) if (earliest === undefined || timer.dueMs < earliest) earliest = timer.dueMs;
    return earliest;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due in order of due time (then of
   * creation), with `now()` equal to its due time while it runs. Timers set by a running timer run
   * too if they fall due within the window.
   */
  advance(ms: number): void {
    const targetMs = this.currentMs + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers) {
        if (timer.dueMs <= targetMs && (!next || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.id < next.id))) {
          next = timer;
        }
      }
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.currentMs = Math.max(this.currentMs, next.dueMs);
      next.fn();
    }
    this.currentMs = targetMs;
  }
}
