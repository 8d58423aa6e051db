/**
 * @platformatic/kafka 1.35.0's admin client (flexible versions only) against a Gregor server, for
 * the admin APIs its own test suite calls: group and offset deletion, configs, client quotas and
 * log directories.
 */
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';

let gregor: RunningGregor;
let admin: Admin;

beforeAll(async () => {
  gregor = await startGregor();
  admin = new Admin({ clientId: 'admin-interop', bootstrapBrokers: [gregor.bootstrap], timeout: 5000, retries: 1, retryDelay: 100 });
});

afterAll(async () => {
  await admin?.close();
  await gregor?.close();
});

describe('@platformatic/kafka 1.35.0 admin against Gregor', () => {
  it('deletes a group\'s offsets of one topic, then the group', async () => {
    await admin.createTopics({ topics: ['plt-offsets-a', 'plt-offsets-b'], partitions: 1, replicas: 1 });
    await admin.alterConsumerGroupOffsets({
      groupId: 'plt-group',
      topics: [{ name: 'plt-offsets-a', partitionOffsets: [{ partition: 0, offset: 0n }] }, { name: 'plt-offsets-b', partitionOffsets: [{ partition: 0, offset: 0n }] }],
    });
    const deleted = await admin.deleteConsumerGroupOffsets({ groupId: 'plt-group', topics: [{ name: 'plt-offsets-a', partitionIndexes: [0] }] });
    expect(deleted).toEqual([{ name: 'plt-offsets-a', partitionIndexes: [0] }]);
    const [listed] = await admin.listConsumerGroupOffsets({ groups: ['plt-group'] });
    expect(listed.topics.map((topic) => topic.name)).toEqual(['plt-offsets-b']);
    await admin.deleteGroups({ groups: ['plt-group'] });
    const groups = await admin.listGroups();
    expect([...groups.keys()]).not.toContain('plt-group');
    await expect(admin.deleteGroups({ groups: ['plt-group'] })).rejects.toThrow();
  });

  it('describes every config for an empty key list, with documentation, and alters configs both ways', async () => {
    await admin.createTopics({ topics: ['plt-configs'], partitions: 1, replicas: 1, configs: [{ name: 'message.timestamp.difference.max.ms', value: '60000' }] });
    const [all] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: 'plt-configs', configurationKeys: [] }], includeDocumentation: true });
    expect(all.configs.length).toBe(36);
    const difference = all.configs.find((config) => config.name === 'message.timestamp.difference.max.ms');
    expect(difference).toMatchObject({ value: '60000', configSource: 1 });
    expect(all.configs.find((config) => config.name === 'compression.type')?.documentation).toContain('does not act on it');
    await admin.alterConfigs({ resources: [{ resourceType: 2, resourceName: 'plt-configs', configs: [{ name: 'retention.ms', value: '1000' }] }] });
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: 2, resourceName: 'plt-configs', configs: [{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }] }] });
    const [after] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: 'plt-configs', configurationKeys: ['cleanup.policy', 'retention.ms', 'message.timestamp.difference.max.ms'] }] });
    expect(after.configs.map((config) => [config.name, config.value])).toEqual([
      ['cleanup.policy', 'delete,compact'], ['retention.ms', '1000'], ['message.timestamp.difference.max.ms', '9223372036854775807'],
    ]);
  });

  it('alters and describes client quotas, and describes the log dirs', async () => {
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'user', entityName: 'plt-user' }], ops: [{ key: 'consumer_byte_rate', value: 4096, remove: false }] }] });
    const entries = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: 0, match: 'plt-user' }] });
    expect(entries).toEqual([{ entity: [{ entityType: 'user', entityName: 'plt-user' }], values: [{ key: 'consumer_byte_rate', value: 4096 }] }]);
    await admin.createTopics({ topics: ['plt-dirs'], partitions: 1, replicas: 1 });
    const described = await admin.describeLogDirs({ topics: [{ name: 'plt-dirs', partitions: [0] }] });
    expect(described).toHaveLength(1);
    expect(described[0].results[0].logDir).toBe(gregor.dir);
    expect(described[0].results[0].topics).toEqual([{ name: 'plt-dirs', partitions: [{ partitionIndex: 0, partitionSize: 0n, offsetLag: 0n, isFutureKey: false }] }]);
  });
});
