import { FakeClock } from '@gregor/log';
import type { AnyBody } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { PeerUnreachableError, SeededRandom, SimNetwork, SimScheduler } from '../../src/index.js';

/** Node 2 answers DescribeQuorum with the leaderEpoch it was asked for in the request's partitionIndex, recording arrival order. */
function network(options: { seed?: number; encode?: boolean } = {}) {
  const clock = new FakeClock(0);
  const net = new SimNetwork({ clock, random: new SeededRandom(options.seed ?? 1), encode: options.encode, minDelayMs: 1, maxDelayMs: 50 });
  const arrivals: Array<[number, number]> = [];
  const handler = (from: number) => async (_apiKey: number, _apiVersion: number, body: AnyBody) => {
    arrivals.push([from, body.topics[0].partitions[0].partitionIndex]);
    return { errorCode: 0, topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: body.topics[0].partitions[0].partitionIndex, leaderId: 2, leaderEpoch: 0, highWatermark: 0 }] }] };
  };
  net.attach(2, handler(2));
  return { clock, net, arrivals, scheduler: new SimScheduler(clock) };
}

function ask(net: SimNetwork, from: number, to: number, index: number) {
  return net.endpoint(from).send(to, 55, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: index }] }] });
}

describe('SimNetwork', () => {
  it('delivers requests on one connection in the order sent, and lets different connections overtake each other', async () => {
    const { net, arrivals, scheduler } = network({ seed: 3 });
    for (let index = 0; index < 30; index++) {
      void ask(net, 1, 2, index);
      void ask(net, 3, 2, 100 + index);
    }
    await scheduler.runFor(1000);
    const fromOne = arrivals.filter(([, index]) => index < 100).map(([, index]) => index);
    const fromThree = arrivals.filter(([, index]) => index >= 100).map(([, index]) => index);
    expect(fromOne).toEqual([...Array(30).keys()]);
    expect(fromThree).toEqual([...Array(30).keys()].map((index) => 100 + index));
    // Interleaved, not one connection after the other.
    const firstFromThree = arrivals.findIndex(([, index]) => index >= 100);
    expect(firstFromThree).toBeLessThan(29);
  });

  it('answers through the real codecs: a body the version cannot carry fails as it would on the wire', async () => {
    const { net, scheduler } = network();
    let answer: any;
    ask(net, 1, 2, 0).then((body) => (answer = body));
    await scheduler.runFor(200);
    expect(answer.topics[0].partitions[0]).toMatchObject({ leaderId: 2, currentVoters: [], observers: [] });
    expect(() => net.endpoint(1).send(2, 55, 2, { topics: [{ topicName: null as unknown as string, partitions: [] }] })).toThrow(/topicName/);
  });

  it('loses messages across a one-way cut; the sender learns it after unreachableAfterMs', async () => {
    const { net, clock, arrivals, scheduler } = network();
    net.attach(1, async () => ({}));
    net.cut(1, 2);
    let failure: unknown;
    const sentAt = clock.now();
    ask(net, 1, 2, 0).catch((error) => (failure = error));
    await scheduler.runFor(999);
    expect(failure).toBeUndefined();
    await scheduler.runFor(1);
    expect(failure).toBeInstanceOf(PeerUnreachableError);
    expect(clock.now() - sentAt).toBe(1000);
    expect(arrivals).toEqual([]);
    // The other direction still works.
    net.attach(3, async () => ({}));
    net.heal();
    let answered = false;
    ask(net, 1, 2, 1).then(() => (answered = true));
    await scheduler.runFor(200);
    expect(answered).toBe(true);
  });

  it('a node that goes down loses what was in flight to it', async () => {
    const { net, arrivals, scheduler } = network();
    let failure: unknown;
    ask(net, 1, 2, 0).catch((error) => (failure = error));
    net.detach(2);
    await scheduler.runFor(2000);
    expect(arrivals).toEqual([]);
    expect(failure).toBeInstanceOf(PeerUnreachableError);
  });

  it('holds what a paused node sends and receives, and delivers it late, in order, when it resumes', async () => {
    const { net, arrivals, scheduler } = network();
    net.pause(2);
    const answers: number[] = [];
    for (let index = 0; index < 5; index++) ask(net, 1, 2, index).then((body) => answers.push(body.topics[0].partitions[0].partitionIndex));
    await scheduler.runFor(5000);
    expect(arrivals).toEqual([]);
    net.resume(2);
    await scheduler.runFor(200);
    expect(arrivals.map(([, index]) => index)).toEqual([0, 1, 2, 3, 4]);
    expect(answers).toEqual([0, 1, 2, 3, 4]);
  });

  it('a paused node that goes down loses what it held: every sender learns it (none waits forever)', async () => {
    const { net, arrivals, scheduler } = network();
    net.pause(2);
    const failures: unknown[] = [];
    for (let index = 0; index < 3; index++) ask(net, 1, 2, index).catch((error) => failures.push(error));
    await scheduler.runFor(500);
    net.detach(2);
    await scheduler.runFor(2000);
    expect(arrivals).toEqual([]);
    expect(failures).toHaveLength(3);
    for (const failure of failures) expect(failure).toBeInstanceOf(PeerUnreachableError);
  });
});
