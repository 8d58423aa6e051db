/**
 * CreateTopics, DeleteTopics and CreatePartitions as Kafka's controller validates them, and the
 * records they write.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { decodeMetadataRecord } from '../../src/index.js';
import { createTopicsRequest, harness, heartbeat, registration, startBrokers } from './harness.js';

async function threeBrokers() {
  const h = harness();
  h.elect();
  const epochs = await startBrokers(h, [1, 2, 3]);
  return { h, epochs };
}

describe('CreateTopics', () => {
  it('writes a TopicRecord, its configs, then one PartitionRecord per partition with the live replicas as ISR', async () => {
    const { h } = await threeBrokers();
    const before = h.log.committed.length;
    const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'orders', numPartitions: 3, replicationFactor: 2, configs: { 'retention.ms': '1000' } }])));
    const [topic] = response.topics;
    expect(topic).toMatchObject({ name: 'orders', errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 2 });
    expect(topic.configs).toEqual([{ name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false }]);
    const batch = h.log.committed.slice(before).flatMap((entry) => entry.records.map((value) => decodeMetadataRecord(value)));
    expect(batch.map((record) => record.type)).toEqual(['Topic', 'Config', 'Partition', 'Partition', 'Partition']);
    const image = h.controller.committedImage;
    expect(image.topic('orders')?.id).toBe(topic.topicId);
    expect(image.topicConfigs('orders').get('retention.ms')).toBe('1000');
    for (const partition of image.topic('orders')?.partitions.values() ?? []) {
      expect(partition.replicas).toHaveLength(2);
      expect(partition).toMatchObject({ isr: partition.replicas, leader: partition.replicas[0], leaderEpoch: 0, partitionEpoch: 0, leaderRecoveryState: 0 });
    }
  });

  it('validates as Kafka: replication factor against live brokers, partitions, existing names, illegal names, duplicates', async () => {
    const { h, epochs } = await threeBrokers();
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(3, epochs.get(3) ?? -1, 100, { wantFence: true })));
    const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([
      { name: 'rf3', replicationFactor: 3 },
      { name: 'rf0', replicationFactor: 0 },
      { name: 'p0', numPartitions: 0 },
      { name: 'bad/name' },
      { name: 'twice' },
      { name: 'twice' },
      { name: 'ok', replicationFactor: 2 },
      { name: 'nullconfig', configs: { 'retention.ms': null } },
      { name: 'badconfig', configs: { 'retention.ms': 'soon' } },
    ])));
    expect(response.topics.map((topic) => [topic.name, topic.errorCode])).toEqual([
      ['rf3', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['rf0', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['p0', ErrorCode.INVALID_PARTITIONS],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['twice', ErrorCode.INVALID_REQUEST],
      ['twice', ErrorCode.INVALID_REQUEST],
      ['ok', ErrorCode.NONE],
      ['nullconfig', ErrorCode.INVALID_CONFIG],
      ['badconfig', ErrorCode.INVALID_CONFIG],
    ]);
    expect(response.topics[0].errorMessage).toMatch(/only 2 broker\(s\) are live/);
    expect([...h.controller.committedImage.topicsByName.keys()]).toEqual(['ok']);
    const again = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'ok' }, { name: 'ok.' }, { name: 'o_k' }])));
    expect(again.topics.map((topic) => topic.errorCode)).toEqual([ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.NONE, ErrorCode.NONE]);
    const collision = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'o.k' }])));
    expect(collision.topics[0].errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('uses num.partitions and default.replication.factor for -1', async () => {
    const h = harness({ numPartitions: 4, defaultReplicationFactor: 2 });
    h.elect();
    await startBrokers(h, [1, 2, 3]);
    const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'd', numPartitions: -1, replicationFactor: -1 }])));
    expect(response.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 4, replicationFactor: 2 });
  });

  it('checks manual assignments with INVALID_REPLICA_ASSIGNMENT and takes fenced replicas out of the ISR', async () => {
    const { h, epochs } = await threeBrokers();
    await h.call(() => h.controller.registerBroker(0, registration(4)));
    const cases: [number[][], number][] = [
      [[[1, 2], [2, 3]], ErrorCode.NONE],
      [[[1, 1]], ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [[[1, 9]], ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [[[1, 2], [3]], ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [[[]], ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [[[4]], ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [[[4, 2]], ErrorCode.NONE],
    ];
    for (const [index, [assignments, errorCode]] of cases.entries()) {
      const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: `m${index}`, assignments }])));
      expect([index, response.topics[0].errorCode]).toEqual([index, errorCode]);
    }
    expect(h.controller.committedImage.partition('m6', 0)).toMatchObject({ replicas: [4, 2], isr: [2], leader: 2 });
    const sparse = createTopicsRequest([{ name: 'sparse', assignments: [[1]] }]);
    sparse.topics[0].assignments[0].partitionIndex = 1;
    expect((await h.call(() => h.controller.createTopics(7, sparse))).topics[0].errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const withFactor = createTopicsRequest([{ name: 'both', assignments: [[1]] }]);
    withFactor.topics[0].replicationFactor = 1;
    expect((await h.call(() => h.controller.createTopics(7, withFactor))).topics[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(epochs.size).toBe(3);
  });

  it('writes nothing with validateOnly but answers as if it had', async () => {
    const { h } = await threeBrokers();
    const before = h.log.committed.length;
    const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'v', numPartitions: 2, replicationFactor: 3 }], true)));
    expect(response.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 2, replicationFactor: 3 });
    expect(h.log.committed.length).toBe(before);
    expect(h.controller.committedImage.topic('v')).toBeUndefined();
  });

  it('refuses a request that needs more records than maxRecordsPerUserOp with POLICY_VIOLATION', async () => {
    const h = harness({ maxRecordsPerUserOp: 10 });
    h.elect();
    await startBrokers(h, [1]);
    const response = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'big', numPartitions: 20 }])));
    expect(response.topics[0].errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    expect(h.controller.committedImage.topic('big')).toBeUndefined();
  });
});

describe('DeleteTopics', () => {
  it('removes topics by name (v5) and by id (v6), with UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID for unknown ones', async () => {
    const { h } = await threeBrokers();
    const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'a', configs: { 'retention.ms': '5' } }, { name: 'b' }])));
    const v5 = await h.call(() => h.controller.deleteTopics(5, { topics: [], topicNames: ['a', 'missing'], timeoutMs: 1000 }));
    expect(v5.responses.map((entry) => [entry.name, entry.errorCode])).toEqual([['a', 0], ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    expect(h.controller.committedImage.topic('a')).toBeUndefined();
    expect(h.controller.committedImage.topicConfigs('a').size).toBe(0);
    const bId = created.topics[1].topicId;
    const v6 = await h.call(() => h.controller.deleteTopics(6, {
      topics: [{ name: null, topicId: bId }, { name: null, topicId: '00000000-0000-4000-8000-000000000099' }],
      topicNames: [],
      timeoutMs: 1000,
    }));
    expect(v6.responses.map((entry) => [entry.name, entry.topicId, entry.errorCode])).toEqual([
      ['b', bId, 0],
      [null, '00000000-0000-4000-8000-000000000099', ErrorCode.UNKNOWN_TOPIC_ID],
    ]);
    expect(h.controller.committedImage.topicsById.size).toBe(0);
  });

  it('answers TOPIC_DELETION_DISABLED when delete.topic.enable is false', async () => {
    const h = harness({ deleteTopicEnable: false });
    h.elect();
    await startBrokers(h, [1]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'kept' }])));
    const response = await h.call(() => h.controller.deleteTopics(5, { topics: [], topicNames: ['kept'], timeoutMs: 1000 }));
    expect(response.responses[0].errorCode).toBe(ErrorCode.TOPIC_DELETION_DISABLED);
    expect(h.controller.committedImage.topic('kept')).toBeDefined();
  });
});

describe('CreatePartitions', () => {
  it('adds placed or assigned partitions with the topic replication factor, and refuses decreases and bad assignments', async () => {
    const { h } = await threeBrokers();
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', numPartitions: 2, replicationFactor: 2 }])));
    const grow = await h.call(() => h.controller.createPartitions(3, {
      topics: [
        { name: 't', count: 4, assignments: null },
        { name: 'missing', count: 2, assignments: null },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    }));
    expect(grow.results.map((result) => result.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const topic = h.controller.committedImage.topic('t');
    expect(topic?.partitions.size).toBe(4);
    expect(topic?.partitions.get(3)).toMatchObject({ leaderEpoch: 0, partitionEpoch: 0 });
    expect(topic?.partitions.get(3)?.replicas).toHaveLength(2);
    const bad = await h.call(() => h.controller.createPartitions(3, {
      topics: [
        { name: 't', count: 4, assignments: null },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    }));
    expect(bad.results[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const shrink = await h.call(() => h.controller.createPartitions(3, { topics: [{ name: 't', count: 3, assignments: null }], timeoutMs: 1000, validateOnly: false }));
    expect(shrink.results[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const wrongCount = await h.call(() => h.controller.createPartitions(3, { topics: [{ name: 't', count: 6, assignments: [{ brokerIds: [1, 2] }] }], timeoutMs: 1000, validateOnly: false }));
    expect(wrongCount.results[0].errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const wrongFactor = await h.call(() => h.controller.createPartitions(3, { topics: [{ name: 't', count: 5, assignments: [{ brokerIds: [1] }] }], timeoutMs: 1000, validateOnly: false }));
    expect(wrongFactor.results[0].errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const assigned = await h.call(() => h.controller.createPartitions(3, { topics: [{ name: 't', count: 5, assignments: [{ brokerIds: [3, 1] }] }], timeoutMs: 1000, validateOnly: false }));
    expect(assigned.results[0].errorCode).toBe(0);
    expect(h.controller.committedImage.partition('t', 4)).toMatchObject({ replicas: [3, 1], isr: [3, 1], leader: 3 });
  });
});
