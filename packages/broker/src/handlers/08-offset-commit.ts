/**
 * OffsetCommit (API key 8), versions 0-9.
 * Validates the commit against the group as Kafka's doCommitOffsets (ILLEGAL_GENERATION for a stale
 * generation, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS while completing a rebalance,
 * FENCED_INSTANCE_ID; a generation of -1 commits for a group not using group management), then
 * appends the offsets as OffsetCommitKey/Value records to the group's `__consumer_offsets`
 * partition before acknowledging. Per partition: UNKNOWN_TOPIC_OR_PARTITION,
 * OFFSET_METADATA_TOO_LARGE. Deviations: retentionTimeMs (v2-4) is ignored (offsets expire with
 * compaction only); throttleTimeMs is 0.
 * Authorization: Read on the group, else GROUP_AUTHORIZATION_FAILED for every partition; Read on
 * each topic, else TOPIC_AUTHORIZATION_FAILED for its partitions.
 */
import { AclOperation, ErrorCode, type OffsetCommitRequest, type OffsetCommitResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { OffsetCommit } from '../group/coordinator.js';
import type { Entry } from './types.js';

type TopicAnswer = Entry<OffsetCommitResponseInput['topics']>;

export async function handleOffsetCommit(broker: Broker, apiVersion: number, body: OffsetCommitRequest, context: RequestContext = {}): Promise<OffsetCommitResponseInput> {
  // Kafka: Read on the group (else every partition GROUP_AUTHORIZATION_FAILED), then Read on each topic.
  if (!isAuthorized(broker, context, AclOperation.READ, ResourceType.GROUP, body.groupId)) return answerAll(body, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const refusedTopics = new Set<string>((body.topics ?? []).map((topic) => topic.name).filter((name) => !isAuthorized(broker, context, AclOperation.READ, ResourceType.TOPIC, name)));
  await ensureGroupCoordination(broker);
  const generationId = apiVersion === 0 ? -1 : (body.generationIdOrMemberEpoch ?? -1);
  const now = broker.clock.now();
  const commits: OffsetCommit[] = [];
  for (const topic of body.topics ?? []) {
    if (refusedTopics.has(topic.name)) continue;
    for (const partition of topic.partitions ?? []) {
      commits.push({
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: partition.committedOffset,
        leaderEpoch: partition.committedLeaderEpoch ?? -1,
        metadata: partition.committedMetadata ?? '',
        commitTimestamp: apiVersion === 1 && partition.commitTimestamp >= 0 ? partition.commitTimestamp : now,
      });
    }
  }
  const errors = await broker.coordinator.commitOffsets(body.groupId, body.memberId ?? '', body.groupInstanceId ?? null, generationId, commits);
  let index = 0;
  const topics = (body.topics ?? []).map((topic): TopicAnswer => ({
    name: topic.name,
    partitions: (topic.partitions ?? []).map((partition): Entry<TopicAnswer['partitions']> => ({
      partitionIndex: partition.partitionIndex,
      errorCode: refusedTopics.has(topic.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : (errors[index++] ?? ErrorCode.UNKNOWN_SERVER_ERROR),
    })),
  }));
  return { throttleTimeMs: 0, topics };
}

function answerAll(body: OffsetCommitRequest, errorCode: number): OffsetCommitResponseInput {
  return {
    throttleTimeMs: 0,
    topics: (body.topics ?? []).map((topic): TopicAnswer => ({ name: topic.name, partitions: (topic.partitions ?? []).map((partition): Entry<TopicAnswer['partitions']> => ({ partitionIndex: partition.partitionIndex, errorCode })) })),
  };
}
