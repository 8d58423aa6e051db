/**
 * The failed-authentication delay per client address, on the injected clock: one failure waits the
 * delay (Kafka's), failures from one address are spaced by it however many connections they come
 * on, other addresses are not slowed, and the memory is bounded.
 */
import { FakeClock } from '@gregor/log';
import { describe, expect, it } from 'vitest';
import { FailedAuthenticationDelays } from '../src/failed-authentication-delay.js';

describe('FailedAuthenticationDelays', () => {
  it('one failure waits the delay; failures from one address at once are spaced by it; other addresses are not slowed', () => {
    const clock = new FakeClock();
    const delays = new FailedAuthenticationDelays(100, () => clock.now());
    expect(delays.delayFor('10.0.0.1')).toBe(100);
    expect(delays.delayFor('10.0.0.1')).toBe(200);
    expect(delays.delayFor('10.0.0.1')).toBe(300);
    expect(delays.delayFor('10.0.0.2')).toBe(100);
    clock.advance(250);
    // The third answer to 10.0.0.1 is due at 300: the next one 100 after it.
    expect(delays.delayFor('10.0.0.1')).toBe(150);
    clock.advance(10_000);
    expect(delays.delayFor('10.0.0.1')).toBe(100);
  });

  it('0 turns the delay off', () => {
    const delays = new FailedAuthenticationDelays(0, () => 0);
    expect([delays.delayFor('a'), delays.delayFor('a')]).toEqual([0, 0]);
    expect(delays.size).toBe(0);
  });

  it('remembers at most maxAddresses, forgetting the address that failed least recently, and drops past entries', () => {
    const clock = new FakeClock();
    const delays = new FailedAuthenticationDelays(100, () => clock.now(), 3);
    for (const address of ['a', 'b', 'c', 'd']) delays.delayFor(address);
    expect(delays.size).toBe(3);
    // 'a' was forgotten: it starts over; 'b' is still spaced.
    expect(delays.delayFor('a')).toBe(100);
    expect(delays.delayFor('c')).toBe(200);
    clock.advance(1_000);
    delays.delayFor('e');
    expect(delays.size).toBe(1);
    // Many addresses failing once each never hold more than the cap.
    const bounded = new FailedAuthenticationDelays(100, () => clock.now(), 50);
    for (let index = 0; index < 10_000; index++) bounded.delayFor(`10.0.${index >> 8}.${index & 255}`);
    expect(bounded.size).toBe(50);
  });
});
