/**
 * Offset look-ups shared by the consumer and the admin: ListOffsets (earliest, latest, by
 * timestamp) routed to each partition's leader, and OffsetFetch / OffsetCommit against a group's
 * coordinator. Bodies carry the fields of the newest versions and of the pre-v8 OffsetFetch shape,
 * so whichever version the transport negotiated finds its fields.
 */
import { errorInfo } from '@gregor/protocol';
import { Api } from './api.js';
import type { Cluster } from './cluster.js';
import { KafkaProtocolError, throwIfError } from './errors.js';
import type { Body } from './transport.js';

export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
}

/** ListOffsets for each (topic, partition) at `timestamp` (-2 earliest, -1 latest, else ms). */
export async function listOffsets(cluster: Cluster, requests: { topic: string; partition: number; timestamp: number }[], isolationLevel = 0): Promise<PartitionOffset[]> {
  const byNode = new Map<number, Map<string, Body[]>>();
  for (const { topic, partition, timestamp } of requests) {
    await cluster.topicInfo(topic);
    const leader = cluster.leaderFor(topic, partition);
    let topics = byNode.get(leader);
    if (topics === undefined) byNode.set(leader, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push({ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 });
  }
  const results: PartitionOffset[] = [];
  await Promise.all(
    [...byNode].map(async ([nodeId, topics]) => {
      const response = await cluster.request(
        Api.ListOffsets,
        { replicaId: -1, isolationLevel, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) },
        { nodeId },
      );
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          if (p.errorCode !== 0 && errorInfo(p.errorCode).retriable) {
            // NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, OFFSET_NOT_AVAILABLE...: the leader
            // moved or is new. Learn where it is now, so the caller's retry asks the right broker.
            await cluster.refreshMetadata([topic.name]).catch(() => {});
          }
          throwIfError(p.errorCode, `${topic.name}-${p.partitionIndex}`);
          results.push({ topic: topic.name, partition: p.partitionIndex, offset: p.offset, timestamp: p.timestamp });
        }
      }
    }),
  );
  return results;
}

/** Committed offsets of `groupId` for the given partitions (-1 where none is committed). */
export async function fetchCommittedOffsets(cluster: Cluster, groupId: string, topics: { topic: string; partitions: number[] }[] | null): Promise<PartitionOffset[]> {
  const topicList = topics === null ? null : topics.map(({ topic, partitions }) => ({ name: topic, partitionIndexes: partitions }));
  const response = await cluster.coordinatorRequest(groupId, Api.OffsetFetch, {
    groupId,
    topics: topicList,
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: topicList }],
    requireStable: false,
  });
  const group = Array.isArray(response.groups) && response.groups.length > 0 ? response.groups[0] : response;
  throwIfError(group.errorCode);
  const results: PartitionOffset[] = [];
  for (const topic of group.topics ?? []) {
    for (const p of topic.partitions) {
      throwIfError(p.errorCode, `${topic.name}-${p.partitionIndex}`);
      results.push({ topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset });
    }
  }
  return results;
}

export interface CommitContext {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** OffsetCommit; the first per-partition error is thrown as a KafkaProtocolError. */
export async function commitOffsets(cluster: Cluster, context: CommitContext, offsets: PartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, Body[]>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = []));
    partitions.push({ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null });
  }
  const response = await cluster.coordinatorRequest(context.groupId, Api.OffsetCommit, {
    groupId: context.groupId,
    generationIdOrMemberEpoch: context.generationId,
    memberId: context.memberId,
    groupInstanceId: context.groupInstanceId,
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  });
  for (const topic of response.topics) {
    for (const p of topic.partitions) {
      if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, `commit ${topic.name}-${p.partitionIndex}`);
    }
  }
}
