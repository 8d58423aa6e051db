/**
 * Every record a producer takes settles: a batch fails with DELIVERY_TIMEOUT once
 * `deliveryTimeoutMs` has passed since it opened, whether it never left the accumulator (no
 * leader, the topic gone), waits out a retry (every broker unreachable) or is in flight unanswered
 * (Kafka's RecordAccumulator.expiredBatches and Sender's expired in-flight batches), and `send`
 * waits at most `maxBlockMs` for a topic's metadata (Kafka's max.block.ms). All on a fake clock.
 */
import { FakeClock } from '@gregor/log';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { createClient } from '../src/client.js';
import { DeliveryTimeoutError, MetadataTimeoutError } from '../src/errors.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import type { Producer, ProducerOptions } from '../src/producer.js';
import type { Body } from '../src/transport.js';
import { FakeBroker } from './fake-broker.js';
import { advanceUntil, settle, STEP_MS, watch } from './fake-time.js';
import { FaultyTransport } from './helpers.js';

const START_MS = 1_700_000_000_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

interface Setup {
  clock: FakeClock;
  broker: FakeBroker;
  transport: FaultyTransport;
  producer: Producer;
  metadataRequests: () => number;
}

async function setup(options: ProducerOptions, topics: Record<string, number> = { t: 1, other: 1 }): Promise<Setup> {
  const clock = new FakeClock(START_MS);
  const broker = new FakeBroker(topics);
  let metadataRequests = 0;
  const counting = { handle: (apiKey: number, apiVersion: number, body: Body, context: Body) => {
    if (apiKey === Api.Metadata) metadataRequests++;
    return broker.handle(apiKey, apiVersion, body);
  } };
  const transport = new FaultyTransport(new InProcessTransport(counting));
  const producer = createClient({ transport, clock }).producer({ allowAutoTopicCreation: false, ...options });
  await producer.connect();
  cleanups.push(async () => {
    transport.partitioned = false;
    broker.holdProduce = false;
    broker.releaseProduce();
    await producer.disconnect({ timeoutMs: 0 });
  });
  return { clock, broker, transport, producer, metadataRequests: () => metadataRequests };
}

function expectExpiredBy(outcome: { settledAtMs: number | null; error?: unknown }, deliveryTimeoutMs: number, causeCode: string): void {
  expect(outcome.settledAtMs, 'the send settled').not.toBeNull();
  expect(outcome.settledAtMs!).toBeGreaterThanOrEqual(START_MS + deliveryTimeoutMs);
  expect(outcome.settledAtMs!).toBeLessThanOrEqual(START_MS + deliveryTimeoutMs + STEP_MS);
  expect(outcome.error).toBeInstanceOf(DeliveryTimeoutError);
  expect(outcome.error).toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: false, cause: { code: causeCode } });
}

