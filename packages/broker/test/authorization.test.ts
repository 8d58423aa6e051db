/**
 * Every handler asks the authorizer for the operation Kafka's KafkaApis asks, and answers Kafka's
 * error code when refused: a principal with no ACL against each API, then the same requests from
 * this process (no principal: not checked) and from a principal the ACLs allow.
 */
import { AclOperation, AclPermissionType, ApiKey, ErrorCode, PatternType, ResourceType } from '@gregor/protocol';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { StandardAuthorizer } from '@gregor/security';
import { Broker, type Body } from '@gregor/broker';
import { describe, expect, it } from 'vitest';
import { batch, createTopic, fetchRequest, seededRandom } from './helpers.js';

const alice = { principal: 'User:alice', clientHost: '/10.0.0.7', clientId: 'alice', listenerName: 'PLAINTEXT' };

async function openBroker(authorizer: StandardAuthorizer): Promise<Broker> {
  const broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), clock: new FakeClock(), random: seededRandom(), config: { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 1 }, authorizer });
  await createTopic(broker, 'orders');
  await createTopic(broker, 'visible');
  return broker;
}

function allow(resourceType: number, resourceName: string, operation: number, patternType: number = PatternType.LITERAL) {
  return { resourceType, resourceName, patternType, principal: 'User:alice', host: '*', operation, permissionType: AclPermissionType.ALLOW } as never;
}

