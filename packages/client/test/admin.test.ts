import type { Broker } from '@gregor/broker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Admin } from '../src/admin.js';
import type { Client } from '../src/client.js';
import { inProcessClient, openBroker, waitFor } from './helpers.js';

let broker: Broker;
let client: Client;
let admin: Admin;

beforeEach(async () => {
  ({ broker } = await openBroker());
  client = inProcessClient(broker);
  admin = client.admin();
  await admin.connect();
});
afterEach(async () => {
  await admin.disconnect();
  await broker.close();
});

async function produce(topic: string, values: string[], timestamp?: number) {
  const producer = client.producer({ lingerMs: 0 });
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value, timestamp })) });
  await producer.disconnect();
}

async function consumeAndCommit(groupId: string, topic: string, count: number) {
  const consumer = client.consumer({ groupId, maxWaitTimeInMs: 50, heartbeatInterval: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachMessage: async () => void seen++ });
  await waitFor(() => seen >= count, `${count} records`);
  await consumer.disconnect();
}

describe('admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3 }, { topic: 'b' }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3 }] })).toBe(false);
    expect((await admin.listTopics()).sort()).toEqual(['a', 'b']);
    const { topics } = await admin.fetchTopicMetadata({ topics: ['a'] });
    expect(topics[0].partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
    await admin.deleteTopics({ topics: ['b'] });
    expect(await admin.listTopics()).toEqual(['a']);
  });

  it('rejects an unknown topic with a typed error', async () => {
    await expect(admin.fetchTopicMetadata({ topics: ['missing'] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
  });

  it('adds partitions to a topic', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 4 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['grow'] });
    expect(topics[0].partitions).toHaveLength(4);
  });

  it('describes a topic config entry set at creation', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1234' }] }] });
    const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: 'cfg', configNames: ['retention.ms'] }] });
    expect(resources[0].configEntries).toEqual([expect.objectContaining({ configName: 'retention.ms', configValue: '1234' })]);
  });

  it('reports a group\'s committed offsets with lag, and resets them to earliest', async () => {
    await admin.createTopics({ topics: [{ topic: 'o', numPartitions: 1 }] });
    await produce('o', ['1', '2', '3', '4', '5']);
    await consumeAndCommit('og', 'o', 5);
    await produce('o', ['6', '7']);
    expect(await admin.fetchOffsets({ groupId: 'og', topics: ['o'] })).toEqual([{ topic: 'o', partitions: [{ partition: 0, offset: '5', metadata: null, highWatermark: '7', lag: '2' }] }]);
    await admin.resetOffsets({ groupId: 'og', topic: 'o', earliest: true });
    expect((await admin.fetchOffsets({ groupId: 'og', topics: ['o'] }))[0].partitions[0].offset).toBe('0');
    await admin.setOffsets({ groupId: 'og', topic: 'o', partitions: [{ partition: 0, offset: '3' }] });
    expect((await admin.fetchOffsets({ groupId: 'og', topics: ['o'] }))[0].partitions[0].lag).toBe('4');
  });

  it('lists and describes groups with decoded assignments', async () => {
    await admin.createTopics({ topics: [{ topic: 'd', numPartitions: 2 }] });
    const consumer = client.consumer({ groupId: 'dg', maxWaitTimeInMs: 50, heartbeatInterval: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'd' });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => consumer.assignment().length === 2, 'assignment');
    expect((await admin.listGroups()).groups).toEqual([expect.objectContaining({ groupId: 'dg', protocolType: 'consumer' })]);
    const { groups } = await admin.describeGroups(['dg']);
    expect(groups[0].members[0].assignment.assignedPartitions).toEqual([{ topic: 'd', partitions: [0, 1] }]);
    await consumer.disconnect();
  });

  it('finds offsets by timestamp and deletes records before an offset', async () => {
    await admin.createTopics({ topics: [{ topic: 'ts', numPartitions: 1 }] });
    await produce('ts', ['old1', 'old2'], 1_000);
    await produce('ts', ['new1'], 5_000);
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 4_000)).toEqual([{ partition: 0, offset: '2' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('ts', 9_000)).toEqual([{ partition: 0, offset: '3' }]);
    await admin.resetOffsets({ groupId: 'tsg', topic: 'ts', timestamp: 4_000 });
    expect((await admin.fetchOffsets({ groupId: 'tsg', topics: ['ts'] }))[0].partitions[0].offset).toBe('2');
    await admin.resetOffsets({ groupId: 'tsg', topic: 'ts', timestamp: 0 });
    expect((await admin.fetchOffsets({ groupId: 'tsg', topics: ['ts'] }))[0].partitions[0].offset).toBe('0');
    expect(await admin.deleteRecords({ topic: 'ts', partitions: [{ partition: 0, offset: 2 }] })).toEqual([{ partition: 0, lowWatermark: '2' }]);
    expect((await admin.fetchTopicOffsets('ts'))[0]).toEqual({ partition: 0, offset: '3', high: '3', low: '2' });
  });
});
