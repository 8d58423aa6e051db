import type { Broker } from '@gregor/broker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '../src/client.js';
import type { Consumer, KafkaMessage } from '../src/consumer.js';
import { partitionForKey } from '../src/murmur2.js';
import { inProcessClient, openBroker, waitFor } from './helpers.js';

let broker: Broker;
let client: Client;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  ({ broker } = await openBroker());
  client = inProcessClient(broker);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await broker.close();
});

async function createTopic(topic: string, numPartitions: number) {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
}

async function connectedProducer(options = {}) {
  const producer = client.producer({ lingerMs: 1, ...options });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  return producer;
}

function collectingConsumer(groupId: string, topic: string, options = {}) {
  const received: { partition: number; message: KafkaMessage }[] = [];
  const consumer = client.consumer({ groupId, maxWaitTimeInMs: 50, heartbeatInterval: 50, sessionTimeout: 1000, rebalanceTimeout: 2000, ...options });
  cleanups.push(() => consumer.disconnect());
  let joined = false;
  consumer.on('group.join', () => (joined = true));
  /** Starts consuming and waits for the first assignment, so members join one after another. */
  const start = async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommitIntervalMs: 20, eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
    await waitFor(() => joined, `${groupId} member joined`);
  };
  return { consumer, received, start };
}

describe('produce and consume in-process', () => {
  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)('round-trips records compressed with %s', async (compression) => {
    await createTopic('codec', 1);
    const producer = await connectedProducer({ compression });
    const messages = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `value-${i}-${'x'.repeat(i % 50)}`, headers: { n: String(i) } }));
    await producer.send({ topic: 'codec', messages });
    const { received, start } = collectingConsumer('g-codec', 'codec');
    await start();
    await waitFor(() => received.length >= 200, '200 records');
    expect(received.map((r) => r.message.value!.toString())).toEqual(messages.map((m) => m.value));
    expect(received.map((r) => r.message.offset)).toEqual(messages.map((_, i) => String(i)));
    expect(received[7].message.headers.n!.toString()).toBe('7');
  });

  it('puts keyed records on the partition Kafka\'s murmur2 partitioner picks, in order per key', async () => {
    await createTopic('keyed', 6);
    const producer = await connectedProducer();
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const messages = Array.from({ length: 300 }, (_, i) => ({ key: keys[i % 20], value: String(i) }));
    await producer.send({ topic: 'keyed', messages });
    const { received, start } = collectingConsumer('g-keyed', 'keyed');
    await start();
    await waitFor(() => received.length >= 300, '300 records');
    const seenByKey = new Map<string, number[]>();
    for (const { partition, message } of received) {
      const key = message.key!.toString();
      expect(partition).toBe(partitionForKey(Buffer.from(key), 6));
      seenByKey.set(key, [...(seenByKey.get(key) ?? []), Number(message.value!.toString())]);
    }
    for (const values of seenByKey.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('reports lag per partition from the high watermark', async () => {
    await createTopic('lagging', 1);
    const producer = await connectedProducer();
    await producer.send({ topic: 'lagging', messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) });
    const consumer = client.consumer({ groupId: 'g-lag', maxWaitTimeInMs: 50, heartbeatInterval: 50 });
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic: 'lagging', fromBeginning: true });
    const lags: string[] = [];
    await consumer.run({ eachBatch: async ({ batch }) => void lags.push(batch.offsetLag()) });
    await waitFor(() => lags.length > 0, 'a batch');
    expect(lags[0]).toBe('0');
    await waitFor(() => consumer.lag()[0]?.highWatermark === 10, 'lag');
    expect(consumer.lag()).toEqual([{ topic: 'lagging', partition: 0, offset: 10, highWatermark: 10, lag: 0 }]);
  });
});

describe('consumer groups in-process', () => {
  const assignmentOf = (consumers: Consumer[]) => consumers.map((c) => c.assignment().map((a) => a.partition));

  it('three consumers of one group hold disjoint partitions that cover all ten', async () => {
    await createTopic('grouped', 10);
    const members = [0, 1, 2].map(() => collectingConsumer('g3', 'grouped'));
    for (const m of members) await m.start();
    const consumers = members.map((m) => m.consumer);
    await waitFor(() => assignmentOf(consumers).flat().length === 10 && assignmentOf(consumers).every((a) => a.length >= 3), 'a full assignment');
    const all = assignmentOf(consumers).flat().sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reassigns the partitions of a consumer that leaves', async () => {
    await createTopic('leaving', 10);
    const members = [0, 1, 2].map(() => collectingConsumer('g-leave', 'leaving'));
    for (const m of members) await m.start();
    const consumers = members.map((m) => m.consumer);
    await waitFor(() => assignmentOf(consumers).every((a) => a.length >= 3), 'three members assigned');
    await consumers[2].disconnect();
    await waitFor(() => assignmentOf(consumers.slice(0, 2)).flat().length === 10, 'two members cover all');
    expect(assignmentOf(consumers.slice(0, 2)).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