const requests: { api: string; apiKey: number; version: number; body: Body; code: (response: Body) => number | number[]; refusedWith: number }[] = [
  { api: 'Produce', apiKey: ApiKey.Produce, version: 9, body: { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: batch(['x']) }] }] }, code: (r) => r.responses[0].partitionResponses[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'Fetch', apiKey: ApiKey.Fetch, version: 11, body: fetchRequest('orders', 0, 0), code: (r) => r.responses[0].partitions[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'ListOffsets', apiKey: ApiKey.ListOffsets, version: 7, body: { replicaId: -1, isolationLevel: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] }, code: (r) => r.topics[0].partitions[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'Metadata (by name)', apiKey: ApiKey.Metadata, version: 12, body: { topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, code: (r) => r.topics[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'CreateTopics', apiKey: ApiKey.CreateTopics, version: 7, body: { topics: [{ name: 'new', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: true }, code: (r) => r.topics[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'CreatePartitions', apiKey: ApiKey.CreatePartitions, version: 3, body: { topics: [{ name: 'orders', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true }, code: (r) => r.results[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'DeleteRecords', apiKey: ApiKey.DeleteRecords, version: 2, body: { topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 1000 }, code: (r) => r.topics[0].partitions[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'DescribeConfigs (topic)', apiKey: ApiKey.DescribeConfigs, version: 4, body: { resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }, code: (r) => r.results[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'DescribeConfigs (broker)', apiKey: ApiKey.DescribeConfigs, version: 4, body: { resources: [{ resourceType: 4, resourceName: '1', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }, code: (r) => r.results[0].errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'IncrementalAlterConfigs', apiKey: ApiKey.IncrementalAlterConfigs, version: 1, body: { resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] }], validateOnly: true }, code: (r) => r.responses[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'FindCoordinator', apiKey: ApiKey.FindCoordinator, version: 4, body: { keyType: 0, coordinatorKeys: ['billing'] }, code: (r) => r.coordinators[0].errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'JoinGroup', apiKey: ApiKey.JoinGroup, version: 9, body: { groupId: 'billing', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null }, code: (r) => r.errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'SyncGroup', apiKey: ApiKey.SyncGroup, version: 5, body: { groupId: 'billing', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, code: (r) => r.errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'Heartbeat', apiKey: ApiKey.Heartbeat, version: 4, body: { groupId: 'billing', generationId: 1, memberId: 'm', groupInstanceId: null }, code: (r) => r.errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'LeaveGroup', apiKey: ApiKey.LeaveGroup, version: 5, body: { groupId: 'billing', members: [{ memberId: 'm', groupInstanceId: null, reason: null }] }, code: (r) => r.errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'OffsetCommit', apiKey: ApiKey.OffsetCommit, version: 8, body: { groupId: 'billing', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }] }, code: (r) => r.topics[0].partitions[0].errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'OffsetFetch', apiKey: ApiKey.OffsetFetch, version: 8, body: { groups: [{ groupId: 'billing', topics: null }], requireStable: false }, code: (r) => r.groups[0].errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'DescribeGroups', apiKey: ApiKey.DescribeGroups, version: 5, body: { groups: ['billing'], includeAuthorizedOperations: false }, code: (r) => r.groups[0].errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'DeleteGroups', apiKey: ApiKey.DeleteGroups, version: 2, body: { groupsNames: ['billing'] }, code: (r) => r.results[0].errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'InitProducerId', apiKey: ApiKey.InitProducerId, version: 4, body: { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 }, code: (r) => r.errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'OffsetDelete', apiKey: ApiKey.OffsetDelete, version: 0, body: { groupId: 'billing', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] }, code: (r) => r.errorCode, refusedWith: ErrorCode.GROUP_AUTHORIZATION_FAILED },
  { api: 'OffsetForLeaderEpoch', apiKey: ApiKey.OffsetForLeaderEpoch, version: 4, body: { replicaId: -1, topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] }, code: (r) => r.topics[0].partitions[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
  { api: 'DescribeLogDirs', apiKey: ApiKey.DescribeLogDirs, version: 4, body: { topics: null }, code: (r) => r.errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'DescribeClientQuotas', apiKey: ApiKey.DescribeClientQuotas, version: 1, body: { components: [], strict: false }, code: (r) => r.errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'AlterClientQuotas', apiKey: ApiKey.AlterClientQuotas, version: 1, body: { entries: [{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }], validateOnly: true }, code: (r) => r.entries[0].errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'AlterPartitionReassignments', apiKey: ApiKey.AlterPartitionReassignments, version: 1, body: { timeoutMs: 1000, allowReplicationFactorChange: true, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [7] }] }] }, code: (r) => r.errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'ListPartitionReassignments', apiKey: ApiKey.ListPartitionReassignments, version: 0, body: { timeoutMs: 1000, topics: null }, code: (r) => r.errorCode, refusedWith: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
  { api: 'DeleteTopics', apiKey: ApiKey.DeleteTopics, version: 6, body: { topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: 1000 }, code: (r) => r.responses[0].errorCode, refusedWith: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
];

describe('handlers with an authorizer', () => {
  it("refuse a principal without ACLs with Kafka's error code, API by API", async () => {
    const broker = await openBroker(new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }));
    try {
      const refused: Record<string, number | number[]> = {};
      for (const request of requests) refused[request.api] = request.code((await broker.handle(request.apiKey, request.version, request.body, alice)) as Body);
      expect(refused).toEqual(Object.fromEntries(requests.map((request) => [request.api, request.refusedWith])));
      // Listings leave out what the principal may not describe.
      const all = (await broker.handle(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false }, alice)) as Body;
      expect(all.topics).toEqual([]);
      const groups = (await broker.handle(ApiKey.ListGroups, 4, { statesFilter: [] }, alice)) as Body;
      expect(groups.groups).toEqual([]);
      // The same requests from this process carry no principal and are not checked.
      const produced = (await broker.handle(ApiKey.Produce, 9, requests[0].body)) as Body;
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
    } finally {
      await broker.close();
    }
  });

  it('allow what the ACLs grant, with the implied operations and prefixes', async () => {
    const authorizer = new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }, [
      allow(ResourceType.TOPIC, 'ord', AclOperation.WRITE, PatternType.PREFIXED),
      allow(ResourceType.TOPIC, 'visible', AclOperation.READ),
      allow(ResourceType.GROUP, 'billing', AclOperation.READ),
    ]);
    const broker = await openBroker(authorizer);
    try {
      const produce = (await broker.handle(ApiKey.Produce, 9, requests[0].body, alice)) as Body;
      expect(produce.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
      // Write implies Describe: both topics are listed; Read on 'visible' only lets alice fetch that one.
      const all = (await broker.handle(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false }, alice)) as Body;
      expect(all.topics.map((topic: Body) => topic.name)).toEqual(['orders', 'visible']);
      const fetchOrders = (await broker.handle(ApiKey.Fetch, 11, fetchRequest('orders', 0, 0), alice)) as Body;
      expect(fetchOrders.responses[0].partitions[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const fetchVisible = (await broker.handle(ApiKey.Fetch, 11, fetchRequest('visible', 0, 0), alice)) as Body;
      expect(fetchVisible.responses[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
      const coordinator = (await broker.handle(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['billing'] }, alice)) as Body;
      expect(coordinator.coordinators[0].errorCode).toBe(ErrorCode.NONE);
      // A commit to the group for a topic alice may not Read is refused for that topic only.
      const commit = (await broker.handle(ApiKey.OffsetCommit, 8, { ...requests.find((r) => r.api === 'OffsetCommit')?.body }, alice)) as Body;
      expect(commit.topics[0].partitions[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      await broker.close();
    }
  });
});

/** Kafka's bit field: bit `1 << code` for each operation named. */
function bits(...operations: number[]): number {
  return operations.reduce((field, operation) => field | (1 << operation), 0);
}

const ALL_TOPIC_OPERATIONS = bits(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);
const ALL_GROUP_OPERATIONS = bits(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE);
const ALL_CLUSTER_OPERATIONS = bits(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE);
const OMITTED = -2147483648;

describe('authorized operations (Metadata v8-10, DescribeGroups v3+, DescribeCluster)', () => {
  async function answers(broker: Broker, context: Body | undefined, include: boolean) {
    const metadata = (await broker.handle(ApiKey.Metadata, 10, { topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }, { name: 'visible', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: include, includeTopicAuthorizedOperations: include }, context)) as Body;
    const groups = (await broker.handle(ApiKey.DescribeGroups, 5, { groups: ['billing', 'secret'], includeAuthorizedOperations: include }, context)) as Body;
    const cluster = (await broker.handle(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: include, endpointType: 1 }, context)) as Body;
    return {
      topics: metadata.topics.map((topic: Body) => [topic.name, topic.errorCode, topic.topicAuthorizedOperations]),
      metadataCluster: metadata.clusterAuthorizedOperations,
      groups: groups.groups.map((group: Body) => [group.groupId, group.errorCode, group.authorizedOperations]),
      cluster: cluster.clusterAuthorizedOperations,
    };
  }

  it('are Int.MinValue when not asked for, every supported operation without an authorizer or principal', async () => {
    const broker = await openBroker(new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }));
    try {
      expect(await answers(broker, alice, false)).toEqual({
        topics: [['orders', ErrorCode.TOPIC_AUTHORIZATION_FAILED, OMITTED], ['visible', ErrorCode.TOPIC_AUTHORIZATION_FAILED, OMITTED]],
        metadataCluster: OMITTED,
        groups: [['billing', ErrorCode.GROUP_AUTHORIZATION_FAILED, OMITTED], ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED, OMITTED]],
        cluster: OMITTED,
      });
      // This process's own requests are not checked: everything each resource type supports.
      expect(await answers(broker, undefined, true)).toEqual({
        topics: [['orders', ErrorCode.NONE, ALL_TOPIC_OPERATIONS], ['visible', ErrorCode.NONE, ALL_TOPIC_OPERATIONS]],
        metadataCluster: ALL_CLUSTER_OPERATIONS,
        groups: [['billing', ErrorCode.NONE, ALL_GROUP_OPERATIONS], ['secret', ErrorCode.NONE, ALL_GROUP_OPERATIONS]],
        cluster: ALL_CLUSTER_OPERATIONS,
      });
    } finally {
      await broker.close();
    }
  });

  it('are what the ACLs grant, with the implied operations; a refused topic still carries its field, the cluster is 0 without Describe', async () => {
    const deny = (resourceType: number, resourceName: string, operation: number) => ({ ...(allow(resourceType, resourceName, operation) as object), permissionType: AclPermissionType.DENY }) as never;
    const authorizer = new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }, [
      allow(ResourceType.TOPIC, 'ord', AclOperation.WRITE, PatternType.PREFIXED),
      allow(ResourceType.TOPIC, 'orders', AclOperation.ALTER_CONFIGS),
      allow(ResourceType.TOPIC, 'visible', AclOperation.ALL),
      deny(ResourceType.TOPIC, 'visible', AclOperation.DELETE),
      allow(ResourceType.GROUP, 'billing', AclOperation.READ),
      allow(ResourceType.GROUP, 'secret', AclOperation.DELETE),
      deny(ResourceType.GROUP, 'secret', AclOperation.DESCRIBE),
      allow(ResourceType.CLUSTER, 'kafka-cluster', AclOperation.IDEMPOTENT_WRITE),
    ]);
    const broker = await openBroker(authorizer);
    try {
      const first = await answers(broker, alice, true);
      expect(first).toEqual({
        topics: [
          ['orders', ErrorCode.NONE, bits(AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.ALTER_CONFIGS, AclOperation.DESCRIBE_CONFIGS)],
          ['visible', ErrorCode.NONE, ALL_TOPIC_OPERATIONS & ~bits(AclOperation.DELETE)],
        ],
        // alice may not Describe the cluster: 0, whatever else she may do on it.
        metadataCluster: 0,
        // 'secret' is refused (Describe denied): its field stays Int.MinValue, as Kafka answers.
        groups: [['billing', ErrorCode.NONE, bits(AclOperation.READ, AclOperation.DESCRIBE)], ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED, OMITTED]],
        cluster: 0,
      });
      authorizer.replace([...authorizer.acls, allow(ResourceType.CLUSTER, 'kafka-cluster', AclOperation.ALTER)]);
      const second = await answers(broker, alice, true);
      expect(second.metadataCluster).toBe(bits(AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE));
      expect(second.cluster).toBe(second.metadataCluster);
      // Metadata v11+ has no cluster field; topics keep theirs.
      const v12 = (await broker.handle(ApiKey.Metadata, 12, { topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true }, alice)) as Body;
      expect(v12.topics[0].topicAuthorizedOperations).toBe(first.topics[0][2]);
      // A topic alice may not describe is refused and still carries what she may do (nothing).
      const hidden = (await broker.handle(ApiKey.Metadata, 10, { topics: [{ name: 'hidden', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true }, alice)) as Body;
      expect([hidden.topics[0].errorCode, hidden.topics[0].topicAuthorizedOperations]).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0]);
    } finally {
      await broker.close();
    }
  });
});

