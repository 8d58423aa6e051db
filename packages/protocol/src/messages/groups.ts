/**
 * Descriptions of the group-coordinator APIs (classic protocol): FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, and
 * InitProducerId. Transcribed from apache/kafka's message JSON (Kafka 3.x for versions that
 * Kafka 4 removed); only the versions we serve are described.
 */
import { api, f, s } from '../spec.js';

export const FindCoordinator = api('FindCoordinator', 10, {
  versions: '0-4',
  flexibleFrom: 3,
  request: [
    f('key', 'string', '0-3'),
    f('keyType', 'int8', '1+', { default: 0 }),
    f('coordinatorKeys', '[]string', '4+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0-3'),
    f('errorMessage', 'string', '1-3', { nullable: '1-3' }),
    f('nodeId', 'int32', '0-3'),
    f('host', 'string', '0-3'),
    f('port', 'int32', '0-3'),
    s('coordinators', '4+', [
      f('key', 'string', '4+'),
      f('nodeId', 'int32', '4+'),
      f('host', 'string', '4+'),
      f('port', 'int32', '4+'),
      f('errorCode', 'int16', '4+'),
      f('errorMessage', 'string', '4+', { nullable: '4+' }),
    ]),
  ],
});

export const JoinGroup = api('JoinGroup', 11, {
  versions: '0-9',
  flexibleFrom: 6,
  request: [
    f('groupId', 'string', '0+'),
    f('sessionTimeoutMs', 'int32', '0+'),
    f('rebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
    f('protocolType', 'string', '0+'),
    s('protocols', '0+', [f('name', 'string', '0+'), f('metadata', 'bytes', '0+')]),
    f('reason', 'string', '8+', { nullable: '8+', default: null }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    f('errorCode', 'int16', '0+'),
    f('generationId', 'int32', '0+', { default: -1 }),
    f('protocolType', 'string', '7+', { nullable: '7+', default: null }),
    f('protocolName', 'string', '0+', { nullable: '7+' }),
    f('leader', 'string', '0+'),
    f('skipAssignment', 'bool', '9+', { default: false }),
    f('memberId', 'string', '0+'),
    s('members', '0+', [
      f('memberId', 'string', '0+'),
      f('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
      f('metadata', 'bytes', '0+'),
    ]),
  ],
});

export const SyncGroup = api('SyncGroup', 14, {
  versions: '0-5',
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('generationId', 'int32', '0+'),
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    f('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    f('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    s('assignments', '0+', [f('memberId', 'string', '0+'), f('assignment', 'bytes', '0+')]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    f('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    f('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    f('assignment', 'bytes', '0+'),
  ],
});

export const Heartbeat = api('Heartbeat', 12, {
  versions: '0-4',
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('generationId', 'int32', '0+'),
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  ],
  response: [f('throttleTimeMs', 'int32', '1+'), f('errorCode', 'int16', '0+')],
});

export const LeaveGroup = api('LeaveGroup', 13, {
  versions: '0-5',
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('memberId', 'string', '0-2'),
    s('members', '3+', [
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
      f('reason', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    s('members', '3+', [
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string', '3+', { nullable: '3+' }),
      f('errorCode', 'int16', '3+'),
    ]),
  ],
});

export const OffsetCommit = api('OffsetCommit', 8, {
  versions: '0-9',
  flexibleFrom: 8,
  request: [
    f('groupId', 'string', '0+'),
    // Called GenerationId before Kafka 3.7 (KIP-848 reuses it for the member epoch).
    f('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
    f('memberId', 'string', '1+'),
    f('groupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
    f('retentionTimeMs', 'int64', '2-4', { default: -1 }),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('committedOffset', 'int64', '0+'),
        f('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
        f('commitTimestamp', 'int64', '1', { default: -1 }),
        f('committedMetadata', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    s('topics', '0+', [f('name', 'string', '0+'), s('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')])]),
  ],
});

const offsetFetchPartitionResponse = [
  f('partitionIndex', 'int32', '0+'),
  f('committedOffset', 'int64', '0+'),
  f('committedLeaderEpoch', 'int32', '5+', { default: -1 }),
  f('metadata', 'string', '0+', { nullable: '0+' }),
  f('errorCode', 'int16', '0+'),
] as const;

export const OffsetFetch = api('OffsetFetch', 9, {
  versions: '1-9',
  flexibleFrom: 6,
  request: [
    f('groupId', 'string', '0-7'),
    s('topics', '0-7', [f('name', 'string', '0-7'), f('partitionIndexes', '[]int32', '0-7')], { nullable: '2-7' }),
    s('groups', '8+', [
      f('groupId', 'string', '8+'),
      f('memberId', 'string', '9+', { nullable: '9+', default: null }),
      f('memberEpoch', 'int32', '9+', { default: -1 }),
      s('topics', '8+', [f('name', 'string', '8+'), f('partitionIndexes', '[]int32', '8+')], { nullable: '8+' }),
    ]),
    f('requireStable', 'bool', '7+', { default: false }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    s('topics', '0-7', [f('name', 'string', '0-7'), s('partitions', '0-7', offsetFetchPartitionResponse)]),
    f('errorCode', 'int16', '2-7'),
    s('groups', '8+', [
      f('groupId', 'string', '8+'),
      s('topics', '8+', [f('name', 'string', '8+'), s('partitions', '8+', offsetFetchPartitionResponse)]),
      f('errorCode', 'int16', '8+'),
    ]),
  ],
});

export const DescribeGroups = api('DescribeGroups', 15, {
  versions: '0-5',
  flexibleFrom: 5,
  request: [f('groups', '[]string', '0+'), f('includeAuthorizedOperations', 'bool', '3+')],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    s('groups', '0+', [
      f('errorCode', 'int16', '0+'),
      f('groupId', 'string', '0+'),
      f('groupState', 'string', '0+'),
      f('protocolType', 'string', '0+'),
      f('protocolData', 'string', '0+'),
      s('members', '0+', [
        f('memberId', 'string', '0+'),
        f('groupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
        f('clientId', 'string', '0+'),
        f('clientHost', 'string', '0+'),
        f('memberMetadata', 'bytes', '0+'),
        f('memberAssignment', 'bytes', '0+'),
      ]),
      f('authorizedOperations', 'int32', '3+', { default: -2147483648 }),
    ]),
  ],
});

export const ListGroups = api('ListGroups', 16, {
  versions: '0-4',
  flexibleFrom: 3,
  request: [f('statesFilter', '[]string', '4+')],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    s('groups', '0+', [f('groupId', 'string', '0+'), f('protocolType', 'string', '0+'), f('groupState', 'string', '4+')]),
  ],
});

export const InitProducerId = api('InitProducerId', 22, {
  versions: '0-4',
  flexibleFrom: 2,
  request: [
    f('transactionalId', 'string', '0+', { nullable: '0+' }),
    f('transactionTimeoutMs', 'int32', '0+'),
    f('producerId', 'int64', '3+', { default: -1 }),
    f('producerEpoch', 'int16', '3+', { default: -1 }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('producerId', 'int64', '0+', { default: -1 }),
    f('producerEpoch', 'int16', '0+'),
  ],
});
