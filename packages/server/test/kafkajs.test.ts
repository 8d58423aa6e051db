/**
 * kafkajs 2.2.4 (pre-flexible protocol versions only) against a Gregor server: produce with every
 * codec, consumer groups with rebalances, committed offsets, admin.
 */
import { type Consumer, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';
import { registerGregorCodecs } from './support/kafkajs-codecs.js';
import { waitFor } from './support/wait.js';

registerGregorCodecs();

let gregor: RunningGregor;
let kafka: Kafka;

beforeAll(async () => {
  gregor = await startGregor();
  kafka = new Kafka({ clientId: 'interop', brokers: [gregor.bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 10_000, retry: { retries: 3, initialRetryTime: 50, maxRetryTime: 300 } });
});

afterAll(async () => {
  await gregor?.close();
});

function newConsumer(groupId: string): Consumer {
  return kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 5000, heartbeatInterval: 200, maxWaitTimeInMs: 100, retry: { retries: 3, initialRetryTime: 50 } });
}

interface Received {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
}

async function consumeAll(consumer: Consumer, topic: string, count: number): Promise<Received[]> {
  const received: Received[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
    },
  });
  await waitFor(() => received.length >= count, 15_000, `${count} messages on ${topic}`);
  return received;
}

function messageSet(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`${prefix}-key-${i}`),
    value: Buffer.concat([Buffer.from(`${prefix}-value-${i}-`), Buffer.alloc(i * 7, i)]),
    headers: { index: Buffer.from(String(i)) },
  }));
}

describe('kafkajs 2.2.4 against Gregor', () => {
  it('creates topics and reads their metadata through the admin client', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'admin-made', numPartitions: 3 }] })).toBe(true);
      const { topics } = await admin.fetchTopicMetadata({ topics: ['admin-made'] });
      expect(topics).toHaveLength(1);
      expect(topics[0].name).toBe('admin-made');
      expect(topics[0].partitions.map((partition) => partition.partitionId).sort()).toEqual([0, 1, 2]);
      expect(topics[0].partitions.every((partition) => partition.leader === 0)).toBe(true);
      expect(await admin.listTopics()).toContain('admin-made');
    } finally {
      await admin.disconnect();
    }
  });

  for (const [name, codec] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const) {
    it(`produces ${name}-compressed batches that a consumer reads back byte for byte`, async () => {
      const topic = `kafkajs-${name}`;
      const messages = messageSet(name, 20);
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      const consumer = newConsumer(`group-${name}`);
      try {
        const [result] = await producer.send({ topic, compression: codec, messages, acks: -1 });
        expect(result.errorCode).toBe(0);
        expect(result.baseOffset).toBe('0');
        await consumer.connect();
        const received = await consumeAll(consumer, topic, messages.length);
        expect(received.map((message) => message.offset)).toEqual(messages.map((_, i) => String(i)));
        for (const [i, message] of received.entries()) {
          expect(message.key?.equals(messages[i].key)).toBe(true);
          expect(message.value?.equals(messages[i].value)).toBe(true);
          expect(Buffer.from(message.headers.index as Buffer).equals(messages[i].headers.index)).toBe(true);
        }
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
    });
  }

  it('appends concurrent idempotent sends once each, in order, with contiguous offsets', async () => {
    const topic = 'kafkajs-idempotent';
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const consumer = newConsumer('idempotent-group');
    try {
      const batches = Array.from({ length: 6 }, (_, batch) => messageSet(`batch${batch}`, 4));
      const results = await Promise.all(batches.map((messages) => producer.send({ topic, messages, acks: -1 })));
      const baseOffsets = results.map(([result]) => Number(result.baseOffset)).sort((a, b) => a - b);
      expect(baseOffsets).toEqual([0, 4, 8, 12, 16, 20]);
      await consumer.connect();
      const received = await consumeAll(consumer, topic, 24);
      expect(received.map((message) => message.offset)).toEqual(Array.from({ length: 24 }, (_, i) => String(i)));
      expect(new Set(received.map((message) => message.value?.toString('hex'))).size).toBe(24);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('splits partitions between two group members, then gives all to the one that stays', async () => {
    const topic = 'rebalance-topic';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    await admin.disconnect();
    const assignments = new Map<string, number[]>();
    const first = newConsumer('rebalance-group');
    const second = newConsumer('rebalance-group');
    const track = (label: string, consumer: Consumer) =>
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        assignments.set(label, [...(event.payload.memberAssignment[topic] ?? [])].sort());
      });
    track('first', first);
    track('second', second);
    try {
      await first.connect();
      await first.subscribe({ topic });
      await first.run({ eachMessage: async () => {} });
      await waitFor(() => assignments.get('first')?.length === 4, 15_000, 'first member owns all partitions');
      await second.connect();
      await second.subscribe({ topic });
      await second.run({ eachMessage: async () => {} });
      await waitFor(() => (assignments.get('first')?.length ?? 0) === 2 && (assignments.get('second')?.length ?? 0) === 2, 15_000, 'partitions split');
      expect([...(assignments.get('first') ?? []), ...(assignments.get('second') ?? [])].sort()).toEqual([0, 1, 2, 3]);
      await first.disconnect();
      await waitFor(() => assignments.get('second')?.length === 4, 15_000, 'second member owns all partitions');
    } finally {
      await first.disconnect();
      await second.disconnect();
    }
  });

  it('resumes a group after its committed offset with a new consumer', async () => {
    const topic = 'commit-topic';
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: messageSet('first', 5), acks: 1 });
    const consumer = newConsumer('commit-group');
    await consumer.connect();
    try {
      const received = await consumeAll(consumer, topic, 5);
      expect(received.map((message) => message.offset)).toEqual(['0', '1', '2', '3', '4']);
      await consumer.commitOffsets([{ topic, partition: 0, offset: '5' }]);
    } finally {
      await consumer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'commit-group', topics: [topic] });
    await admin.disconnect();
    expect(committed[0].partitions[0].offset).toBe('5');
    const later = messageSet('second', 3);
    await producer.send({ topic, messages: later, acks: 1 });
    await producer.disconnect();
    const resumed = newConsumer('commit-group');
    await resumed.connect();
    try {
      const received = await consumeAll(resumed, topic, 3);
      expect(received.map((message) => message.offset)).toEqual(['5', '6', '7']);
      expect(received.map((message) => message.value?.toString('hex'))).toEqual(later.map((message) => message.value.toString('hex')));
    } finally {
      await resumed.disconnect();
    }
  });
});
