/**
 * Partition reassignment (KIP-455; the reassignment half of Kafka's ReplicationControlManager):
 * AlterPartitionReassignments starts, replaces or cancels the move of a partition to a target
 * replica list, and ListPartitionReassignments lists the moves in progress.
 *
 * A move from replicas R to target T writes one PartitionChangeRecord: replicas T followed by
 * R - T (the removing replicas), adding T - R, removing R - T (Kafka's
 * PartitionReassignmentReplicas). The adding replicas start as followers outside the ISR; the
 * leader adds each to the ISR with AlterPartition once it caught up, and the change that makes the
 * last one a member completes the move (partition-change.ts): the removing replicas are dropped,
 * and a leader being removed hands over to the first target replica in the ISR. A move that only
 * removes replicas completes at once. Cancelling (null replicas) goes back to R (Kafka's
 * PartitionReassignmentRevert): the adding replicas are dropped and leave the ISR. A new target
 * while a move is in progress replaces it, computed from the replicas the partition had before
 * that move (docs/decisions.md). Every
 * function reads a ControlContext and returns records; nothing here keeps state.
 */
import { ErrorCode } from '@gregor/protocol';
import type {
  AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
} from '@gregor/protocol';
import type { PartitionRegistration, TopicImage } from '../image.js';
import type { MetadataRecordInput } from '../records.js';
import { type ControlContext, type ControllerResult, elrSettings, isActiveBroker, isUncleanLeaderElectionEnabled } from './context.js';
import { apiErrorOf, ControllerError } from './errors.js';
import { buildPartitionChange, type PartitionChange } from './partition-change.js';
import { validateManualAssignment } from './topic-control.js';

type AlterTopicResponse = AlterPartitionReassignmentsResponse['responses'][number];
type ListTopicResponse = ListPartitionReassignmentsResponse['topics'][number];

export function isReassigning(registration: PartitionRegistration): boolean {
  return registration.addingReplicas.length > 0 || registration.removingReplicas.length > 0;
}

/** AlterPartitionReassignments: one change record per partition that moves; errors per partition. */
export function alterPartitionReassignments(
  context: ControlContext,
  version: number,
  request: AlterPartitionReassignmentsRequest,
): ControllerResult<AlterPartitionReassignmentsResponse> {
  const records: MetadataRecordInput[] = [];
  const responses: AlterTopicResponse[] = [];
  const allowReplicationFactorChange = version < 1 || request.allowReplicationFactorChange;
  for (const topicRequest of request.topics) {
    const topic = context.image.topic(topicRequest.name);
    const partitions: AlterTopicResponse['partitions'] = [];
    responses.push({ name: topicRequest.name, partitions });
    for (const partitionRequest of topicRequest.partitions) {
      try {
        const change = reassignPartition(context, topic, topicRequest.name, partitionRequest.partitionIndex, partitionRequest.replicas, allowReplicationFactorChange);
        if (change !== null) records.push(change);
        partitions.push({ partitionIndex: partitionRequest.partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (error) {
        const { errorCode, message } = apiErrorOf(error);
        partitions.push({ partitionIndex: partitionRequest.partitionIndex, errorCode, errorMessage: message });
      }
    }
  }
  return { records, response: { throttleTimeMs: 0, allowReplicationFactorChange, errorCode: ErrorCode.NONE, errorMessage: null, responses } };
}

function reassignPartition(
  context: ControlContext,
  topic: TopicImage | undefined,
  topicName: string,
  partitionId: number,
  target: readonly number[] | null,
  allowReplicationFactorChange: boolean,
): PartitionChange | null {
  const current = topic?.partitions.get(partitionId);
  if (topic === undefined || current === undefined) throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `Unable to find partition ${topicName}:${partitionId}.`);
  const { image } = context;
  const common = {
    topicId: topic.id,
    partitionId,
    current,
    isAcceptableLeader: (id: number) => isActiveBroker(image, id),
    election: isUncleanLeaderElectionEnabled(image, context.config, topic.name) ? ('unclean' as const) : ('online' as const),
    elr: elrSettings(image, context.config, topic.name, current),
  };
  if (target === null) {
    if (!isReassigning(current)) throw new ControllerError('NO_REASSIGNMENT_IN_PROGRESS', `No reassignment is in progress for partition ${topicName}:${partitionId}.`);
    const original = current.replicas.filter((id) => !current.addingReplicas.includes(id));
    const isr = current.isr.filter((id) => original.includes(id));
    // No original replica left in the ISR: as Kafka's revert, the original replicas are the ISR and the election is unclean.
    return buildPartitionChange({
      ...common, targetReplicas: original, targetAdding: [], targetRemoving: [], targetIsr: isr.length > 0 ? isr : original,
      election: isr.length > 0 ? common.election : 'unclean',
    });
  }
  validateManualAssignment(image, target, undefined);
  const replicationFactor = current.replicas.length - current.removingReplicas.length;
  if (!allowReplicationFactorChange && target.length !== replicationFactor) {
    throw new ControllerError('INVALID_REPLICATION_FACTOR', `The replication factor of partition ${topicName}:${partitionId} would change from ${replicationFactor} to ${target.length}, and allowReplicationFactorChange is false.`);
  }
  // From the replicas before any move in progress: a replica that was being added and is still
  // wanted is still waited for, and one no longer wanted leaves at once (it never held the log).
  const original = current.replicas.filter((id) => !current.addingReplicas.includes(id));
  const removing = original.filter((id) => !target.includes(id));
  const adding = target.filter((id) => !original.includes(id));
  const replicas = [...target, ...removing];
  const isr = current.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0) throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', `No in-sync replica of partition ${topicName}:${partitionId} would be left.`);
  return buildPartitionChange({ ...common, targetReplicas: replicas, targetAdding: adding, targetRemoving: removing, targetIsr: isr });
}

/** ListPartitionReassignments: the partitions with a move in progress (all, or among those named). */
export function listPartitionReassignments(context: ControlContext, request: ListPartitionReassignmentsRequest): ControllerResult<ListPartitionReassignmentsResponse> {
  const topics: ListTopicResponse[] = [];
  const describe = (topic: TopicImage, partitionIds: Iterable<number>) => {
    const partitions: ListTopicResponse['partitions'] = [];
    for (const partitionId of partitionIds) {
      const registration = topic.partitions.get(partitionId);
      if (registration === undefined || !isReassigning(registration)) continue;
      partitions.push({
        partitionIndex: partitionId, replicas: [...registration.replicas], addingReplicas: [...registration.addingReplicas], removingReplicas: [...registration.removingReplicas],
      });
    }
    if (partitions.length > 0) topics.push({ name: topic.name, partitions });
  };
  if (request.topics === null) {
    for (const topic of context.image.topicsById.values()) describe(topic, [...topic.partitions.keys()].sort((a, b) => a - b));
  } else {
    for (const named of request.topics) {
      // Unknown topics and partitions are left out, as Kafka does.
      const topic = context.image.topic(named.name);
      if (topic !== undefined) describe(topic, named.partitionIndexes);
    }
  }
  return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics } };
}
