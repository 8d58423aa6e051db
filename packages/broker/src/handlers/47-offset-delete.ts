/**
 * OffsetDelete (API key 47), version 0 (KIP-496).
 * Deletes a group's committed offsets of the named partitions (tombstones in `__consumer_offsets`)
 * unless a member is subscribed to the topic: GROUP_SUBSCRIBED_TO_TOPIC for that topic's
 * partitions. Group-level errors: GROUP_ID_NOT_FOUND (unknown or Dead), NON_EMPTY_GROUP (members
 * that do not use the consumer protocol), COORDINATOR_NOT_AVAILABLE (tombstones not written).
 * A partition without a committed offset, or of a topic that does not exist, succeeds (as Kafka).
 * Deviations: this broker coordinates every group, so NOT_COORDINATOR never occurs; throttleTimeMs is 0.
 */
import type { OffsetDeleteRequest, OffsetDeleteResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleOffsetDelete(broker: Broker, _apiVersion: number, body: Body): OffsetDeleteResponseInput {
  const request = body as OffsetDeleteRequest;
  const topics = request.topics.map((topic) => ({ name: topic.name, partitionIndexes: topic.partitions.map((partition) => partition.partitionIndex) }));
  return { throttleTimeMs: 0, ...broker.coordinator.deleteOffsets(request.groupId, topics) };
}
