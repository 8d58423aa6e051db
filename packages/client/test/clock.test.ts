/**
 * The client on an injected clock (`new Client({ clock })`): with @gregor/log's FakeClock, time in
 * the client moves only when the test advances it, whatever the wall clock does. Linger, retry
 * backoff, delivery.timeout.ms, metadata.max.age.ms, the TCP request timeout, the buffer-memory wait,
 * heartbeats and the auto-commit interval each wait for the fake clock; record timestamps and
 * event times are read from it.
 */
import net from 'node:net';
import { Broker } from '@gregor/broker';
import { type Clock as LogClock, FakeClock, MemoryFileSystem, systemClock as logSystemClock } from '@gregor/log';
import { decodeBatch } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { createClient } from '../src/client.js';
import { type Clock, systemClock } from '../src/clock.js';
import { Cluster } from '../src/cluster.js';
import type { Consumer } from '../src/consumer.js';
import { DeliveryTimeoutError } from '../src/errors.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import type { Producer, ProducerOptions } from '../src/producer.js';
import { TcpTransport } from '../src/tcp-transport.js';
import type { Body, RequestHandler } from '../src/transport.js';
import { FakeBroker } from './fake-broker.js';
import { fastGroupConfig, waitFor } from './helpers.js';

const START_MS = 1_700_000_000_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** Lets pending promises, setImmediate callbacks and in-process requests run; the fake clock does not move. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A handler that counts the requests of each API key before passing them to `inner`. */
function counting(inner: RequestHandler): { handler: RequestHandler; count: (apiKey: number) => number } {
  const counts = new Map<number, number>();
  return {
    handler: { handle: (apiKey: number, apiVersion: number, body: Body, context: Body) => {
      counts.set(apiKey, (counts.get(apiKey) ?? 0) + 1);
      return inner.handle(apiKey, apiVersion, body, context);
    } },
    count: (apiKey) => counts.get(apiKey) ?? 0,
  };
}

async function fakeClockProducer(options: ProducerOptions): Promise<{ clock: FakeClock; broker: FakeBroker; producer: Producer }> {
  const clock = new FakeClock(START_MS);
  const broker = new FakeBroker({ t: 1 });
  const producer = createClient({ transport: new InProcessTransport(broker), clock }).producer(options);
  await producer.connect();
  cleanups.push(async () => {
    broker.produceErrors.length = 0;
    let disconnected = false;
    const disconnecting = producer.disconnect().finally(() => (disconnected = true));
    // disconnect() flushes: batches waiting out a backoff on the fake clock go once it passes.
    for (let i = 0; i < 100 && !disconnected; i++) {
      clock.advance(1000);
      await settle(2);
    }
    await disconnecting;
  });
  return { clock, broker, producer };
}

