import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { nodeFileSystem } from '@gregor/log';
import type { Body } from '@gregor/broker';
import { batch, createTopic, fetchPartition, openTestBroker, produce, type TestBroker } from './helpers.js';

describe('topics', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('validates names, partitions, replication factor and configs with Kafka\'s errors', async () => {
    test = await openTestBroker();
    const create = async (topic: Body): Promise<Body> => {
      const response = (await test.broker.handle(ApiKey.CreateTopics, 5, { topics: [{ numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...topic }], timeoutMs: 1000, validateOnly: false })) as Body;
      return response.topics[0];
    };
    expect(await create({ name: 'bad/name' })).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION });
    expect(await create({ name: '..' })).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION });
    expect(await create({ name: 'x'.repeat(250) })).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION });
    expect(await create({ name: 'ok', numPartitions: 0 })).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS });
    expect(await create({ name: 'ok', replicationFactor: 3 })).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICATION_FACTOR });
    expect(await create({ name: 'ok', configs: [{ name: 'retention.ms', value: 'soon' }] })).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await create({ name: 'ok', configs: [{ name: 'no.such.config', value: '1' }] })).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await create({ name: 'ok.topic_1-x', numPartitions: -1, replicationFactor: -1 })).toMatchObject({ errorCode: 0, numPartitions: 1, replicationFactor: 1 });
    expect(await create({ name: 'ok.topic_1-x' })).toMatchObject({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS });
    expect(await create({ name: 'ok_topic.1-x' })).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: expect.stringContaining('collides') });
  });

  it('honours validateOnly', async () => {
    test = await openTestBroker();
    const response = (await test.broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: 'dry', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1, validateOnly: true })) as Body;
    expect(response.topics[0].errorCode).toBe(0);
    expect(test.broker.image.topic('dry')).toBeUndefined();
  });

  it('auto-creates a topic through Metadata when allowed, and not when the request forbids it', async () => {
    test = await openTestBroker();
    const metadata = async (name: string, allowAutoTopicCreation: boolean): Promise<Body> =>
      (await test.broker.handle(ApiKey.Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name }], allowAutoTopicCreation, includeTopicAuthorizedOperations: false })) as Body;
    const forbidden = await metadata('auto', false);
    expect(forbidden.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    test.broker.setAdvertisedListener('127.0.0.1', 19092);
    const created = await metadata('auto', true);
    expect(created.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }]);
    expect(created.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created.topics[0]).toMatchObject({ errorCode: 0, name: 'auto', isInternal: false });
    expect(created.topics[0].topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.topics[0].partitions).toEqual([{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }]);
    const all = (await test.broker.handle(ApiKey.Metadata, 1, { topics: null })) as Body;
    expect(all.topics.map((topic: Body) => topic.name)).toEqual(['auto']);
  });

  it('keeps topics, ids, configs and data across a reopen', async () => {
    test = await openTestBroker();
    const created = await createTopic(test.broker, 'kept', 3, [{ name: 'retention.ms', value: '1000' }]);
    await produce(test.broker, 'kept', 2, batch(['a', 'b']));
    const clusterId = test.broker.clusterId;
    await test.reopen();
    expect(test.broker.clusterId).toBe(clusterId);
    const topic = test.broker.image.topic('kept');
    expect(topic?.id).toBe(created.topicId);
    expect(topic?.partitions.size).toBe(3);
    expect(Object.fromEntries(test.broker.image.topicConfigs('kept'))).toEqual({ 'retention.ms': '1000' });
    expect((await fetchPartition(test.broker, 'kept', 2, 0)).highWatermark).toBe(2);
  });

  it('deletes partition dirs no stored topic owns at open (a crash in the middle of a delete)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'gone');
    await produce(test.broker, 'gone', 0, batch(['old']));
    await test.broker.close();
    test.fs.writeFileAtomic('/data/gregor-topics.json', Buffer.from(JSON.stringify({ version: 1, topics: [] })));
    await test.reopen();
    expect(test.fs.exists('/data/gone-0')).toBe(false);
    await createTopic(test.broker, 'gone');
    expect(test.broker.partition('gone', 0)?.logEndOffset).toBe(0);
  });

  it('adopts partition dirs of a data dir that has no topics file instead of deleting them', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'kept', 2);
    await produce(test.broker, 'kept', 1, batch(['data']));
    await test.broker.close();
    test.fs.unlink('/data/gregor-topics.json');
    await test.reopen();
    expect(test.broker.image.topic('kept')?.partitions.size).toBe(2);
    expect(test.broker.partition('kept', 1)?.logEndOffset).toBe(1);
  });

  it('deletes topics by name and by id, and adds partitions', async () => {
    test = await openTestBroker();
    const a = await createTopic(test.broker, 'a');
    await createTopic(test.broker, 'b');
    const byName = (await test.broker.handle(ApiKey.DeleteTopics, 4, { topicNames: ['b', 'nope'], timeoutMs: 1 })) as Body;
    expect(byName.responses.map((r: Body) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const byId = (await test.broker.handle(ApiKey.DeleteTopics, 6, { topics: [{ name: null, topicId: a.topicId }], timeoutMs: 1 })) as Body;
    expect(byId.responses[0]).toMatchObject({ name: 'a', errorCode: 0 });
    expect(test.broker.image.topicsById.size).toBe(0);
    expect(test.fs.exists('/data/a-0')).toBe(false);
    await createTopic(test.broker, 'grow');
    const grown = (await test.broker.handle(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 4, assignments: null }], timeoutMs: 1, validateOnly: false })) as Body;
    expect(grown.results[0].errorCode).toBe(0);
    const shrink = (await test.broker.handle(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 2, assignments: null }], timeoutMs: 1, validateOnly: false })) as Body;
    expect(shrink.results[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    await test.reopen();
    expect(test.broker.image.topic('grow')?.partitions.size).toBe(4);
  });

  it('describes topic and broker configs with sources', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'cleanup.policy', value: 'compact' }]);
    const response = (await test.broker.handle(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 't', configurationKeys: ['cleanup.policy', 'retention.ms'] }, { resourceType: 4, resourceName: '0', configurationKeys: ['num.partitions'] }],
      includeSynonyms: true, includeDocumentation: false,
    })) as Body;
    const [topic, broker] = response.results;
    expect(topic.configs.map((c: Body) => [c.name, c.value, c.configSource])).toEqual([['cleanup.policy', 'compact', 1], ['retention.ms', '604800000', 5]]);
    expect(broker.configs).toMatchObject([{ name: 'num.partitions', value: '1' }]);
  });

  it('serves ApiVersions for every handled API', async () => {
    test = await openTestBroker();
    const response = (await test.broker.handle(ApiKey.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })) as Body;
    const keys = response.apiKeys.map((entry: Body) => entry.apiKey);
    for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 32]) expect(keys).toContain(key);
  });

  it('deletes records before an offset and answers the low watermark', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    await produce(test.broker, 't', 0, batch(['a']));
    await produce(test.broker, 't', 0, batch(['b']));
    const response = (await test.broker.handle(ApiKey.DeleteRecords, 2, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 1 }, { partitionIndex: 1, offset: 1 }] }], timeoutMs: 1 })) as Body;
    expect(response.topics[0].partitions).toEqual([
      { partitionIndex: 0, lowWatermark: 1, errorCode: 0 },
      { partitionIndex: 1, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
    expect(await fetchPartition(test.broker, 't', 0, 0)).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
  });
});

describe('data dir on the real file system', () => {
  let dir = '';
  let test: TestBroker | undefined;
  afterEach(async () => {
    await test?.broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes meta.properties in Kafka\'s format and keeps data across a reopen', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gregor-broker-'));
    test = await openTestBroker({ nodeId: 3 }, nodeFileSystem, dir);
    await createTopic(test.broker, 'disk');
    await produce(test.broker, 'disk', 0, batch(['persisted']));
    const meta = readFileSync(path.join(dir, 'meta.properties'), 'utf8');
    expect(meta).toMatch(/^version=1$/m);
    expect(meta).toMatch(/^node\.id=3$/m);
    expect(meta).toMatch(/^cluster\.id=[A-Za-z0-9_-]{22}$/m);
    await test.reopen();
    expect(readFileSync(path.join(dir, 'meta.properties'), 'utf8')).toBe(meta);
    expect((await fetchPartition(test.broker, 'disk', 0, 0)).highWatermark).toBe(1);
  });
});
