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
});
