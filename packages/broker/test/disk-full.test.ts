/**
 * A full disk, request by request: every API the broker handles is sent while MemoryFileSystem
 * refuses every write with ENOSPC. Each must answer (never throw), with Kafka's retriable error
 * where it needed the disk and NONE where it did not, change nothing it could not finish, and
 * succeed once space is back. The table must name every handled API, so a new handler cannot skip
 * the question. Then a clean stop on a full disk, on MemoryFileSystem and on real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, encodeConsumerProtocolSubscription, errorInfo } from '@gregor/protocol';
import { type FileSystem, MemoryFileSystem, nodeFileSystem } from '@gregor/log';
import { type Body, Broker, handledApiKeys, warningChannel } from '@gregor/broker';
import { batch, createTopic, DIR, fetchRequest, openTestBroker, produce, type TestBroker } from './helpers.js';

const GROUP = 'g';
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

interface Member {
  memberId: string;
  generationId: number;
}

async function joinConsumer(broker: Broker, topics: string[], memberId = ''): Promise<Member> {
  const metadata = encodeConsumerProtocolSubscription({ topics, userData: null, ownedPartitions: [] });
  const body = (id: string) => ({ groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId: id, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata }], reason: null });
  let joined = (await broker.handle(ApiKey.JoinGroup, 5, body(memberId))) as Body;
  if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) joined = (await broker.handle(ApiKey.JoinGroup, 5, body(joined.memberId))) as Body;
  expect(joined.errorCode).toBe(ErrorCode.NONE);
  return { memberId: joined.memberId, generationId: joined.generationId };
}

function syncRequest(member: Member): Body {
  return { groupId: GROUP, generationId: member.generationId, memberId: member.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: member.memberId, assignment: Buffer.from('a') }] };
}

function commitRequest(member: Member | null, offset: number): Body {
  return {
    groupId: GROUP, generationIdOrMemberEpoch: member?.generationId ?? -1, memberId: member?.memberId ?? '', groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  };
}

async function committedOffset(broker: Broker): Promise<number> {
  const response = (await broker.handle(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false })) as Body;
  return response.topics[0].partitions[0].committedOffset;
}

/** Topic `t` (2 partitions, 3 records in partition 0) and an empty group with offset 1 committed. */
async function withTopicAndOffsets(broker: Broker): Promise<void> {
  await createTopic(broker, 't', 2);
  await produce(broker, 't', 0, batch(['a', 'b', 'c']));
  expect((await broker.handle(ApiKey.OffsetCommit, 8, commitRequest(null, 1)) as Body).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
}

/** Every `errorCode` anywhere in a response. */
function errorCodes(body: unknown): number[] {
  if (Array.isArray(body)) return body.flatMap(errorCodes);
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return [];
  return Object.entries(body).flatMap(([key, value]) => (key === 'errorCode' && typeof value === 'number' ? [value] : errorCodes(value)));
}

interface Case {
  name: string;
  apiKey: number;
  /** Run with space, before the disk fills; returns what `request` needs. */
  setup(broker: Broker): Promise<unknown>;
  request(broker: Broker, state: unknown): Promise<unknown>;
  /** The error codes Kafka answers on a full disk (NONE when the request needs no space). */
  full: number[];
  /** Checks, with space again, that the failed request changed nothing and now succeeds. */
  after(broker: Broker, state: unknown): Promise<void>;
}

const none = async (): Promise<void> => {};

const cases: Case[] = [
  {
    name: 'Produce appends nothing and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.Produce,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch(['d']) }] }] }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.partition('t', 0)?.logEndOffset).toBe(3);
      expect((await produce(broker, 't', 0, batch(['d'])))?.errorCode).toBe(ErrorCode.NONE);
    },
  },
  {
    name: 'Fetch reads what is there',
    apiKey: ApiKey.Fetch,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.Fetch, 11, fetchRequest('t', 0, 0)),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'ListOffsets answers from memory',
    apiKey: ApiKey.ListOffsets,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'Metadata cannot auto-create a topic and answers LEADER_NOT_AVAILABLE, as while Kafka creates one',
    apiKey: ApiKey.Metadata,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.Metadata, 12, { topics: [{ topicId: ZERO_UUID, name: 'auto' }, { topicId: ZERO_UUID, name: 't' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }),
    full: [ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NONE],
    after: async (broker) => {
      expect((broker.image.topic('auto') !== undefined)).toBe(false);
      const again = (await broker.handle(ApiKey.Metadata, 12, { topics: [{ topicId: ZERO_UUID, name: 'auto' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false })) as Body;
      expect(errorCodes(again).every((code) => code === ErrorCode.NONE)).toBe(true);
      expect(broker.image.topic('auto')?.partitions.size).toBe(1);
    },
  },
  {
    name: 'OffsetCommit keeps the old offset and answers NOT_COORDINATOR',
    apiKey: ApiKey.OffsetCommit,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.OffsetCommit, 8, commitRequest(null, 2)),
    full: [ErrorCode.NOT_COORDINATOR],
    after: async (broker) => {
      expect(await committedOffset(broker)).toBe(1);
      expect(errorCodes(await broker.handle(ApiKey.OffsetCommit, 8, commitRequest(null, 2)))).toEqual([ErrorCode.NONE]);
      expect(await committedOffset(broker)).toBe(2);
    },
  },
  {
    name: 'OffsetFetch answers from memory',
    apiKey: ApiKey.OffsetFetch,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'FindCoordinator cannot create __consumer_offsets and answers COORDINATOR_NOT_AVAILABLE',
    apiKey: ApiKey.FindCoordinator,
    setup: none,
    request: (broker) => broker.handle(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] }),
    full: [ErrorCode.COORDINATOR_NOT_AVAILABLE],
    after: async (broker) => {
      expect((broker.image.topic('__consumer_offsets') !== undefined)).toBe(false);
      expect(errorCodes(await broker.handle(ApiKey.FindCoordinator, 3, { key: 'a', keyType: 0 }))).toEqual([ErrorCode.NONE]);
    },
  },
  {
    name: 'JoinGroup needs no disk',
    apiKey: ApiKey.JoinGroup,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.JoinGroup, 3, { groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'SyncGroup cannot store the assignment: NOT_COORDINATOR, and the group rebalances',
    apiKey: ApiKey.SyncGroup,
    setup: async (broker) => {
      await withTopicAndOffsets(broker);
      return joinConsumer(broker, ['t']);
    },
    request: (broker, member) => broker.handle(ApiKey.SyncGroup, 5, syncRequest(member as Member)),
    full: [ErrorCode.NOT_COORDINATOR],
    after: async (broker, state) => {
      // The group rebalances: the member rejoins and syncs again, and this time it is stored.
      const rejoined = await joinConsumer(broker, ['t'], (state as Member).memberId);
      expect(rejoined.generationId).toBeGreaterThan((state as Member).generationId);
      const synced = (await broker.handle(ApiKey.SyncGroup, 5, syncRequest(rejoined))) as Body;
      expect(synced.errorCode).toBe(ErrorCode.NONE);
      expect(synced.assignment).toEqual(Buffer.from('a'));
    },
  },
  {
    name: 'Heartbeat needs no disk',
    apiKey: ApiKey.Heartbeat,
    setup: async (broker) => {
      await withTopicAndOffsets(broker);
      const member = await joinConsumer(broker, ['t']);
      await broker.handle(ApiKey.SyncGroup, 5, syncRequest(member));
      return member;
    },
    request: (broker, state) => broker.handle(ApiKey.Heartbeat, 4, { groupId: GROUP, generationId: (state as Member).generationId, memberId: (state as Member).memberId, groupInstanceId: null }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'LeaveGroup leaves (the empty group is stored later), as Kafka',
    apiKey: ApiKey.LeaveGroup,
    setup: async (broker) => {
      await withTopicAndOffsets(broker);
      const member = await joinConsumer(broker, ['t']);
      await broker.handle(ApiKey.SyncGroup, 5, syncRequest(member));
      return member;
    },
    request: (broker, state) => broker.handle(ApiKey.LeaveGroup, 5, { groupId: GROUP, members: [{ memberId: (state as Member).memberId, groupInstanceId: null, reason: null }] }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'DescribeGroups answers from memory',
    apiKey: ApiKey.DescribeGroups,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DescribeGroups, 5, { groups: [GROUP], includeAuthorizedOperations: false }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'ListGroups answers from memory',
    apiKey: ApiKey.ListGroups,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.ListGroups, 4, { statesFilter: [] }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'ApiVersions needs no disk',
    apiKey: ApiKey.ApiVersions,
    setup: none,
    request: (broker) => broker.handle(ApiKey.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'CreateTopics creates nothing, not even a part, and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.CreateTopics,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: 'new', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect((broker.image.topic('new') !== undefined)).toBe(false);
      expect((await createTopic(broker, 'new', 3)).errorCode).toBe(ErrorCode.NONE);
      expect(broker.image.topic('new')?.partitions.size).toBe(3);
    },
  },
  {
    name: 'DeleteTopics keeps the topic and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.DeleteTopics,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DeleteTopics, 6, { topics: [{ name: 't', topicId: ZERO_UUID }], timeoutMs: 1 }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.partition('t', 0)?.logEndOffset).toBe(3);
      expect(errorCodes(await broker.handle(ApiKey.DeleteTopics, 6, { topics: [{ name: 't', topicId: ZERO_UUID }], timeoutMs: 1 }))).toEqual([ErrorCode.NONE]);
      expect((broker.image.topic('t') !== undefined)).toBe(false);
    },
  },
  {
    name: 'DeleteRecords answers KAFKA_STORAGE_ERROR when the leader-epoch checkpoint cannot be written',
    apiKey: ApiKey.DeleteRecords,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DeleteRecords, 2, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 1 }] }], timeoutMs: 1 }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      const again = (await broker.handle(ApiKey.DeleteRecords, 2, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 2 }] }], timeoutMs: 1 })) as Body;
      expect(again.topics[0].partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, lowWatermark: 2 });
    },
  },
  {
    name: 'InitProducerId cannot reserve an id block and answers COORDINATOR_LOAD_IN_PROGRESS',
    apiKey: ApiKey.InitProducerId,
    setup: none,
    request: (broker) => broker.handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }),
    full: [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS],
    after: async (broker) => {
      const answer = (await broker.handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })) as Body;
      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.producerId).toBeGreaterThanOrEqual(0);
    },
  },
  {
    name: 'OffsetForLeaderEpoch answers from memory',
    apiKey: ApiKey.OffsetForLeaderEpoch,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }] }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'DescribeConfigs answers from memory',
    apiKey: ApiKey.DescribeConfigs,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'CreatePartitions adds none and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.CreatePartitions,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.CreatePartitions, 3, { topics: [{ name: 't', count: 4, assignments: null }], timeoutMs: 1, validateOnly: false }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.image.topic('t')?.partitions.size).toBe(2);
      expect(errorCodes(await broker.handle(ApiKey.CreatePartitions, 3, { topics: [{ name: 't', count: 4, assignments: null }], timeoutMs: 1, validateOnly: false }))).toEqual([ErrorCode.NONE]);
      expect(broker.image.topic('t')?.partitions.size).toBe(4);
    },
  },
  {
    name: 'AlterPartitionReassignments to where the partition already is writes nothing and needs no disk',
    apiKey: ApiKey.AlterPartitionReassignments,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.AlterPartitionReassignments, 1, {
      timeoutMs: 1000, allowReplicationFactorChange: true, topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [broker.config.nodeId] }] }],
    }),
    full: [ErrorCode.NONE],
    after: async (broker) => {
      expect(broker.image.partition('t', 0)?.replicas).toEqual([broker.config.nodeId]);
    },
  },
  {
    name: 'ElectLeaders of every partition, each led by its preferred replica already, writes nothing and needs no disk',
    apiKey: ApiKey.ElectLeaders,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 1000 }),
    full: [ErrorCode.NONE],
    after: async (broker) => {
      expect(broker.image.partition('t', 0)?.leader).toBe(broker.config.nodeId);
    },
  },
  {
    name: 'ListPartitionReassignments needs no disk',
    apiKey: ApiKey.ListPartitionReassignments,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 1000, topics: null }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'DeleteGroups keeps the group and answers NOT_COORDINATOR',
    apiKey: ApiKey.DeleteGroups,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DeleteGroups, 2, { groupsNames: [GROUP] }),
    full: [ErrorCode.NOT_COORDINATOR],
    after: async (broker) => {
      expect(await committedOffset(broker)).toBe(1);
      expect(errorCodes(await broker.handle(ApiKey.DeleteGroups, 2, { groupsNames: [GROUP] }))).toEqual([ErrorCode.NONE]);
    },
  },
  {
    name: 'OffsetDelete keeps the offset and answers NOT_COORDINATOR',
    apiKey: ApiKey.OffsetDelete,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.OffsetDelete, 0, { groupId: GROUP, topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }),
    full: [ErrorCode.NOT_COORDINATOR],
    after: async (broker) => {
      expect(await committedOffset(broker)).toBe(1);
      expect(errorCodes(await broker.handle(ApiKey.OffsetDelete, 0, { groupId: GROUP, topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }))).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
      expect(await committedOffset(broker)).toBe(-1);
    },
  },
  {
    name: 'AlterConfigs keeps the old topic configs and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.AlterConfigs,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.image.topicConfigs('t').get('retention.ms')).toBeUndefined();
      expect(errorCodes(await broker.handle(ApiKey.AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false }))).toEqual([ErrorCode.NONE]);
      expect(broker.image.topicConfigs('t').get('retention.ms')).toBe('1000');
    },
  },
  {
    name: 'IncrementalAlterConfigs keeps the old broker configs and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.IncrementalAlterConfigs,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '1000' }] }], validateOnly: false }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.dynamicBrokerConfigs('')).toEqual({});
      expect(errorCodes(await broker.handle(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '1000' }] }], validateOnly: false }))).toEqual([ErrorCode.NONE]);
      expect(broker.dynamicBrokerConfigs('')).toEqual({ 'log.retention.ms': '1000' });
    },
  },
  {
    name: 'DescribeLogDirs answers from memory',
    apiKey: ApiKey.DescribeLogDirs,
    setup: withTopicAndOffsets,
    request: (broker) => broker.handle(ApiKey.DescribeLogDirs, 4, { topics: null }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'DescribeClientQuotas answers from memory',
    apiKey: ApiKey.DescribeClientQuotas,
    setup: none,
    request: (broker) => broker.handle(ApiKey.DescribeClientQuotas, 1, { components: [], strict: false }),
    full: [ErrorCode.NONE],
    after: none,
  },
  {
    name: 'AlterClientQuotas keeps the old quotas and answers KAFKA_STORAGE_ERROR',
    apiKey: ApiKey.AlterClientQuotas,
    setup: none,
    request: (broker) => broker.handle(ApiKey.AlterClientQuotas, 1, { entries: [{ entity: [{ entityType: 'client-id', entityName: 'c' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }], validateOnly: false }),
    full: [ErrorCode.KAFKA_STORAGE_ERROR],
    after: async (broker) => {
      expect(broker.clientQuotas).toEqual([]);
      expect(errorCodes(await broker.handle(ApiKey.AlterClientQuotas, 1, { entries: [{ entity: [{ entityType: 'client-id', entityName: 'c' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }], validateOnly: false }))).toEqual([ErrorCode.NONE]);
      expect(broker.clientQuotas.length).toBe(1);
    },
  },
  {
    name: 'DescribeCluster needs no disk',
    apiKey: ApiKey.DescribeCluster,
    setup: none,
    request: (broker) => broker.handle(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 }),
    full: [ErrorCode.NONE],
    after: none,
  },
];

describe('a full disk, for every handled API', () => {
  let test: TestBroker | undefined;
  afterEach(async () => {
    (test?.fs as MemoryFileSystem | undefined)?.setDiskFull(false);
    await test?.broker.close();
    test = undefined;
  });

  it('names every API the broker handles', () => {
    const covered = new Set(cases.map((entry) => entry.apiKey));
    const missing = [...handledApiKeys].filter((apiKey) => !covered.has(apiKey));
    expect(missing, 'add a case for each handled API: what does it answer on a full disk?').toEqual([]);
  });

  it.each(cases.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const memory = new MemoryFileSystem();
    test = await openTestBroker({}, memory);
    const state = await entry.setup(test.broker);
    memory.setDiskFull(true);
    const response = await entry.request(test.broker, state);
    const codes = [...new Set(errorCodes(response))];
    expect(codes.map((code) => errorInfo(code).name).sort()).toEqual(entry.full.map((code) => errorInfo(code).name).sort());
    for (const code of codes) if (code !== ErrorCode.NONE) expect(errorInfo(code).retriable, errorInfo(code).name).toBe(true);
    memory.setDiskFull(false);
    await entry.after(test.broker, state);
  });
});

describe('a failing read (EIO)', () => {
  let test: TestBroker | undefined;
  afterEach(async () => {
    await test?.broker.close();
    test = undefined;
  });

  it.each([
    [11, ErrorCode.KAFKA_STORAGE_ERROR],
    [5, ErrorCode.NOT_LEADER_OR_FOLLOWER],
  ])('answers a Fetch v%i with %i, which that version retries', async (version, expected) => {
    const memory = new MemoryFileSystem();
    test = await openTestBroker({}, memory);
    await withTopicAndOffsets(test.broker);
    memory.failNext('read');
    const response = (await test.broker.handle(ApiKey.Fetch, version, fetchRequest('t', 0, 0))) as Body;
    expect(response.responses[0].partitions[0].errorCode).toBe(expected);
    expect(errorInfo(expected).retriable).toBe(true);
  });

  it('answers ListOffsets by timestamp with KAFKA_STORAGE_ERROR', async () => {
    const memory = new MemoryFileSystem();
    test = await openTestBroker({}, memory);
    await withTopicAndOffsets(test.broker);
    memory.failNext('read');
    const response = (await test.broker.handle(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }] }] })) as Body;
    expect(response.topics[0].partitions[0].errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  });
});

