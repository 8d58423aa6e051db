/**
 * A simulation's trace: one line per event, stamped with the simulated time since the start,
 * hashed as it goes (same seed, same hash: the determinism check) and kept only when asked (to
 * print one seed's events). Lines after `finish()` are dropped: promises of killed nodes may
 * still settle after the run, and they are not part of it. Single-threaded.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '@gregor/log';

export class SimTrace {
  private readonly hash = createHash('sha256');
  private finished = false;
  /** The lines, when kept. */
  readonly lines: string[] | undefined;
  private readonly startMs: number;

  constructor(
    private readonly clock: Clock,
    keep = false,
  ) {
    this.startMs = clock.now();
    this.lines = keep ? [] : undefined;
  }

  /** Simulated milliseconds since the start. */
  get elapsedMs(): number {
    return this.clock.now() - this.startMs;
  }

  /** Records one event; a function so it can be handed around (`trace.line`). */
  readonly line = (text: string): void => {
    if (this.finished) return;
    const stamped = `${this.elapsedMs} ${text}`;
    this.hash.update(stamped);
    this.hash.update('\n');
    this.lines?.push(stamped);
  };

  /** Ends the trace and returns its hash. */
  finish(): string {
    this.finished = true;
    return this.hash.digest('hex');
  }
}
