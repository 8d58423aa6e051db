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

describe('Admin over TCP: configs', () => {
  it('alterConfigs replaces a topic\'s configs and describeConfigs reports them in the order asked, with synonyms and documentation', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    await admin.alterConfigs({ resources: [{ type: 2, name: 'cfg', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'message.timestamp.difference.max.ms', value: '60000' }] }] });
    const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: 'cfg', configNames: ['retention.ms', 'cleanup.policy', 'flush.ms'] }], includeSynonyms: true, includeDocumentation: true });
    expect(resources[0].configEntries.map((entry) => [entry.configName, entry.configValue, entry.isDefault])).toEqual([
      ['retention.ms', '604800000', true], ['cleanup.policy', 'compact', false], ['flush.ms', '9223372036854775807', true],
    ]);
    expect(resources[0].configEntries[1].configSynonyms).toEqual([
      { configName: 'cleanup.policy', configValue: 'compact', configSource: 1 }, { configName: 'log.cleanup.policy', configValue: 'delete', configSource: 5 },
    ]);
    expect(resources[0].configEntries[0].documentation).toContain('closed segments are deleted');
    await expect(admin.alterConfigs({ resources: [{ type: 2, name: 'cfg', configEntries: [{ name: 'retention.mss', value: '1' }] }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('incrementalAlterConfigs changes single topic and broker configs; describeConfigs of the broker shows the dynamic value', async () => {
    await admin.createTopics({ topics: [{ topic: 'inc', numPartitions: 1 }] });
    await admin.incrementalAlterConfigs({
      resources: [
        { type: 2, name: 'inc', configEntries: [{ name: 'cleanup.policy', value: 'compact', operation: 'APPEND' }, { name: 'segment.ms', value: '60000', operation: 'SET' }] },
        { type: 4, name: '0', configEntries: [{ name: 'log.retention.ms', value: '7200000', operation: 'SET' }] },
      ],
    });
    const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: 'inc', configNames: ['cleanup.policy', 'retention.ms'] }, { type: 4, name: '0', configNames: ['log.retention.ms'] }] });
    expect(resources[0].configEntries.map((entry) => entry.configValue)).toEqual(['delete,compact', '7200000']);
    expect(resources[1].configEntries[0]).toMatchObject({ configName: 'log.retention.ms', configValue: '7200000', configSource: 2, readOnly: false });
    await expect(admin.incrementalAlterConfigs({ resources: [{ type: 4, name: '0', configEntries: [{ name: 'log.dirs', value: '/x', operation: 'SET' }] }] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('describeCluster names this broker as the only broker and the controller', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([expect.objectContaining({ nodeId: 0, host: '127.0.0.1' })]);
    expect(cluster.controller).toBe(0);
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('Admin over TCP: client quotas and log dirs', () => {
  it('alterClientQuotas stores quotas that describeClientQuotas finds by filter, and removes them', async () => {
    const entity = [{ entityType: 'client-id', entityName: 'billing' }];
    await admin.alterClientQuotas({ entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 1_048_576 }, { key: 'request_percentage', value: 50 }] }] });
    expect(await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'billing' }] })).toEqual([
      { entity, values: { producer_byte_rate: 1_048_576, request_percentage: 50 } },
    ]);
    await admin.alterClientQuotas({ entries: [{ entity, ops: [{ key: 'request_percentage', remove: true }] }] });
    expect((await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 2 }] }))[0].values).toEqual({ producer_byte_rate: 1_048_576 });
    await expect(admin.alterClientQuotas({ entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 0.5 }] }] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('describeLogDirs gives the size of each partition on the broker', async () => {
    await admin.createTopics({ topics: [{ topic: 'dirs', numPartitions: 2 }] });
    await produce('dirs', 3, 1);
    const [broker] = await admin.describeLogDirs({ topics: [{ topic: 'dirs', partitions: [0, 1] }] });
    expect(broker.broker).toBe(0);
    expect(broker.logDirs[0].topics).toEqual([{ topic: 'dirs', partitions: [expect.objectContaining({ partition: 0, size: 0 }), expect.objectContaining({ partition: 1, isFuture: false })] }]);
    expect(broker.logDirs[0].topics[0].partitions[1].size).toBeGreaterThan(0);
  });
});