/** Files under `dir` (recursively) whose names end with `suffix`. */
function filesEnding(fileSystem: FileSystem, dir: string, suffix: string): string[] {
  return fileSystem.readdir(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (fileSystem.isDirectory(full)) return filesEnding(fileSystem, full, suffix);
    return name.endsWith(suffix) ? [full] : [];
  });
}

/**
 * The real file system, with a switch that fills the disk: while full, every atomic file write
 * meets a real ENOSPC from the kernel (its temporary file is a link to /dev/full), so the real
 * write path and its cleanup run; log writes are refused with the same error.
 */
function realFilesThatFill(): FileSystem & { full: boolean } {
  const real = nodeFileSystem;
  const wrapper: FileSystem & { full: boolean } = {
    ...real,
    full: false,
    openFile(filePath, options) {
      const file = real.openFile(filePath, options);
      return {
        ...file,
        read: (...args) => file.read(...args),
        size: () => file.size(),
        truncate: (length) => file.truncate(length),
        sync: () => file.sync(),
        close: () => file.close(),
        write: (...args) => {
          if (wrapper.full) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${filePath}'`), { code: 'ENOSPC' });
          return file.write(...args);
        },
      };
    },
    writeFileAtomic(filePath, data) {
      if (wrapper.full) fs.symlinkSync('/dev/full', `${filePath}.tmp`);
      real.writeFileAtomic(filePath, data);
    },
  };
  return wrapper;
}

