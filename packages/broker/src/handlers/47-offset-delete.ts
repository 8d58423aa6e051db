/**
 * OffsetDelete (API key 47), version 0 (KIP-496).
 * Deletes a group's committed offsets of the named partitions (tombstones in `__consumer_offsets`)
 * unless a member is subscribed to the topic: GROUP_SUBSCRIBED_TO_TOPIC for that topic's
 * partitions. Group-level errors: GROUP_ID_NOT_FOUND (unknown or Dead), NON_EMPTY_GROUP (members
 * that do not use the consumer protocol), COORDINATOR_NOT_AVAILABLE (tombstones not written),
 * NOT_COORDINATOR (the group's `__consumer_offsets` partition is led by another broker).
 * A partition without a committed offset, or of a topic that does not exist, succeeds (as Kafka).
 * Deviations: throttleTimeMs is 0.
 */
import type { OffsetDeleteRequest, OffsetDeleteResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';

export async function handleOffsetDelete(broker: Broker, _apiVersion: number, body: Body): Promise<OffsetDeleteResponseInput> {
  await ensureGroupCoordination(broker);
  const request = body as OffsetDeleteRequest;
  const topics = request.topics.map((topic) => ({ name: topic.name, partitionIndexes: topic.partitions.map((partition) => partition.partitionIndex) }));
  return { throttleTimeMs: 0, ...broker.coordinator.deleteOffsets(request.groupId, topics) };
}