describe('the client on a fake clock', () => {
  it("takes @gregor/log's FakeClock and systemClock as they are, and its own systemClock fits the log's Clock (one shape)", () => {
    const clocks: Clock[] = [new FakeClock(), logSystemClock];
    const back: LogClock = systemClock;
    expect(clocks.every((clock) => typeof clock.now() === 'number')).toBe(true);
    expect(Math.abs(back.now() - Date.now())).toBeLessThan(60_000);
  });

  it('sends a lone record only when the fake clock has passed lingerMs, stamped with the fake time', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 10_000, acks: 1 });
    const sent = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await settle();
    expect(broker.produceRequests).toHaveLength(0);
    clock.advance(9_999);
    await settle();
    expect(broker.produceRequests).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(broker.produceRequests).toHaveLength(1);
    expect((await sent)[0]).toMatchObject({ partition: 0, baseOffset: '0' });
    const batch = decodeBatch(broker.batches.get('t-0')?.[0] as Buffer);
    expect(batch.baseTimestamp).toBe(START_MS);
  });

  it('with lingerMs 0 sends the records of one turn of the event loop in one request, without a timer', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 0, acks: 1 });
    const sends = Promise.all([producer.send({ topic: 't', messages: [{ value: 'a' }] }), producer.send({ topic: 't', messages: [{ value: 'b' }, { value: 'c' }] })]);
    await settle();
    // No time passed and no timer was run: Node's shortest timer (1 ms) is not on the path.
    expect(clock.now()).toBe(START_MS);
    expect(clock.pendingTimers).toBe(0);
    expect(broker.produceRequests).toHaveLength(1);
    await sends;
    const batch = decodeBatch(broker.batches.get('t-0')?.[0] as Buffer);
    expect([...batch.records()].map((record) => record.value?.toString())).toEqual(['a', 'b', 'c']);
  });

  it('seals a batch lingerMs after it opened, also when the linger timer was armed for an earlier batch', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 10, acks: 1 });
    // The first batch arms the timer for +10 ms and is flushed at once; the second opens at +6.
    const first = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await settle();
    await producer.flush();
    await first;
    clock.advance(6);
    let sent = false;
    const second = producer.send({ topic: 't', messages: [{ value: 'b' }] }).then(() => (sent = true));
    await settle();
    // +10: the earlier timer fires; the second batch has lingered 4 of its 10 ms.
    clock.advance(4);
    await settle();
    expect(sent).toBe(false);
    // +16: its 10 ms are up (not +20, a whole lingerMs after that timer).
    clock.advance(6);
    await settle();
    expect(sent).toBe(true);
    await second;
    expect(broker.produceRequests).toHaveLength(2);
  });

  it('waits out a retry backoff on the fake clock before sending again', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 0, acks: 1, retry: { initialRetryTimeMs: 1000, maxRetryTimeMs: 1000 } });
    broker.produceErrors.push(6); // NOT_LEADER_OR_FOLLOWER once
    const sent = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await settle();
    // lingerMs 0 is no timer: the batch goes at the end of the event loop's turn, the clock still.
    expect(broker.produceRequests).toHaveLength(1);
    // The backoff is 1000 ms ± 20% jitter.
    clock.advance(799);
    await settle();
    expect(broker.produceRequests).toHaveLength(1);
    clock.advance(401);
    await settle();
    expect(broker.produceRequests).toHaveLength(2);
    expect((await sent)[0]).toMatchObject({ baseOffset: '0' });
  });

  it('expires a batch after deliveryTimeoutMs of fake time with DELIVERY_TIMEOUT, not retriable, caused by the last error', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 0, acks: 1, deliveryTimeoutMs: 5000, retry: { initialRetryTimeMs: 1000, maxRetryTimeMs: 1000 } });
    broker.produceErrors.push(...Array.from({ length: 100 }, () => 6));
    let failedAtMs: number | null = null;
    const outcome = producer.send({ topic: 't', messages: [{ value: 'a' }] }).then(
      () => null,
      (error: unknown) => {
        failedAtMs = clock.now();
        return error;
      },
    );
    for (let step = 0; step < 40 && failedAtMs === null; step++) {
      await settle();
      expect(failedAtMs === null || failedAtMs >= START_MS + 5000).toBe(true);
      clock.advance(250);
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    expect(error).toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: false, cause: { code: 'NOT_LEADER_OR_FOLLOWER' } });
    // It failed at the first attempt after 5000 ms had passed on the fake clock: within one backoff (≤ 1200 ms) and one step.
    expect(failedAtMs).toBeGreaterThanOrEqual(START_MS + 5000);
    expect(failedAtMs).toBeLessThanOrEqual(START_MS + 5000 + 1200 + 250);
    expect(broker.produceRequests.length).toBeGreaterThanOrEqual(5);
    expect(broker.produceRequests.length).toBeLessThanOrEqual(8);
  });

  it('fails a send waiting for buffer memory with BUFFER_FULL once maxBlockMs has passed on the fake clock', async () => {
    const { clock, broker, producer } = await fakeClockProducer({ lingerMs: 0, acks: 1, batchBytes: 1024, bufferMemoryBytes: 2048, maxBlockMs: 30_000 });
    broker.holdProduce = true;
    cleanups.push(async () => broker.releaseProduce());
    const big = Buffer.alloc(900, 1);
    // The first batch takes 1025 of the 2048 bytes and stays unanswered; the second needs 1025 more.
    const first = producer.send({ topic: 't', messages: [{ value: big }] });
    await settle();
    let blocked: unknown = 'waiting';
    const second = producer.send({ topic: 't', messages: [{ value: big }] }).then(() => 'sent', (error: unknown) => (blocked = error));
    await settle();
    clock.advance(29_999);
    await settle();
    expect(blocked).toBe('waiting');
    clock.advance(1);
    await settle();
    expect(blocked).toMatchObject({ code: 'BUFFER_FULL', retriable: false });
    broker.holdProduce = false;
    broker.releaseProduce();
    await first;
    await second;
  });

  it('trusts cached metadata until metadataMaxAgeMs has passed on the fake clock', async () => {
    const clock = new FakeClock(START_MS);
    const { handler, count } = counting(new FakeBroker({ t: 1 }));
    const cluster = new Cluster(new InProcessTransport(handler), { clock, metadataMaxAgeMs: 60_000 });
    await cluster.topicInfo('t');
    await cluster.topicInfo('t');
    expect(count(Api.Metadata)).toBe(1);
    clock.advance(60_000);
    await cluster.topicInfo('t');
    expect(count(Api.Metadata)).toBe(1);
    clock.advance(1);
    await cluster.topicInfo('t');
    expect(count(Api.Metadata)).toBe(2);
  });

  it('times a TCP request out after requestTimeoutMs of fake time with REQUEST_TIMEOUT, retriable', async () => {
    // A listener that accepts and reads but never answers.
    let received = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => received++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(resolve);
    }));
    const clock = new FakeClock(START_MS);
    const transport = new TcpTransport({ brokers: [`127.0.0.1:${(server.address() as net.AddressInfo).port}`], clock, requestTimeoutMs: 30_000 });
    cleanups.push(async () => transport.close());
    let outcome: unknown = 'waiting';
    const connecting = transport.connect().then(() => 'connected', (error: unknown) => (outcome = error));
    await waitFor(() => received > 0, 'the ApiVersions request at the silent listener');
    await settle();
    clock.advance(29_999);
    await settle();
    expect(outcome).toBe('waiting');
    clock.advance(1);
    await connecting;
    expect(outcome).toMatchObject({ code: 'REQUEST_TIMEOUT', retriable: true });
  });

  describe('a consumer', () => {
    async function fakeClockConsumer(runOptions: { autoCommitInterval?: number } = {}): Promise<{ clock: FakeClock; count: (apiKey: number) => number; consumer: Consumer; processed: () => number }> {
      const broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), config: fastGroupConfig });
      cleanups.push(() => broker.close());
      const producer = createClient({ transport: new InProcessTransport(broker) }).producer({ lingerMs: 0 });
      await producer.connect();
      await createClient({ transport: new InProcessTransport(broker) }).admin().createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
      await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
      await producer.disconnect();
      const clock = new FakeClock(START_MS);
      const { handler, count } = counting(broker);
      const consumer = createClient({ transport: new InProcessTransport(handler), clock }).consumer({ groupId: 'g', heartbeatInterval: 3000, sessionTimeout: 60_000, maxWaitTimeInMs: 10 });
      cleanups.push(() => consumer.disconnect());
      await consumer.connect();
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      let processed = 0;
      await consumer.run({ autoCommitInterval: runOptions.autoCommitInterval, eachMessage: async () => void processed++ });
      await waitFor(() => processed === 3, 'the three records');
      return { clock, count, consumer, processed: () => processed };
    }

    it('sends its heartbeats every heartbeatInterval of fake time, not of wall time', async () => {
      const { clock, count, consumer } = await fakeClockConsumer();
      let heartbeats = 0;
      consumer.on('consumer.heartbeat', () => heartbeats++);
      const fetches = count(Api.Fetch);
      await waitFor(() => count(Api.Fetch) >= fetches + 10, 'ten more fetches');
      expect(count(Api.Heartbeat)).toBe(0);
      clock.advance(3000);
      await waitFor(() => heartbeats === 1, 'a heartbeat');
      expect(count(Api.Heartbeat)).toBe(1);
      clock.advance(3000);
      await waitFor(() => heartbeats === 2, 'a second heartbeat');
    });

    it('auto-commits once autoCommitInterval has passed on the fake clock', async () => {
      const { clock, count } = await fakeClockConsumer({ autoCommitInterval: 5000 });
      const fetches = count(Api.Fetch);
      await waitFor(() => count(Api.Fetch) >= fetches + 10, 'ten more fetches');
      expect(count(Api.OffsetCommit)).toBe(0);
      clock.advance(5000);
      await waitFor(() => count(Api.OffsetCommit) === 1, 'the auto-commit');
    });
  });
});
