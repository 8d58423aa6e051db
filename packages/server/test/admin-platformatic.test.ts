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
});
