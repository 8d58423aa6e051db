/**
 * The broker's channel to the active controller follows the quorum's leader while a request is in
 * flight: found by the multi-process fault test, where a paused (SIGSTOP) active controller held
 * the other brokers' heartbeats until the channel's 30 s timeout, so the newly elected controller
 * fenced them all and every partition went offline.
 */
import { FakeClock } from '@gregor/log';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/client';
import { describe, expect, it } from 'vitest';
import { NodeControllerChannel } from '../../src/node/controller-channel.js';
import type { NodeNetwork } from '../../src/node/node-network.js';

/** A network where `silent` nodes take requests and never answer, and the others answer at once. */
function network(silent: Set<number>, sent: number[]): NodeNetwork {
  return {
    send: (_channel: string, destinationId: number): Promise<Body> => {
      sent.push(destinationId);
      return silent.has(destinationId) ? new Promise(() => {}) : Promise.resolve({ errorCode: ErrorCode.NONE, answeredBy: destinationId });
    },
  } as unknown as NodeNetwork;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the controller channel', () => {
  it('abandons a request waiting on a controller that stopped answering once the quorum elects another, and sends it to the new one at once', async () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    let leaderId = 3;
    const channel = new NodeControllerChannel({ network: network(new Set([3]), sent), leaderId: () => leaderId, clock, random: () => 0.5, retryBackoffMs: 50, retryBackoffMaxMs: 1000, timeoutMs: 30_000 });
    let answer: Body | undefined;
    const request = channel.send(ApiKey.BrokerHeartbeat, 1, {}).then((response) => (answer = response));
    await settle();
    expect(sent).toEqual([3]);
    clock.advance(1000);
    await settle();
    expect(answer).toBeUndefined();
    // Node 1 wins the election: the heartbeat reaches it without waiting out the 30 s.
    leaderId = 1;
    channel.leaderChanged();
    await settle();
    await request;
    expect(answer).toMatchObject({ errorCode: ErrorCode.NONE, answeredBy: 1 });
    expect(sent).toEqual([3, 1]);
    expect(clock.now() - 1_700_000_000_000).toBe(1000);
  });

  it('keeps waiting on the leader it sent to when the change names that same leader', async () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const channel = new NodeControllerChannel({ network: network(new Set([2]), sent), leaderId: () => 2, clock, random: () => 0.5, retryBackoffMs: 50, retryBackoffMaxMs: 1000, timeoutMs: 5000 });
    const outcome = channel.send(ApiKey.BrokerHeartbeat, 1, {}).then(() => null, (error: unknown) => error);
    await settle();
    channel.leaderChanged();
    await settle();
    expect(sent).toEqual([2]);
    for (let i = 0; i < 60; i++) {
      clock.advance(100);
      await settle();
    }
    expect(await outcome).toMatchObject({ code: 'CONTROLLER_UNREACHABLE', retriable: true });
    expect(sent).toEqual([2]);
  });

  it('retries at once when a leader becomes known while it waits to retry', async () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    let leaderId = -1;
    const channel = new NodeControllerChannel({ network: network(new Set(), sent), leaderId: () => leaderId, clock, random: () => 0.5, retryBackoffMs: 1000, retryBackoffMaxMs: 1000, timeoutMs: 30_000 });
    const request = channel.send(ApiKey.BrokerHeartbeat, 1, {});
    await settle();
    expect(sent).toEqual([]);
    leaderId = 2;
    channel.leaderChanged();
    await expect(request).resolves.toMatchObject({ answeredBy: 2 });
    expect(clock.now()).toBe(1_700_000_000_000);
  });
});
