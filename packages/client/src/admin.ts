/**
 * The admin client, kafkajs's `admin()` API: topics (create, delete, list, metadata, partitions),
 * configs, groups (list, describe, offsets with lag, reset/set offsets), offsets by timestamp and
 * deleteRecords. Each method is one or a few requests; errors in a response become typed errors.
 */
import { alterClientQuotas, alterConfigs, describeClientQuotas, describeConfigs, describeLogDirs, incrementalAlterConfigs } from './admin-configs.js';
import { type AclEntry, type AclFilter, alterUserScramCredentials, createAcls, deleteAcls, describeAcls, describeUserScramCredentials, type ScramUpsertion } from './admin-security.js';
import { Api } from './api.js';
import type { Cluster } from './cluster.js';
import { decodeAssignment, decodeSubscription } from './consumer-protocol.js';
import { DeleteGroupsError, KafkaClientError, KafkaProtocolError, throwIfError } from './errors.js';
import { commitOffsets, EARLIEST_TIMESTAMP, fetchCommittedOffsets, LATEST_TIMESTAMP, listOffsets } from './offsets.js';
import type { Body } from './transport.js';

export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  replicaAssignment?: { partition: number; replicas: number[] }[];
  configEntries?: { name: string; value: string }[];
}

export { AlterConfigOpTypes, ConfigResourceTypes, ConfigSource } from './admin-configs.js';

export class Admin {
  constructor(
    private readonly cluster: Cluster,
    private readonly ownsCluster = false,
  ) {}

  async connect(): Promise<void> {
    await this.cluster.connect();
  }

  async disconnect(): Promise<void> {
    if (this.ownsCluster) await this.cluster.close();
  }

