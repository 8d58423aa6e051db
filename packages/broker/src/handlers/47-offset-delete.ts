/**
 * OffsetDelete (API key 47), version 0 (KIP-496).
 * Deletes a group's committed offsets of the named partitions (tombstones in `__consumer_offsets`)
 * unless a member is subscribed to the topic: GROUP_SUBSCRIBED_TO_TOPIC for that topic's
 * partitions. Group-level errors: GROUP_ID_NOT_FOUND (unknown or Dead), NON_EMPTY_GROUP (members
 * that do not use the consumer protocol), COORDINATOR_NOT_AVAILABLE (tombstones not written),
 * NOT_COORDINATOR (the group's `__consumer_offsets` partition is led by another broker).
 * A partition without a committed offset, or of a topic that does not exist, succeeds (as Kafka).
 * Deviations: throttleTimeMs is 0.
 * Authorization: Delete on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type OffsetDeleteRequest, type OffsetDeleteResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';

export async function handleOffsetDelete(broker: Broker, _apiVersion: number, request: OffsetDeleteRequest, context: RequestContext = {}): Promise<OffsetDeleteResponseInput> {
  if (!isAuthorized(broker, context, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  await ensureGroupCoordination(broker);
  const topics = request.topics.map((topic) => ({ name: topic.name, partitionIndexes: topic.partitions.map((partition) => partition.partitionIndex) }));
  return { throttleTimeMs: 0, ...(await broker.coordinator.deleteOffsets(request.groupId, topics)) };
}
