/**
 * The Admin's group, offset and config methods over TCP against a real broker and server
 * (`@gregor/server` on loopback), so every request crosses the wire codecs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import type { Admin } from '../src/admin.js';
import { createClient, type Client } from '../src/client.js';
import { TcpHarness } from './harness.js';
import { waitFor } from './helpers.js';

let harness: TcpHarness;
let client: Client;
let admin: Admin;

beforeEach(async () => {
  harness = new TcpHarness();
  await harness.start();
  client = createClient({ transport: harness.transport() });
  admin = client.admin();
  await admin.connect();
});

afterEach(async () => {
  await admin.disconnect();
  await harness.close();
});

async function produce(topic: string, count: number, partition = 0): Promise<void> {
  const producer = client.producer({ lingerMs: 0 });
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, index) => ({ value: `v${index}`, partition })) });
  await producer.disconnect();
}

describe('Admin over TCP: groups and offsets', () => {
  it('deleteGroups removes an empty group and throws DeleteGroupsError naming the groups it could not delete', async () => {
    await admin.createTopics({ topics: [{ topic: 'g-topic', numPartitions: 1 }] });
    await admin.setOffsets({ groupId: 'idle', topic: 'g-topic', partitions: [{ partition: 0, offset: 0 }] });
    expect(await admin.deleteGroups(['idle'])).toEqual([{ groupId: 'idle', errorCode: 0 }]);
    expect((await admin.listGroups()).groups).toEqual([]);
    await expect(admin.deleteGroups(['idle', 'ghost'])).rejects.toMatchObject({
      code: 'DELETE_GROUPS_FAILED',
      groups: [expect.objectContaining({ groupId: 'idle', errorCode: 69 }), expect.objectContaining({ groupId: 'ghost', errorCode: 69 })],
    });
  });

  it('deleteConsumerGroupOffsets removes offsets of a topic the group no longer reads, and not of one it reads', async () => {
    await admin.createTopics({ topics: [{ topic: 'read', numPartitions: 1 }, { topic: 'gone', numPartitions: 1 }] });
    await produce('read', 2);
    await admin.setOffsets({ groupId: 'reader', topic: 'gone', partitions: [{ partition: 0, offset: 0 }] });
    const consumer = client.consumer({ groupId: 'reader', maxWaitTimeInMs: 50, heartbeatInterval: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'read', fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    await waitFor(() => seen >= 2, 'two records');
    try {
      await expect(admin.deleteConsumerGroupOffsets({ groupId: 'reader', topics: [{ topic: 'read', partitions: [0] }] })).rejects.toMatchObject({ code: 'GROUP_SUBSCRIBED_TO_TOPIC' });
      await admin.deleteConsumerGroupOffsets({ groupId: 'reader', topics: [{ topic: 'gone', partitions: [0] }] });
      const offsets = await admin.fetchOffsets({ groupId: 'reader', topics: ['gone'] });
      expect(offsets[0].partitions.map((partition) => partition.offset)).toEqual(['-1']);
    } finally {
      await consumer.disconnect();
    }
    await expect(admin.deleteConsumerGroupOffsets({ groupId: 'nobody', topics: [{ topic: 'gone', partitions: [0] }] })).rejects.toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });
  });

  it('deleteTopicRecords moves the low watermark that fetchTopicOffsets reports', async () => {
    await admin.createTopics({ topics: [{ topic: 'trim', numPartitions: 1 }] });
    await produce('trim', 5);
    await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '3' }] });
    expect(await admin.fetchTopicOffsets('trim')).toEqual([{ partition: 0, offset: '5', high: '5', low: '3' }]);
  });

  it('ListOffsets v0 answers the log end and start offsets in the old array form', async () => {
    await admin.createTopics({ topics: [{ topic: 'legacy', numPartitions: 1 }] });
    await produce('legacy', 4);
    const transport = harness.transport();
    await transport.connect();
    const response = await transport.request(Api.ListOffsets, 0, {
      replicaId: -1, topics: [{ name: 'legacy', partitions: [{ partitionIndex: 0, timestamp: -1, maxNumOffsets: 5 }, { partitionIndex: 1, timestamp: -2, maxNumOffsets: 1 }] }],
    });
    expect(response.topics[0].partitions).toMatchObject([
      { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [4, 0] },
      { partitionIndex: 1, errorCode: 3, oldStyleOffsets: [] },
    ]);
  });
});