describe('delivery.timeout.ms for batches that are never sent', () => {
  it('fails a batch whose partition never gets a leader with DELIVERY_TIMEOUT once deliveryTimeoutMs has passed, and keeps sending to other partitions', async () => {
    const { clock, broker, producer, metadataRequests } = await setup({ lingerMs: 0, acks: 1, deliveryTimeoutMs: 10_000 });
    broker.leaderless.add('t');
    const stuck = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] }));
    await advanceUntil(clock, () => stuck.settledAtMs !== null, 20_000);
    expectExpiredBy(stuck, 10_000, 'LEADER_NOT_AVAILABLE');
    expect((stuck.error as Error).message).toContain('2 record(s) for t-0');
    // The leader was looked up again with a backoff (100 ms), not in a loop as fast as the broker answers.
    expect(metadataRequests()).toBeLessThanOrEqual(10_000 / 100 + 10);
    expect(broker.produceRequests).toHaveLength(0);
    const other = watch(clock, producer.send({ topic: 'other', messages: [{ value: 'c' }] }));
    await advanceUntil(clock, () => other.settledAtMs !== null, 1000);
    expect(other.value).toMatchObject([{ topicName: 'other', partition: 0, baseOffset: '0' }]);
  });

  it('sends a batch that waited for a leader once the partition has one again', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 0, acks: 1, deliveryTimeoutMs: 10_000 });
    broker.leaderless.add('t');
    const waiting = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => false, 3000);
    expect(waiting.settledAtMs).toBeNull();
    broker.leaderless.delete('t');
    await advanceUntil(clock, () => waiting.settledAtMs !== null, 1000);
    expect(waiting.value).toMatchObject([{ topicName: 't', baseOffset: '0' }]);
  });

  it('fails a batch for a broker that cannot be reached by deliveryTimeoutMs, not at the first retry after it', async () => {
    // Retries back off 100 ms doubling (±20%): attempts near 0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 12.7 s.
    const { clock, transport, producer } = await setup({ lingerMs: 0, acks: 1, deliveryTimeoutMs: 9000 });
    // The leader is known (a send went through), then the network is cut.
    const first = watch(clock, producer.send({ topic: 't', messages: [{ value: 'first' }] }));
    await settle();
    expect(first.value).toMatchObject([{ baseOffset: '0' }]);
    transport.partitioned = true;
    const stuck = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => stuck.settledAtMs !== null, 20_000);
    expectExpiredBy(stuck, 9000, 'CONNECTION_ERROR');
    transport.partitioned = false;
    const after = watch(clock, producer.send({ topic: 't', messages: [{ value: 'b' }] }));
    await advanceUntil(clock, () => after.settledAtMs !== null, 1000);
    expect(after.value).toMatchObject([{ topicName: 't', baseOffset: '1' }]);
  });

  it('fails a batch whose topic was deleted while it waited with DELIVERY_TIMEOUT caused by UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 1000, acks: 1, deliveryTimeoutMs: 10_000 });
    const stuck = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await settle();
    broker.deleteTopic('t');
    broker.produceErrors.push(3);
    await advanceUntil(clock, () => stuck.settledAtMs !== null, 20_000);
    expectExpiredBy(stuck, 10_000, 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(broker.produceRequests).toHaveLength(1);
  });

  it('fails a batch in flight that the broker never answers by deliveryTimeoutMs, and takes its memory back when the answer comes', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 0, acks: 1, deliveryTimeoutMs: 10_000, bufferMemoryBytes: 32 * 1024, batchBytes: 16 * 1024, maxBlockMs: 0 });
    broker.holdProduce = true;
    const stuck = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => stuck.settledAtMs !== null, 20_000);
    expect(stuck.settledAtMs).toBe(START_MS + 10_000);
    expect(stuck.error).toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: false });
    // Its 16 KiB stay taken while the request may still be read: one more batch fits, not two.
    broker.holdProduce = false;
    broker.releaseProduce();
    await settle();
    const a = watch(clock, producer.send({ topic: 't', messages: [{ value: 'b' }] }));
    const b = watch(clock, producer.send({ topic: 'other', messages: [{ value: 'c' }] }));
    await advanceUntil(clock, () => a.settledAtMs !== null && b.settledAtMs !== null, 1000);
    expect(a.value).toMatchObject([{ topicName: 't' }]);
    expect(b.value).toMatchObject([{ topicName: 'other' }]);
  });

  it('fails every batch still unacknowledged when disconnect({ timeoutMs }) has waited that long, and disconnects', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 0, acks: 1 });
    broker.leaderless.add('t');
    const stuck = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await settle();
    const disconnected = watch(clock, producer.disconnect({ timeoutMs: 2000 }));
    await advanceUntil(clock, () => disconnected.settledAtMs !== null, 5000);
    expect(disconnected.settledAtMs).toBe(START_MS + 2000);
    expect(stuck.error).toMatchObject({ code: 'NOT_CONNECTED', cause: { code: 'LEADER_NOT_AVAILABLE' } });
  });

  it('tells producer.retry listeners of each retried batch and its error', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 0, acks: 1, retry: { initialRetryTimeMs: 100, maxRetryTimeMs: 100 } });
    const retries: { topic: string; partition: number; attempts: number; code: unknown }[] = [];
    producer.on(producer.events.RETRY, ({ payload }: { payload: { topic: string; partition: number; attempts: number; error: { code: unknown } } }) => {
      retries.push({ topic: payload.topic, partition: payload.partition, attempts: payload.attempts, code: payload.error.code });
    });
    broker.produceErrors.push(19, 19);
    const sent = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => sent.settledAtMs !== null, 2000);
    expect(sent.value).toMatchObject([{ baseOffset: '0' }]);
    expect(retries).toEqual([
      { topic: 't', partition: 0, attempts: 1, code: 'NOT_ENOUGH_REPLICAS' },
      { topic: 't', partition: 0, attempts: 2, code: 'NOT_ENOUGH_REPLICAS' },
    ]);
  });
});

describe('max.block.ms for metadata', () => {
  it('waits up to maxBlockMs for a topic missing from metadata, then fails send with METADATA_TIMEOUT caused by UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { clock, producer } = await setup({ lingerMs: 0, acks: 1, maxBlockMs: 20_000 });
    const missing = watch(clock, producer.send({ topic: 'missing', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => missing.settledAtMs !== null, 30_000);
    expect(missing.settledAtMs, 'the send settled').not.toBeNull();
    expect(missing.settledAtMs!).toBeGreaterThanOrEqual(START_MS + 20_000);
    expect(missing.settledAtMs!).toBeLessThanOrEqual(START_MS + 20_000 + STEP_MS);
    expect(missing.error).toBeInstanceOf(MetadataTimeoutError);
    expect(missing.error).toMatchObject({ code: 'METADATA_TIMEOUT', retriable: false, cause: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect((missing.error as Error).message).toContain("topic 'missing' not present in metadata after 20000 ms");
  });

  it('sends to a topic that appears in metadata within maxBlockMs', async () => {
    const { clock, broker, producer } = await setup({ lingerMs: 0, acks: 1, maxBlockMs: 20_000 });
    const waiting = watch(clock, producer.send({ topic: 'late', messages: [{ value: 'a' }] }));
    await advanceUntil(clock, () => false, 10_000);
    expect(waiting.settledAtMs).toBeNull();
    broker.addTopic('late', 1);
    // The lookups back off with jitter (up to 1.2 times the doubled delay), so the next one may
    // come late, but never after maxBlockMs: the last wait is cut to what is left of it.
    await advanceUntil(clock, () => waiting.settledAtMs !== null, 10_000 + STEP_MS);
    expect(waiting.value).toMatchObject([{ topicName: 'late', baseOffset: '0' }]);
    expect(waiting.settledAtMs!).toBeLessThanOrEqual(START_MS + 20_000 + STEP_MS);
  });
});
