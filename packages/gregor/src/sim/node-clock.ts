/**
 * One node lifetime's view of the simulation's FakeClock: the same time, but its own timers, so
 * the simulation can pause the node (as SIGSTOP or a long GC pause: no timer of it runs, and the
 * ones that fall due meanwhile run, in order, when it resumes) and stop it for good when it
 * crashes (a dead process's timers never fire, whatever promise of it is still pending).
 * Single-threaded; owned by the simulation.
 */
import type { Clock, FakeClock, TimerHandle } from '@gregor/log';

export class NodeClock implements Clock {
  private paused = false;
  private stopped = false;
  /** Timers that fell due while paused, in due order. */
  private held: Array<{ id: number; fn: () => void }> = [];
  private readonly live = new Map<number, TimerHandle>();
  private nextId = 1;

  constructor(private readonly clock: FakeClock) {}

  now(): number {
    return this.clock.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.schedule(id, fn, ms);
    return { id };
  }

  private schedule(id: number, fn: () => void, ms: number): void {
    const run = () => {
      this.live.delete(id);
      if (this.stopped) return;
      if (this.paused) this.held.push({ id, fn });
      else fn();
    };
    this.live.set(id, this.clock.setTimeout(run, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    const inner = this.live.get(id);
    if (inner === undefined) {
      this.held = this.held.filter((timer) => timer.id !== id);
      return;
    }
    this.live.delete(id);
    this.clock.clearTimeout(inner);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  /** Runs what fell due while paused (each in a timer of its own, in order), then runs normally. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const { id, fn } of this.held.splice(0)) this.schedule(id, fn, 0);
  }

  /** The node died: none of its timers runs again. */
  stop(): void {
    this.stopped = true;
    this.held = [];
    for (const inner of this.live.values()) this.clock.clearTimeout(inner);
    this.live.clear();
  }
}
