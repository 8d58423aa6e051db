import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { batch, createTopic, openTestBroker, produce, type TestBroker } from './helpers.js';

let test: TestBroker;
afterEach(async () => {
  await test.broker.close();
});

type Entity = { entityType: string; entityName: string | null }[];

async function alterQuotas(entries: { entity: Entity; ops: { key: string; value: number; remove?: boolean }[] }[], validateOnly = false): Promise<Body[]> {
  const response = (await test.broker.handle(ApiKey.AlterClientQuotas, 1, {
    entries: entries.map((entry) => ({ entity: entry.entity, ops: entry.ops.map((op) => ({ remove: false, ...op })) })), validateOnly,
  })) as Body;
  return response.entries;
}

async function describeQuotas(components: { entityType: string; matchType: number; match: string | null }[], strict = false): Promise<Body> {
  return (await test.broker.handle(ApiKey.DescribeClientQuotas, 1, { components, strict })) as Body;
}

describe('client quotas', () => {
  it('stores quotas per entity, describes them by filter, removes keys, and keeps them across a reopen', async () => {
    test = await openTestBroker();
    const user: Entity = [{ entityType: 'user', entityName: 'alice' }];
    const userAndClient: Entity = [{ entityType: 'client-id', entityName: 'app' }, { entityType: 'user', entityName: 'alice' }];
    const defaultClient: Entity = [{ entityType: 'client-id', entityName: null }];
    const results = await alterQuotas([
      { entity: user, ops: [{ key: 'producer_byte_rate', value: 1024 }, { key: 'request_percentage', value: 12.5 }] },
      { entity: userAndClient, ops: [{ key: 'consumer_byte_rate', value: 2048 }] },
      { entity: defaultClient, ops: [{ key: 'producer_byte_rate', value: 512 }] },
    ]);
    expect(results.map((result) => result.errorCode)).toEqual([0, 0, 0]);
    const alice = await describeQuotas([{ entityType: 'user', matchType: 0, match: 'alice' }]);
    expect(alice.entries).toHaveLength(2);
    const aliceOnly = await describeQuotas([{ entityType: 'user', matchType: 0, match: 'alice' }], true);
    expect(aliceOnly.entries).toEqual([{ entity: user, values: [{ key: 'producer_byte_rate', value: 1024 }, { key: 'request_percentage', value: 12.5 }] }]);
    expect((await describeQuotas([{ entityType: 'client-id', matchType: 1, match: null }])).entries).toEqual([{ entity: defaultClient, values: [{ key: 'producer_byte_rate', value: 512 }] }]);
    expect((await describeQuotas([{ entityType: 'client-id', matchType: 2, match: null }])).entries).toHaveLength(2);
    await alterQuotas([{ entity: user, ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }]);
    await test.reopen();
    expect((await describeQuotas([{ entityType: 'user', matchType: 0, match: 'alice' }], true)).entries).toEqual([{ entity: user, values: [{ key: 'request_percentage', value: 12.5 }] }]);
  });

  it('refuses what Kafka refuses, per entry, and changes nothing when validateOnly', async () => {
    test = await openTestBroker();
    const results = await alterQuotas([
      { entity: [{ entityType: 'user', entityName: 'u' }], ops: [{ key: 'connection_creation_rate', value: 5 }] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }, { entityType: 'user', entityName: 'u' }], ops: [{ key: 'connection_creation_rate', value: 5 }] },
      { entity: [{ entityType: 'group', entityName: 'g' }], ops: [{ key: 'producer_byte_rate', value: 5 }] },
      { entity: [{ entityType: 'client-id', entityName: 'c' }], ops: [{ key: 'producer_byte_rate', value: 1.5 }] },
      { entity: [{ entityType: 'client-id', entityName: 'd' }], ops: [{ key: 'producer_byte_rate', value: -1 }] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 5 }] },
    ]);
    expect(results.map((result) => result.errorCode)).toEqual([42, 42, 42, 42, 42, 0]);
    expect(results[0].errorMessage).toBe('Invalid configuration key connection_creation_rate');
    expect(results[3].errorMessage).toBe('producer_byte_rate cannot be a fractional value.');
    await alterQuotas([{ entity: [{ entityType: 'user', entityName: 'v' }], ops: [{ key: 'producer_byte_rate', value: 5 }] }], true);
    expect((await describeQuotas([{ entityType: 'user', matchType: 2, match: null }])).entries).toEqual([]);
    expect((await describeQuotas([{ entityType: 'user', matchType: 0, match: null }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await describeQuotas([{ entityType: 'ip', matchType: 2, match: null }, { entityType: 'user', matchType: 2, match: null }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('DescribeLogDirs', () => {
  it('answers the data dir with each hosted partition\'s size, for all topics or those asked for', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'sized', 2);
    await produce(test.broker, 'sized', 1, batch(['a', 'b', 'c']));
    const all = (await test.broker.handle(ApiKey.DescribeLogDirs, 4, { topics: null })) as Body;
    expect(all.results).toHaveLength(1);
    expect(all.results[0]).toMatchObject({ errorCode: 0, logDir: '/data', totalBytes: -1, usableBytes: -1 });
    const sized = all.results[0].topics.find((topic: Body) => topic.name === 'sized');
    expect(sized.partitions).toEqual([
      { partitionIndex: 0, partitionSize: 0, offsetLag: 0, isFutureKey: false },
      { partitionIndex: 1, partitionSize: test.broker.partition('sized', 1)?.log.sizeBytes, offsetLag: 0, isFutureKey: false },
    ]);
    expect(sized.partitions[1].partitionSize).toBeGreaterThan(0);
    const some = (await test.broker.handle(ApiKey.DescribeLogDirs, 1, { topics: [{ topic: 'sized', partitions: [1, 7] }, { topic: 'absent', partitions: [0] }] })) as Body;
    expect(some.results[0].topics).toEqual([{ name: 'sized', partitions: [expect.objectContaining({ partitionIndex: 1 })] }]);
  });
});
