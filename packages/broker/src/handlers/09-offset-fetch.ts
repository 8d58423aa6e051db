/**
 * OffsetFetch (API key 9), versions 1-9 (v8+ batches several groups).
 * Answers each group's committed offsets: the partitions asked for (offset -1 and empty metadata
 * where nothing is committed), or every committed partition when topics is null (v2+).
 * Deviations: requireStable (v7+) is accepted; without transactions there are no pending offsets.
 * memberId / memberEpoch (v9, the new consumer protocol) are not checked; throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleOffsetFetch(broker: Broker, apiVersion: number, body: Body): Body {
  if (apiVersion >= 8) {
    const groups = (body.groups ?? []).map((group: Body) => ({ groupId: group.groupId, topics: fetchGroup(broker, group.groupId, group.topics ?? null), errorCode: ErrorCode.NONE }));
    return { throttleTimeMs: 0, groups };
  }
  return { throttleTimeMs: 0, topics: fetchGroup(broker, body.groupId, body.topics ?? null), errorCode: ErrorCode.NONE };
}

function fetchGroup(broker: Broker, groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): Body[] {
  const offsets = broker.coordinator.fetchOffsets(groupId, topics);
  return [...offsets].map(([name, partitions]) => ({
    name,
    partitions: [...partitions].map(([partitionIndex, committed]) => ({
      partitionIndex,
      committedOffset: committed?.offset ?? -1,
      committedLeaderEpoch: committed?.leaderEpoch ?? -1,
      metadata: committed?.metadata ?? '',
      errorCode: ErrorCode.NONE,
    })),
  }));
}