describe('InitProducerId authorization (Kafka 3, KIP-679)', () => {
  const idempotent = { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 };
  const cases: { name: string; acls: ReturnType<typeof allow>[]; body?: Body; expected: number }[] = [
    { name: 'no ACL', acls: [], expected: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
    { name: 'IdempotentWrite on the cluster', acls: [allow(ResourceType.CLUSTER, 'kafka-cluster', AclOperation.IDEMPOTENT_WRITE)], expected: ErrorCode.NONE },
    { name: 'Write on one topic', acls: [allow(ResourceType.TOPIC, 'orders', AclOperation.WRITE)], expected: ErrorCode.NONE },
    { name: 'Write on a topic prefix', acls: [allow(ResourceType.TOPIC, 'ord', AclOperation.WRITE, PatternType.PREFIXED)], expected: ErrorCode.NONE },
    { name: 'Read on a topic only', acls: [allow(ResourceType.TOPIC, 'orders', AclOperation.READ)], expected: ErrorCode.CLUSTER_AUTHORIZATION_FAILED },
    { name: 'a transactional id without Write on it', acls: [allow(ResourceType.CLUSTER, 'kafka-cluster', AclOperation.IDEMPOTENT_WRITE), allow(ResourceType.TOPIC, 'orders', AclOperation.WRITE)], body: { ...idempotent, transactionalId: 'tx-1' }, expected: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED },
    // Transactions are not served yet: an authorized id is told no coordinator is available (as FindCoordinator says).
    { name: 'a transactional id with Write on it', acls: [allow(ResourceType.TRANSACTIONAL_ID, 'tx-', AclOperation.WRITE, PatternType.PREFIXED)], body: { ...idempotent, transactionalId: 'tx-1' }, expected: ErrorCode.COORDINATOR_NOT_AVAILABLE },
  ];
  for (const { name, acls, body, expected } of cases) {
    it(`${name}: error code ${expected}`, async () => {
      const broker = await openBroker(new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }, acls));
      try {
        const answer = (await broker.handle(ApiKey.InitProducerId, 4, body ?? idempotent, alice)) as Body;
        expect(answer.errorCode).toBe(expected);
      } finally {
        await broker.close();
      }
    });
  }

  it('a transactional Produce needs Write on its transactional id', async () => {
    const broker = await openBroker(new StandardAuthorizer({ superUsers: [], allowEveryoneIfNoAclFound: false }, [allow(ResourceType.TOPIC, 'orders', AclOperation.WRITE)]));
    try {
      const produce = (transactionalId: string | null) => broker.handle(ApiKey.Produce, 9, { ...requests[0].body, transactionalId }, alice) as Promise<Body>;
      expect((await produce('tx-1')).responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      expect((await produce(null)).responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
    } finally {
      await broker.close();
    }
  });
});
