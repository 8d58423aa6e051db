/**
 * The simulation's event loop. Everything in a simulation happens in timers of one injected
 * FakeClock (network deliveries, the nodes' election and fetch timers, the fault schedule) and in
 * promise continuations. `runUntil` runs the timers one due time at a time, in the clock's order,
 * and between two due times lets the settled promises' continuations run (`settle`): a fixed number
 * of microtask turns, so the interleaving depends only on the seed, never on the host. No real
 * timer, no setImmediate, no wall clock.
 */
import type { FakeClock } from '@gregor/log';

/**
 * Microtask turns per settle. A continuation chain longer than this runs after the next due time
 * instead (still deterministically); the quorum's chains are a few turns long.
 */
export const SETTLE_TURNS = 32;

export class SimScheduler {
  /** Timers run so far. */
  steps = 0;

  constructor(readonly clock: FakeClock) {}

  async settle(): Promise<void> {
    for (let turn = 0; turn < SETTLE_TURNS; turn++) await undefined;
  }

  /**
   * Runs every timer due up to `untilMs`, earliest first, settling after each due time; stops early
   * (after settling) when `stop()` returns true. The clock then stands at `untilMs`, or at the time
   * it stopped.
   */
  async runUntil(untilMs: number, stop: () => boolean = () => false): Promise<void> {
    await this.settle();
    while (!stop()) {
      const due = this.clock.nextTimerDueMs;
      if (due === undefined || due > untilMs) {
        if (this.clock.now() < untilMs) this.clock.advance(untilMs - this.clock.now());
        return;
      }
      this.clock.advance(Math.max(0, due - this.clock.now()));
      this.steps++;
      await this.settle();
    }
  }

  /** Runs for `ms` of simulated time. */
  runFor(ms: number, stop?: () => boolean): Promise<void> {
    return this.runUntil(this.clock.now() + ms, stop);
  }
}
