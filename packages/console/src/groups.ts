/**
 * Consumer groups as the group coordinators report them: ListGroups (each broker lists the groups
 * it coordinates), DescribeGroups (state, members, their assignments decoded from the consumer
 * protocol), OffsetFetch (committed offsets) and, for lag, the partitions' high watermarks from
 * their leaders. Lag is `high watermark − committed offset` per partition, as kafka-consumer-groups
 * and kafka-exporter compute it; a partition with no committed offset has no lag (null) and counts
 * 0 in the total.
 */
import { coordinatorBrokerId } from '@gregor/client';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { type ClusterReader, errorName, partitionKey, type TopicMetadata } from './cluster-reader.js';
import { ConsoleError } from './errors.js';

export interface GroupSummary {
  groupId: string;
  state: string;
  protocolType: string;
  coordinator: number;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  committedOffset: number | null;
  highWatermark: number | null;
  lag: number | null;
  memberId: string | null;
  clientId: string | null;
}

export interface GroupDetail {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  coordinator: number;
  members: GroupMember[];
  partitions: GroupPartitionLag[];
  /** Sum of the partitions' lag. */
  lag: number;
}

/** Every group of every broker (ListGroups goes to each broker: each lists the groups it coordinates). */
export async function listGroups(reader: ClusterReader, brokers: readonly number[]): Promise<GroupSummary[]> {
  const lists = await Promise.all(
    brokers.map(async (nodeId) => {
      const response = await reader.cluster.request(ApiKey.ListGroups, { statesFilter: [] }, { nodeId });
      if (response.errorCode !== ErrorCode.NONE) return [];
      return response.groups.map((g: { groupId: string; protocolType: string; groupState?: string }) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? 'Unknown', coordinator: nodeId }));
    }),
  );
  return lists.flat().sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export async function describeGroup(reader: ClusterReader, groupId: string, topics: readonly TopicMetadata[]): Promise<GroupDetail> {
  const described = (await reader.admin.describeGroups([groupId])).groups[0];
  if (described === undefined || described.errorCode !== ErrorCode.NONE) throw new ConsoleError('GROUP_ID_NOT_FOUND', `group '${groupId}' is not known`, 404);
  if (described.state === 'Dead') throw new ConsoleError('GROUP_ID_NOT_FOUND', `group '${groupId}' does not exist`, 404);
  // coordinatorFor answers the id of the coordinator's own connection; users see the broker's id.
  const coordinator = coordinatorBrokerId(await reader.cluster.coordinatorFor(groupId));
  const members: GroupMember[] = described.members.map((m: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; assignment?: { assignedPartitions: { topic: string; partitions: number[] }[] } | null }) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId ?? null,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assignment: (m.assignment?.assignedPartitions ?? []).map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) })),
  }));
  const committed = await committedOffsets(reader, groupId);
  const owner = new Map<string, GroupMember>();
  for (const member of members) for (const a of member.assignment) for (const p of a.partitions) owner.set(partitionKey(a.topic, p), member);
  const keys = new Set([...committed.keys(), ...owner.keys()]);
  const involved = topics.filter((t) => t.partitions.some((p) => keys.has(partitionKey(t.name, p.partition))));
  const ends = await reader.offsets(involved.map((t) => ({ ...t, partitions: t.partitions.filter((p) => keys.has(partitionKey(t.name, p.partition))) })));
  const partitions: GroupPartitionLag[] = [];
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    const topic = key.slice(0, slash);
    const partition = Number(key.slice(slash + 1));
    const offset = committed.get(key) ?? null;
    const hw = ends.get(key)?.highWatermark ?? null;
    const member = owner.get(key) ?? null;
    partitions.push({ topic, partition, committedOffset: offset, highWatermark: hw, lag: offset === null || hw === null ? null : Math.max(0, hw - offset), memberId: member?.memberId ?? null, clientId: member?.clientId ?? null });
  }
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return {
    groupId,
    state: described.state,
    protocolType: described.protocolType,
    protocol: described.protocol ?? '',
    coordinator,
    members,
    partitions,
    lag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
  };
}

/** The group's committed offsets (OffsetFetch of all its partitions); -1 (none) is left out. */
async function committedOffsets(reader: ClusterReader, groupId: string): Promise<Map<string, number>> {
  const response = await reader.cluster.coordinatorRequest(groupId, ApiKey.OffsetFetch, {
    groupId,
    topics: null,
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
    requireStable: false,
  });
  const group = Array.isArray(response.groups) && response.groups.length > 0 ? response.groups[0] : response;
  if (group.errorCode !== ErrorCode.NONE) throw new ConsoleError(errorName(group.errorCode), `OffsetFetch of group '${groupId}' failed: ${errorName(group.errorCode)}`, 503);
  const result = new Map<string, number>();
  for (const topic of group.topics ?? []) {
    for (const p of topic.partitions) if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0) result.set(partitionKey(topic.name, p.partitionIndex), p.committedOffset);
  }
  return result;
}