  /** Creates topics; resolves false when every topic already existed (kafkajs), true otherwise. */
  async createTopics({ topics, validateOnly = false, timeout = 5000 }: { topics: ITopicConfig[]; validateOnly?: boolean; timeout?: number; waitForLeaders?: boolean }): Promise<boolean> {
    const response = await this.cluster.request(Api.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.topic,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: (t.replicaAssignment ?? []).map((a) => ({ partitionIndex: a.partition, brokerIds: a.replicas })),
        configs: (t.configEntries ?? []).map((c) => ({ name: c.name, value: c.value })),
      })),
      timeoutMs: timeout,
      validateOnly,
    });
    let created = false;
    for (const t of response.topics) {
      if (t.errorCode === 36) continue; // TOPIC_ALREADY_EXISTS
      throwIfError(t.errorCode, `${t.name}: ${t.errorMessage ?? ''}`);
      created = true;
    }
    if (created) await this.cluster.refreshMetadata(topics.map((t) => t.topic)).catch(() => {});
    return created;
  }

  async deleteTopics({ topics, timeout = 5000 }: { topics: string[]; timeout?: number }): Promise<void> {
    const response = await this.cluster.request(Api.DeleteTopics, {
      topics: topics.map((name) => ({ name, topicId: '00000000-0000-0000-0000-000000000000' })),
      topicNames: topics,
      timeoutMs: timeout,
    });
    for (const r of response.responses) throwIfError(r.errorCode, r.name);
    for (const name of topics) this.cluster.topics.delete(name);
  }

  async createPartitions({ topicPartitions, validateOnly = false, timeout = 5000 }: { topicPartitions: { topic: string; count: number; assignments?: number[][] }[]; validateOnly?: boolean; timeout?: number }): Promise<void> {
    const response = await this.cluster.request(Api.CreatePartitions, {
      topics: topicPartitions.map((t) => ({ name: t.topic, count: t.count, assignments: t.assignments === undefined ? null : t.assignments.map((brokerIds) => ({ brokerIds })) })),
      timeoutMs: timeout,
      validateOnly,
    });
    for (const r of response.results) throwIfError(r.errorCode, `${r.name}: ${r.errorMessage ?? ''}`);
    await this.cluster.refreshMetadata(topicPartitions.map((t) => t.topic)).catch(() => {});
  }

  /**
   * kafkajs's alterPartitionReassignments: moves each partition to its `replicas` (the first is the
   * preferred leader); `replicas: null` cancels the move in progress (Kafka's admin; kafkajs cannot
   * send it). Resolves once the controller accepted every move (the moves go on in the
   * background: listPartitionReassignments shows them until they complete); the first partition
   * refused throws its error (UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT,
   * NO_REASSIGNMENT_IN_PROGRESS).
   */
  async alterPartitionReassignments({ topics, timeout = 5000 }: { topics: { topic: string; partitionAssignment: { partition: number; replicas: number[] | null }[] }[]; timeout?: number }): Promise<void> {
    const response = await this.cluster.request(Api.AlterPartitionReassignments, {
      timeoutMs: timeout,
      allowReplicationFactorChange: true,
      topics: topics.map((t) => ({ name: t.topic, partitions: t.partitionAssignment.map((p) => ({ partitionIndex: p.partition, replicas: p.replicas })) })),
    });
    throwIfError(response.errorCode, response.errorMessage);
    for (const topic of response.responses) {
      for (const p of topic.partitions) throwIfError(p.errorCode, `${topic.name}-${p.partitionIndex}: ${p.errorMessage ?? ''}`);
    }
  }

  /**
   * Kafka's Admin.electLeaders (kafkajs has none): elects each partition's preferred (first)
   * replica (`PREFERRED`, the default), or any live replica of a leaderless partition (`UNCLEAN`:
   * may lose acknowledged records). `topicPartitions` omitted: every partition (the answer then
   * lists only those elected or failed). Resolves once the broker's metadata shows the new
   * leaders, to one result per partition with `error` null or its KafkaProtocolError
   * (ELECTION_NOT_NEEDED when the wanted leader leads already, PREFERRED_LEADER_NOT_AVAILABLE when
   * it is down or out of the ISR); a refused request (CLUSTER_AUTHORIZATION_FAILED, no controller
   * answer) throws.
   */
  async electLeaders({ topicPartitions, electionType = 'PREFERRED', timeout = 60_000 }: { topicPartitions?: { topic: string; partitions: number[] }[]; electionType?: 'PREFERRED' | 'UNCLEAN'; timeout?: number } = {}): Promise<{ topic: string; partition: number; error: KafkaProtocolError | null }[]> {
    const response = await this.cluster.request(Api.ElectLeaders, {
      electionType: electionType === 'PREFERRED' ? 0 : 1,
      topicPartitions: topicPartitions === undefined ? null : topicPartitions.map((t) => ({ topic: t.topic, partitions: t.partitions })),
      timeoutMs: timeout,
    });
    throwIfError(response.errorCode ?? 0, 'ElectLeaders');
    return (response.replicaElectionResults as { topic: string; partitionResult: { partitionId: number; errorCode: number; errorMessage: string | null }[] }[]).flatMap((topic) =>
      topic.partitionResult.map((result) => ({
        topic: topic.topic,
        partition: result.partitionId,
        error: result.errorCode === 0 ? null : new KafkaProtocolError(result.errorCode, `${topic.topic}-${result.partitionId}${result.errorMessage === null ? '' : `: ${result.errorMessage}`}`),
      })),
    );
  }

  /**
   * kafkajs's listPartitionReassignments: the moves in progress, all of them or among the
   * partitions named: `{ topics: [{ name, partitions: [{ partition, replicas, addingReplicas, removingReplicas }] }] }`.
   */
  async listPartitionReassignments({ topics, timeout = 5000 }: { topics?: { topic: string; partitions: number[] }[]; timeout?: number } = {}) {
    const response = await this.cluster.request(Api.ListPartitionReassignments, {
      timeoutMs: timeout,
      topics: topics === undefined ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
    });
    throwIfError(response.errorCode, response.errorMessage);
    return {
      topics: (response.topics as { name: string; partitions: { partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[] }[]).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })),
      })),
    };
  }

  async listTopics(): Promise<string[]> {
    const topics = await this.cluster.refreshMetadata();
    return topics.filter((t) => !t.isInternal).map((t) => t.name);
  }

  /** kafkajs's shape: `{ topics: [{ name, partitions: [{ partitionId, leader, replicas, isr, partitionErrorCode }] }] }`. */
  async fetchTopicMetadata({ topics }: { topics?: string[] } = {}) {
    const infos = await this.cluster.refreshMetadata(topics);
    if (topics !== undefined) for (const name of topics) if (!infos.some((t) => t.name === name)) throw new KafkaProtocolError(3, name);
    return {
      topics: infos.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({ partitionErrorCode: 0, partitionId: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, offlineReplicas: [] as number[] })),
      })),
    };
  }

  /** kafkajs's describeConfigs; `includeDocumentation` (Kafka's) fills each entry's documentation. */
  describeConfigs(options: Parameters<typeof describeConfigs>[1]) {
    return describeConfigs(this.cluster, options);
  }

  /** kafkajs's alterConfigs: each resource's dynamic configs become exactly the ones given. */
  alterConfigs(options: Parameters<typeof alterConfigs>[1]) {
    return alterConfigs(this.cluster, options);
  }

  /** Kafka's incrementalAlterConfigs: `operation` SET, DELETE, APPEND or SUBTRACT per config. */
  incrementalAlterConfigs(options: Parameters<typeof incrementalAlterConfigs>[1]) {
    return incrementalAlterConfigs(this.cluster, options);
  }

  /** Kafka's describeClientQuotas: the quotas of the entities a filter matches (Gregor stores them; it does not enforce them). */
  describeClientQuotas(options: Parameters<typeof describeClientQuotas>[1]) {
    return describeClientQuotas(this.cluster, options);
  }

  /** Kafka's alterClientQuotas: set or remove quotas of user, client-id and ip entities. */
  alterClientQuotas(options: Parameters<typeof alterClientQuotas>[1]) {
    return alterClientQuotas(this.cluster, options);
  }

  /** Kafka's describeLogDirs: each broker's log directories and the size of each partition in them. */
  /** kafkajs's createAcls: each entry with Kafka's codes (resourceType 2 topic, operation 3 read, permissionType 3 allow...). */
  createAcls({ acl }: { acl: AclEntry[] }): Promise<void> {
    return createAcls(this.cluster, acl);
  }

  describeAcls(filter: AclFilter) {
    return describeAcls(this.cluster, filter);
  }

  deleteAcls({ filters }: { filters: AclFilter[] }) {
    return deleteAcls(this.cluster, filters);
  }

  /** Java admin's alterUserScramCredentials: the salted password is computed here, never sent in clear. */
  alterUserScramCredentials(changes: { upsertions?: ScramUpsertion[]; deletions?: { user: string; mechanism: ScramUpsertion['mechanism'] }[] }): Promise<void> {
    return alterUserScramCredentials(this.cluster, changes);
  }

  describeUserScramCredentials(users?: string[]) {
    return describeUserScramCredentials(this.cluster, users);
  }

  describeLogDirs(options?: Parameters<typeof describeLogDirs>[1]) {
    return describeLogDirs(this.cluster, options);
  }

  /** kafkajs's describeCluster: the brokers, the controller id and the cluster id. */
  async describeCluster(): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; controller: number | null; clusterId: string }> {
    const response = await this.cluster.request(Api.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    throwIfError(response.errorCode, response.errorMessage);
    return {
      brokers: response.brokers.map((b: Body) => ({ nodeId: b.brokerId, host: b.host, port: b.port })),
      controller: response.controllerId < 0 ? null : response.controllerId,
      clusterId: response.clusterId,
    };
  }

  async listGroups(): Promise<{ groups: { groupId: string; protocolType: string; groupState?: string }[] }> {
    const response = await this.cluster.request(Api.ListGroups, { statesFilter: [] });
    throwIfError(response.errorCode);
    return { groups: response.groups.map((g: Body) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState })) };
  }

  /** Members with their subscriptions and assignments decoded when the protocol type is 'consumer'. */
  async describeGroups(groupIds: string[]) {
    const byCoordinator = new Map<number, string[]>();
    for (const id of groupIds) {
      const node = await this.cluster.coordinatorFor(id);
      byCoordinator.set(node, [...(byCoordinator.get(node) ?? []), id]);
    }
    const groups: Body[] = [];
    for (const [nodeId, ids] of byCoordinator) {
      const response = await this.cluster.request(Api.DescribeGroups, { groups: ids, includeAuthorizedOperations: false }, { nodeId });
      for (const g of response.groups) {
        throwIfError(g.errorCode, g.groupId);
        groups.push({
          groupId: g.groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          errorCode: g.errorCode,
          members: g.members.map((m: Body) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.memberMetadata,
            memberAssignment: m.memberAssignment,
            ...(g.protocolType === 'consumer' ? decodedMember(m) : {}),
          })),
        });
      }
    }
    return { groups };
  }

  /**
   * kafkajs's deleteGroups: deletes groups that have no members, with their committed offsets.
   * Resolves to `[{ groupId, errorCode }]`; when any group fails (NON_EMPTY_GROUP,
   * GROUP_ID_NOT_FOUND, ...) it throws DeleteGroupsError listing the failures.
   */
  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const byCoordinator = new Map<number, string[]>();
    for (const id of groupIds) {
      const node = await this.cluster.coordinatorFor(id);
      byCoordinator.set(node, [...(byCoordinator.get(node) ?? []), id]);
    }
    const results: { groupId: string; errorCode: number }[] = [];
    for (const [nodeId, ids] of byCoordinator) {
      const response = await this.cluster.request(Api.DeleteGroups, { groupsNames: ids }, { nodeId });
      for (const r of response.results) results.push({ groupId: r.groupId, errorCode: r.errorCode });
    }
    const failed = results.filter((r) => r.errorCode !== 0);
    if (failed.length > 0) throw new DeleteGroupsError(failed.map((r) => ({ ...r, error: new KafkaProtocolError(r.errorCode, r.groupId) })));
    return results;
  }

  /**
   * Deletes a group's committed offsets of the given partitions (Kafka's Admin
   * deleteConsumerGroupOffsets, OffsetDelete): refused with GROUP_SUBSCRIBED_TO_TOPIC while a
   * member consumes the topic, with NON_EMPTY_GROUP for a non-consumer group with members.
   */
  async deleteConsumerGroupOffsets({ groupId, topics }: { groupId: string; topics: { topic: string; partitions: number[] }[] }): Promise<void> {
    const response = await this.cluster.coordinatorRequest(groupId, Api.OffsetDelete, {
      groupId,
      topics: topics.map((t) => ({ name: t.topic, partitions: t.partitions.map((partitionIndex) => ({ partitionIndex })) })),
    });
    throwIfError(response.errorCode, groupId);
    for (const t of response.topics) for (const p of t.partitions) throwIfError(p.errorCode, `${groupId} ${t.name}-${p.partitionIndex}`);
  }

  /** Committed offsets of a group per topic, with the high watermark and lag when `resolveOffsets`. */
  async fetchOffsets({ groupId, topics }: { groupId: string; topics?: string[] }) {
    const names = topics ?? [];
    const requested = topics === undefined ? null : await Promise.all(names.map(async (topic) => ({ topic, partitions: (await this.cluster.topicInfo(topic)).partitions.map((p) => p.partitionId) })));
    const committed = await fetchCommittedOffsets(this.cluster, groupId, requested);
    const ends = await listOffsets(this.cluster, committed.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: LATEST_TIMESTAMP })));
    const endByKey = new Map(ends.map((e) => [`${e.topic}\u0000${e.partition}`, e.offset]));
    const byTopic = new Map<string, { partition: number; offset: string; metadata: null; highWatermark: string; lag: string }[]>();
    for (const c of committed) {
      const hw = endByKey.get(`${c.topic}\u0000${c.partition}`) ?? -1;
      const entry = { partition: c.partition, offset: String(c.offset), metadata: null, highWatermark: String(hw), lag: String(c.offset < 0 ? hw : Math.max(0, hw - c.offset)) };
      byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), entry]);
    }
    return (topics ?? [...byTopic.keys()]).map((topic) => ({ topic, partitions: (byTopic.get(topic) ?? []).sort((a, b) => a.partition - b.partition) }));
  }

  /** Sets a group's committed offsets; the group must have no active members (kafkajs). */
  async setOffsets({ groupId, topic, partitions }: { groupId: string; topic: string; partitions: { partition: number; offset: string | number }[] }): Promise<void> {
    await commitOffsets(this.cluster, { groupId, generationId: -1, memberId: '', groupInstanceId: null }, partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })));
  }

  /**
   * Resets a group's offsets of `topic` to the earliest or the latest offsets (kafkajs), or, with
   * `timestamp` (ms), to the first offset at or after that time in each partition (the end of a
   * partition with nothing that late), as `kafka-consumer-groups --reset-offsets --to-datetime`.
   */
  async resetOffsets({ groupId, topic, earliest = false, timestamp }: { groupId: string; topic: string; earliest?: boolean; timestamp?: number }): Promise<void> {
    if (timestamp !== undefined) {
      await this.setOffsets({ groupId, topic, partitions: await this.fetchTopicOffsetsByTimestamp(topic, timestamp) });
      return;
    }
    const info = await this.cluster.topicInfo(topic);
    const offsets = await listOffsets(this.cluster, info.partitions.map((p) => ({ topic, partition: p.partitionId, timestamp: earliest ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP })));
    await this.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) });
  }

  /** Earliest (low), latest (high) and current offset per partition, kafkajs's fetchTopicOffsets. */
  async fetchTopicOffsets(topic: string) {
    const info = await this.cluster.topicInfo(topic);
    const partitions = info.partitions.map((p) => p.partitionId);
    const [low, high] = await Promise.all([EARLIEST_TIMESTAMP, LATEST_TIMESTAMP].map((timestamp) => listOffsets(this.cluster, partitions.map((partition) => ({ topic, partition, timestamp })))));
    return partitions.map((partition) => {
      const l = low.find((o) => o.partition === partition)!.offset;
      const h = high.find((o) => o.partition === partition)!.offset;
      return { partition, offset: String(h), high: String(h), low: String(l) };
    });
  }

  /** The first offset at or after `timestamp` per partition (the end offset when none is). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number) {
    const info = await this.cluster.topicInfo(topic);
    const ts = timestamp ?? LATEST_TIMESTAMP;
    const found = await listOffsets(this.cluster, info.partitions.map((p) => ({ topic, partition: p.partitionId, timestamp: ts })));
    const missing = found.filter((o) => o.offset < 0);
    const ends = missing.length === 0 ? [] : await listOffsets(this.cluster, missing.map((o) => ({ topic, partition: o.partition, timestamp: LATEST_TIMESTAMP })));
    return found
      .map((o) => ({ partition: o.partition, offset: String(o.offset >= 0 ? o.offset : ends.find((e) => e.partition === o.partition)!.offset) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** kafkajs's deleteTopicRecords: deletes records before each partition's `offset` (-1: up to the high watermark). */
  async deleteTopicRecords({ topic, partitions }: { topic: string; partitions: { partition: number; offset: string | number }[] }): Promise<void> {
    await this.deleteRecords({ topic, partitions });
  }

  /** Deletes records before `offset` per partition (-1: up to the high watermark); resolves to the new low watermarks. */
  async deleteRecords({ topic, partitions }: { topic: string; partitions: { partition: number; offset: string | number }[] }) {
    await this.cluster.topicInfo(topic);
    const byNode = new Map<number, Body[]>();
    for (const p of partitions) {
      const leader = this.cluster.leaderFor(topic, p.partition);
      byNode.set(leader, [...(byNode.get(leader) ?? []), { partitionIndex: p.partition, offset: Number(p.offset) }]);
    }
    const results: { partition: number; lowWatermark: string }[] = [];
    for (const [nodeId, list] of byNode) {
      const response = await this.cluster.request(Api.DeleteRecords, { topics: [{ name: topic, partitions: list }], timeoutMs: 5000 }, { nodeId });
      for (const t of response.topics) {
        for (const p of t.partitions) {
          throwIfError(p.errorCode, `${topic}-${p.partitionIndex}`);
          results.push({ partition: p.partitionIndex, lowWatermark: String(p.lowWatermark) });
        }
      }
    }
    return results;
  }
}

function decodedMember(m: Body) {
  try {
    return { subscription: m.memberMetadata?.length ? decodeSubscription(m.memberMetadata) : null, assignment: decodeAssignment(m.memberAssignment) };
  } catch (error) {
    if (error instanceof KafkaClientError) return { subscription: null, assignment: null };
    throw error;
  }
}