describe('a clean stop on a full disk', () => {
  const warnings: string[] = [];
  const onWarning = (message: unknown): void => {
    warnings.push((message as { message: string }).message);
  };
  beforeEach(() => {
    warnings.length = 0;
    warningChannel.subscribe(onWarning);
  });
  afterEach(() => warningChannel.unsubscribe(onWarning));

  it('closes every log, warns, writes no clean-shutdown marker, and the next open has every record and offset', async () => {
    const memory = new MemoryFileSystem();
    const test = await openTestBroker({}, memory);
    await withTopicAndOffsets(test.broker);
    memory.setDiskFull(true);
    await test.broker.close();
    expect(warnings.some((warning) => warning.includes('ENOSPC'))).toBe(true);
    expect(memory.exists(path.join(DIR, '.kafka_cleanshutdown'))).toBe(false);
    memory.setDiskFull(false);
    const reopened = await Broker.open({ dir: DIR, fs: memory, clock: test.clock, config: { offsetsTopicNumPartitions: 3 } });
    try {
      expect(reopened.partition('t', 0)?.logEndOffset).toBe(3);
      expect(await committedOffset(reopened)).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it('leaves no .tmp file behind on the real file system', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-full-'));
    try {
      const fileSystem = realFilesThatFill();
      const test = await openTestBroker({}, fileSystem, dir);
      await withTopicAndOffsets(test.broker);
      fileSystem.full = true;
      await test.broker.close();
      expect(warnings.some((warning) => warning.includes('ENOSPC'))).toBe(true);
      expect(filesEnding(nodeFileSystem, dir, '.tmp')).toEqual([]);
      fileSystem.full = false;
      const reopened = await Broker.open({ dir, fs: nodeFileSystem, config: { offsetsTopicNumPartitions: 3 } });
      try {
        expect(reopened.partition('t', 0)?.logEndOffset).toBe(3);
        expect(await committedOffset(reopened)).toBe(1);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
