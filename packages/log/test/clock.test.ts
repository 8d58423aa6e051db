import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/index.js';

describe('FakeClock', () => {
  it('runs due timers in order of due time, then of creation, with now() at each due time', () => {
    const clock = new FakeClock(1000);
    const ran: Array<[string, number]> = [];
    clock.setTimeout(() => ran.push(['b', clock.now()]), 20);
    clock.setTimeout(() => ran.push(['a', clock.now()]), 10);
    clock.setTimeout(() => ran.push(['c', clock.now()]), 20);
    clock.advance(25);
    expect(ran).toEqual([['a', 1010], ['b', 1020], ['c', 1020]]);
    expect(clock.now()).toBe(1025);
  });

  it('names the due time of the earliest pending timer, so a simulation can step timer by timer', () => {
    const clock = new FakeClock(0);
    expect(clock.nextTimerDueMs).toBeUndefined();
    const late = clock.setTimeout(() => {}, 50);
    clock.setTimeout(() => clock.setTimeout(() => {}, 0), 30);
    expect(clock.nextTimerDueMs).toBe(30);
    clock.advance((clock.nextTimerDueMs as number) - clock.now());
    // The 0 ms timer set by the one that ran fell due within the window and ran too.
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerDueMs).toBe(50);
    clock.clearTimeout(late);
    expect(clock.nextTimerDueMs).toBeUndefined();
  });
});
