/**
 * Kafka's checks of manual replica assignments (CreateTopics' assignments, CreatePartitions'
 * assignments; ReplicationControlManager): every replica list names registered brokers, each at
 * most once, all lists have the same length, and CreateTopics' partitions are 0..n-1 with
 * numPartitions and replicationFactor left at -1. Errors are Kafka's codes and messages. Pure.
 */
import { ErrorCode } from '@gregor/protocol';

export interface AssignmentProblem {
  errorCode: number;
  errorMessage: string;
}

/** Kafka's validateManualPartitionAssignment; `replicationFactor` is that of the partitions before, when known. */
export function manualAssignmentProblem(replicas: readonly number[], registered: ReadonlySet<number>, replicationFactor?: number): string | null {
  if (replicas.length === 0) return 'The manual partition assignment includes an empty replica list.';
  const sorted = [...replicas].sort((a, b) => a - b);
  for (let index = 0; index < sorted.length; index++) {
    const brokerId = sorted[index] as number;
    if (!registered.has(brokerId)) return `The manual partition assignment includes broker ${brokerId}, but no such broker is registered.`;
    if (index > 0 && sorted[index - 1] === brokerId) return `The manual partition assignment includes the broker ${brokerId} more than once.`;
  }
  if (replicationFactor !== undefined && sorted.length !== replicationFactor) {
    return `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`;
  }
  return null;
}

/**
 * CreateTopics with assignments: returns the partition count and replication factor they define,
 * or Kafka's error.
 */
export function checkCreateAssignments(
  assignments: readonly { partitionIndex: number; brokerIds: readonly number[] }[], numPartitions: number, replicationFactor: number, registered: ReadonlySet<number>,
): { numPartitions: number; replicationFactor: number } | AssignmentProblem {
  if (replicationFactor !== -1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'A manual partition assignment was specified, but replication factor was not set to -1.' };
  if (numPartitions !== -1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'A manual partition assignment was specified, but numPartitions was not set to -1.' };
  const seen = new Set<number>();
  let factor: number | undefined;
  for (const assignment of assignments) {
    if (seen.has(assignment.partitionIndex)) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `Found multiple manual partition assignments for partition ${assignment.partitionIndex}` };
    const problem = manualAssignmentProblem(assignment.brokerIds, registered, factor);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
    factor = assignment.brokerIds.length;
    seen.add(assignment.partitionIndex);
  }
  for (let index = 0; index < seen.size; index++) {
    if (!seen.has(index)) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'partitions should be a consecutive 0-based integer sequence' };
  }
  return { numPartitions: seen.size, replicationFactor: factor ?? 0 };
}

/** CreatePartitions with assignments: one replica list per added partition, each valid for the topic's replication factor. */
export function checkAddedAssignments(assignments: readonly (readonly number[])[], additional: number, replicationFactor: number, registered: ReadonlySet<number>): AssignmentProblem | null {
  if (assignments.length !== additional) {
    return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.` };
  }
  for (const replicas of assignments) {
    const problem = manualAssignmentProblem(replicas, registered, replicationFactor);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
  }
  return null;
}
