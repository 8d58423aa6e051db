/**
 * OffsetFetch (API key 9), versions 1-9 (v8+ batches several groups).
 * Answers each group's committed offsets: the partitions asked for (offset -1 and empty metadata
 * where nothing is committed), or every committed partition when topics is null (v2+).
 * Deviations: requireStable (v7+) is accepted; without transactions there are no pending offsets.
 * memberId / memberEpoch (v9, the new consumer protocol) are not checked; throttleTimeMs is 0.
 * A group this broker does not coordinate (its `__consumer_offsets` partition is led elsewhere) is
 * NOT_COORDINATOR: the group's error (v8+), the top-level error (v2-7), each partition's (v1).
 * Authorization: Describe on the group, else GROUP_AUTHORIZATION_FAILED; Describe on each topic,
 * else TOPIC_AUTHORIZATION_FAILED (asked by name) or left out (all topics).
 */
import { AclOperation, ErrorCode, type OffsetFetchRequest, type OffsetFetchResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { Entry } from './types.js';

type TopicAnswer = Entry<OffsetFetchResponseInput['topics']>;

export async function handleOffsetFetch(broker: Broker, apiVersion: number, body: OffsetFetchRequest, context: RequestContext = {}): Promise<OffsetFetchResponseInput> {
  await ensureGroupCoordination(broker);
  const groupStatus = (groupId: string) => isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.GROUP, groupId) ? broker.coordinator.groupStatus(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED;
  const mayDescribeTopic = (name: string) => isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
  if (apiVersion >= 8) {
    const groups = (body.groups ?? []).map((group): Entry<OffsetFetchResponseInput['groups']> => {
      const errorCode = groupStatus(group.groupId);
      return { groupId: group.groupId, topics: errorCode === ErrorCode.NONE ? fetchGroup(broker, group.groupId, group.topics ?? null, mayDescribeTopic) : [], errorCode };
    });
    return { throttleTimeMs: 0, groups };
  }
  const errorCode = groupStatus(body.groupId);
  if (errorCode === ErrorCode.NONE) return { throttleTimeMs: 0, topics: fetchGroup(broker, body.groupId, body.topics ?? null, mayDescribeTopic), errorCode };
  // v1 has no top-level error: each partition asked for carries it.
  const topics = apiVersion >= 2 ? [] : (body.topics ?? []).map((topic): TopicAnswer => ({
    name: topic.name,
    partitions: (topic.partitionIndexes ?? []).map((partitionIndex): Entry<TopicAnswer['partitions']> => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode })),
  }));
  return { throttleTimeMs: 0, topics, errorCode };
}

/** A group's committed offsets; topics the caller may not Describe are left out of a listing and refused by name. */
function fetchGroup(broker: Broker, groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null, mayDescribeTopic: (name: string) => boolean): TopicAnswer[] {
  const offsets = broker.coordinator.fetchOffsets(groupId, topics);
  return [...offsets].filter(([name]) => topics !== null || mayDescribeTopic(name)).map(([name, partitions]): TopicAnswer => ({
    name,
    partitions: [...partitions].map(([partitionIndex, committed]): Entry<TopicAnswer['partitions']> => ({
      partitionIndex,
      committedOffset: committed?.offset ?? -1,
      committedLeaderEpoch: committed?.leaderEpoch ?? -1,
      metadata: committed?.metadata ?? '',
      errorCode: mayDescribeTopic(name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    })),
  }));
}
