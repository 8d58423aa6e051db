/**
 * kafkajs 2.2.4's admin client against a Gregor server for the admin APIs beyond topics: group
 * deletion, configs (AlterConfigs / DescribeConfigs with synonyms), offsets by the kafkajs names.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';

let gregor: RunningGregor;
let kafka: Kafka;

beforeAll(async () => {
  gregor = await startGregor();
  kafka = new Kafka({ clientId: 'admin-interop', brokers: [gregor.bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 10_000, retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 300 } });
});

afterAll(async () => {
  await gregor?.close();
});

/** A kafkajs consumer joins `groupId`, commits offset 0 of partition 0 of `topic`, and leaves (the group is then Empty). */
async function commitAsGroup(groupId: string, topic: string): Promise<void> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await joined;
    await consumer.commitOffsets([{ topic, partition: 0, offset: '0' }]);
  } finally {
    await consumer.disconnect();
  }
}

describe('kafkajs 2.2.4 admin against Gregor', () => {
  it('deletes an empty group with its offsets and reports the groups it could not delete', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'kjs-groups', numPartitions: 2 }] });
      await commitAsGroup('kjs-idle', 'kjs-groups');
      expect(await admin.fetchOffsets({ groupId: 'kjs-idle', topics: ['kjs-groups'] })).toEqual([{ topic: 'kjs-groups', partitions: expect.arrayContaining([expect.objectContaining({ partition: 0, offset: '0' })]) }]);
      expect(await admin.deleteGroups(['kjs-idle'])).toEqual([expect.objectContaining({ groupId: 'kjs-idle', errorCode: 0 })]);
      expect((await admin.listGroups()).groups.map((group) => group.groupId)).not.toContain('kjs-idle');
      expect((await admin.fetchOffsets({ groupId: 'kjs-idle', topics: ['kjs-groups'] }))[0].partitions.every((partition) => partition.offset === '-1')).toBe(true);
      const failure = await admin.deleteGroups(['kjs-never-existed']).catch((error: unknown) => error);
      expect(failure).toMatchObject({ name: 'KafkaJSDeleteGroupsError', groups: [expect.objectContaining({ groupId: 'kjs-never-existed', errorCode: 69 })] });
    } finally {
      await admin.disconnect();
    }
  });

  it('creates a topic with any Kafka topic config, alters its configs and describes them with synonyms', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'kjs-configs', numPartitions: 1, configEntries: [{ name: 'message.timestamp.difference.max.ms', value: '60000' }] }] });
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'kjs-configs', configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact,delete' }] }] });
      const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: 'kjs-configs', configNames: ['retention.ms', 'cleanup.policy', 'message.timestamp.difference.max.ms', 'flush.ms'] }], includeSynonyms: true });
      const entries = resources[0].configEntries;
      expect(entries.map((entry) => [entry.configName, entry.configValue])).toEqual([
        ['retention.ms', '3600000'], ['cleanup.policy', 'compact,delete'], ['message.timestamp.difference.max.ms', '9223372036854775807'], ['flush.ms', '9223372036854775807'],
      ]);
      expect(entries[0].configSynonyms).toEqual([{ configName: 'retention.ms', configValue: '3600000', configSource: 1 }]);
      expect(entries[2].isDefault).toBe(true);
      await expect(admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'kjs-configs', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] })).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
      const broker = await admin.describeConfigs({ resources: [{ type: 4, name: '0', configNames: ['log.flush.interval.messages', 'num.network.threads'] }], includeSynonyms: false });
      expect(broker.resources[0].configEntries.map((entry) => [entry.configName, entry.configValue, entry.readOnly])).toEqual([
        ['log.flush.interval.messages', '9223372036854775807', false], ['num.network.threads', '3', false],
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('creates topics and partitions with manual replica assignments naming this broker, and refuses a broker that does not exist', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'kjs-assigned', replicaAssignment: [{ partition: 0, replicas: [0] }, { partition: 1, replicas: [0] }] }] })).toBe(true);
      const metadata = await admin.fetchTopicMetadata({ topics: ['kjs-assigned'] });
      expect(metadata.topics[0].partitions.map((partition) => partition.replicas)).toEqual([[0], [0]]);
      await expect(admin.createTopics({ topics: [{ topic: 'kjs-ghost', replicaAssignment: [{ partition: 0, replicas: [7] }] }] })).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_REPLICA_ASSIGNMENT' })] });
      await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-assigned', count: 3, assignments: [[0]] }] });
      await expect(admin.createPartitions({ topicPartitions: [{ topic: 'kjs-assigned', count: 4, assignments: [[7]] }] })).rejects.toMatchObject({ type: 'INVALID_REPLICA_ASSIGNMENT' });
      expect((await admin.fetchTopicMetadata({ topics: ['kjs-assigned'] })).topics[0].partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses a record older than message.timestamp.difference.max.ms with INVALID_TIMESTAMP', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'kjs-timestamps', numPartitions: 1, configEntries: [{ name: 'message.timestamp.difference.max.ms', value: '60000' }] }] });
      await producer.send({ topic: 'kjs-timestamps', messages: [{ value: 'now' }] });
      const old = String(Date.now() - 3_600_000);
      await expect(producer.send({ topic: 'kjs-timestamps', messages: [{ value: 'an hour ago', timestamp: old }] })).rejects.toMatchObject({ type: 'INVALID_TIMESTAMP' });
      expect(await admin.fetchTopicOffsets('kjs-timestamps')).toEqual([expect.objectContaining({ partition: 0, high: '1' })]);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
