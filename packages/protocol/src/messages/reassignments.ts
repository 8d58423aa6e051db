/**
 * Descriptions of the partition reassignment APIs (KIP-455): AlterPartitionReassignments starts,
 * replaces or cancels (null replicas) the move of partitions to a target replica list, and
 * ListPartitionReassignments lists the moves in progress with each partition's replicas, the ones
 * being added and the ones being removed. v1 of AlterPartitionReassignments adds
 * AllowReplicationFactorChange (KIP-860). Transcribed from apache/kafka's message JSON; every
 * version Kafka defines is described.
 */
import { api, f, s } from '../spec.js';

export const AlterPartitionReassignments = api('AlterPartitionReassignments', 45, {
  versions: '0-1',
  flexibleFrom: 0,
  request: [
    f('timeoutMs', 'int32', '0+', { default: 60000 }),
    f('allowReplicationFactorChange', 'bool', '1+', { default: true }),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        // null: cancel the reassignment in progress.
        f('replicas', '[]int32', '0+', { nullable: '0+', default: null }),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('allowReplicationFactorChange', 'bool', '1+', { default: true }),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+' }),
    s('responses', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
});

export const ListPartitionReassignments = api('ListPartitionReassignments', 46, {
  versions: '0',
  flexibleFrom: 0,
  request: [
    f('timeoutMs', 'int32', '0+', { default: 60000 }),
    // null: every reassignment in progress.
    s('topics', '0+', [f('name', 'string', '0+'), f('partitionIndexes', '[]int32', '0+')], { nullable: '0+', default: null }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+' }),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('replicas', '[]int32', '0+'),
        f('addingReplicas', '[]int32', '0+'),
        f('removingReplicas', '[]int32', '0+'),
      ]),
    ]),
  ],
});
