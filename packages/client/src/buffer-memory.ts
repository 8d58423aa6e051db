/**
 * The producer's memory budget (Kafka's `buffer.memory`): every open batch reserves its bytes
 * before records go in, and returns them when the broker has answered for the batch. When the
 * budget is spent, `reserve` waits (first come, first served) up to `maxBlockMs` and then fails
 * with BufferFullError, or fails at once when blocking is off. Memory never grows past the budget.
 * Owned by one producer; not shared.
 */
import assert from 'node:assert';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { BufferFullError, RecordTooLargeError } from './errors.js';

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: TimerHandle | null;
}

export class BufferMemory {
  private available: number;
  private readonly waiters: Waiter[] = [];

  /** `clock` times the maxBlockMs waits (the producer passes its own). */
  constructor(
    readonly totalBytes: number,
    private readonly clock: Clock = systemClock,
  ) {
    assert(totalBytes > 0, 'bufferMemoryBytes must be positive');
    this.available = totalBytes;
  }

  get availableBytes(): number {
    return this.available;
  }

  get waiterCount(): number {
    return this.waiters.length;
  }

  /** Takes `bytes` now if they are free and nobody waits before us. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || bytes > this.available) return false;
    this.available -= bytes;
    return true;
  }

  /** Waits for `bytes` up to `maxBlockMs` (0: fail at once). */
  reserve(bytes: number, maxBlockMs: number): Promise<void> {
    if (bytes > this.totalBytes) return Promise.reject(new RecordTooLargeError(`a batch of ${bytes} bytes can never fit in bufferMemoryBytes=${this.totalBytes}`));
    if (this.tryReserve(bytes)) return Promise.resolve();
    if (maxBlockMs <= 0) return Promise.reject(new BufferFullError(`producer buffer full: ${bytes} bytes needed, ${this.available} of ${this.totalBytes} free`));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, timer: null };
      waiter.timer = this.clock.setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new BufferFullError(`producer buffer stayed full for maxBlockMs=${maxBlockMs}: ${bytes} bytes needed`));
        this.wakeWaiters();
      }, maxBlockMs);
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    this.available += bytes;
    assert(this.available <= this.totalBytes, 'released more memory than reserved');
    this.wakeWaiters();
  }

  /** Fails every waiter (the producer is closing). */
  failWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0 && this.waiters[0].bytes <= this.available) {
      const waiter = this.waiters.shift()!;
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      this.available -= waiter.bytes;
      waiter.resolve();
    }
  }
}
