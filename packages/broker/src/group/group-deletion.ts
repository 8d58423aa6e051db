/**
 * The rules Kafka applies before a group or some of its committed offsets are deleted
 * (DeleteGroups, OffsetDelete / KIP-496): which error a request gets for the group's state, and
 * which topics a group still consumes. Pure functions over a Group; the GroupCoordinator applies
 * the outcome (tombstones first, then memory).
 */
import { ErrorCode, decodeConsumerProtocolSubscription } from '@gregor/protocol';
import type { Group } from './group.js';

/** Kafka's ClassicGroup.validateDeleteGroup: only a group without members may be deleted. */
export function deleteGroupError(groupId: string, group: Group | undefined): number {
  if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
  if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
  if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
  return ErrorCode.NONE;
}

/**
 * Kafka's ClassicGroup.validateOffsetDelete: a group with members may lose offsets only if it
 * uses the consumer protocol (its subscriptions say which topics are in use).
 */
export function deleteOffsetsGroupError(group: Group | undefined): number {
  if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
  if (!group.is('Empty') && group.protocolType !== 'consumer') return ErrorCode.NON_EMPTY_GROUP;
  return ErrorCode.NONE;
}

/**
 * Kafka's isSubscribedToTopic: the topics in the members' consumer-protocol subscriptions. A group
 * whose subscriptions cannot be read (no protocol chosen yet, or bytes that are not a consumer
 * subscription) counts as subscribed to everything when it uses the consumer protocol, as Kafka.
 */
export function isSubscribedToTopic(group: Group, topic: string): boolean {
  if (group.members.size === 0) return false;
  const topics = subscribedTopics(group);
  return topics === null ? group.protocolType === 'consumer' : topics.has(topic);
}

function subscribedTopics(group: Group): Set<string> | null {
  if (group.protocolType !== 'consumer' || group.protocolName === null) return null;
  const topics = new Set<string>();
  for (const member of group.members.values()) {
    try {
      for (const topic of decodeConsumerProtocolSubscription(group.metadataFor(member, group.protocolName)).subscription.topics) topics.add(topic);
    } catch {
      return null;
    }
  }
  return topics;
}
