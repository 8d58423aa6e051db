/**
 * Descriptions of the data-path APIs: ApiVersions, Metadata, Produce, Fetch, ListOffsets,
 * OffsetForLeaderEpoch, DeleteRecords. Transcribed from apache/kafka's message JSON (field names
 * camelCased, versions and tags as there); only the versions we serve are described.
 */
import { api, f, o, s } from '../spec.js';

export const ApiVersions = api('ApiVersions', 18, {
  versions: '0-3',
  flexibleFrom: 3,
  request: [f('clientSoftwareName', 'string', '3+'), f('clientSoftwareVersion', 'string', '3+')],
  response: [
    f('errorCode', 'int16', '0+'),
    s('apiKeys', '0+', [f('apiKey', 'int16', '0+'), f('minVersion', 'int16', '0+'), f('maxVersion', 'int16', '0+')]),
    f('throttleTimeMs', 'int32', '1+'),
    s('supportedFeatures', '3+', [f('name', 'string', '3+'), f('minVersion', 'int16', '3+'), f('maxVersion', 'int16', '3+')], { tag: 0 }),
    f('finalizedFeaturesEpoch', 'int64', '3+', { tag: 1, default: -1 }),
    s('finalizedFeatures', '3+', [f('name', 'string', '3+'), f('maxVersionLevel', 'int16', '3+'), f('minVersionLevel', 'int16', '3+')], { tag: 2 }),
    f('zkMigrationReady', 'bool', '3+', { tag: 3, default: false }),
  ],
});

export const Metadata = api('Metadata', 3, {
  versions: '0-12',
  flexibleFrom: 9,
  request: [
    // v0: an empty array means all topics; v1+: null means all topics.
    s('topics', '0+', [f('topicId', 'uuid', '10+'), f('name', 'string', '0+', { nullable: '10+' })], { nullable: '1+' }),
    f('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    f('includeClusterAuthorizedOperations', 'bool', '8-10'),
    f('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    s('brokers', '0+', [
      f('nodeId', 'int32', '0+'),
      f('host', 'string', '0+'),
      f('port', 'int32', '0+'),
      f('rack', 'string', '1+', { nullable: '1+', default: null }),
    ]),
    f('clusterId', 'string', '2+', { nullable: '2+', default: null }),
    f('controllerId', 'int32', '1+', { default: -1 }),
    s('topics', '0+', [
      f('errorCode', 'int16', '0+'),
      f('name', 'string', '0+', { nullable: '12+' }),
      f('topicId', 'uuid', '10+'),
      f('isInternal', 'bool', '1+', { default: false }),
      s('partitions', '0+', [
        f('errorCode', 'int16', '0+'),
        f('partitionIndex', 'int32', '0+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '7+', { default: -1 }),
        f('replicaNodes', '[]int32', '0+'),
        f('isrNodes', '[]int32', '0+'),
        f('offlineReplicas', '[]int32', '5+'),
      ]),
      f('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
    ]),
    f('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
  ],
});

const leaderIdAndEpoch = [f('leaderId', 'int32', '0+', { default: -1 }), f('leaderEpoch', 'int32', '0+', { default: -1 })] as const;
const nodeEndpoint = [
  f('nodeId', 'int32', '0+'),
  f('host', 'string', '0+'),
  f('port', 'int32', '0+'),
  f('rack', 'string', '0+', { nullable: '0+', default: null }),
] as const;

export const Produce = api('Produce', 0, {
  versions: '0-10',
  flexibleFrom: 9,
  request: [
    f('transactionalId', 'string', '3+', { nullable: '3+', default: null }),
    f('acks', 'int16', '0+'),
    f('timeoutMs', 'int32', '0+'),
    s('topicData', '0+', [
      f('name', 'string', '0+'),
      s('partitionData', '0+', [f('index', 'int32', '0+'), f('records', 'records', '0+', { nullable: '0+' })]),
    ]),
  ],
  response: [
    s('responses', '0+', [
      f('name', 'string', '0+'),
      s('partitionResponses', '0+', [
        f('index', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('baseOffset', 'int64', '0+'),
        f('logAppendTimeMs', 'int64', '2+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        s('recordErrors', '8+', [
          f('batchIndex', 'int32', '8+'),
          f('batchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
        ]),
        f('errorMessage', 'string', '8+', { nullable: '8+', default: null }),
        o('currentLeader', '10+', leaderIdAndEpoch, { tag: 0 }),
      ]),
    ]),
    f('throttleTimeMs', 'int32', '1+'),
    s('nodeEndpoints', '10+', nodeEndpoint, { tag: 0 }),
  ],
});

export const Fetch = api('Fetch', 1, {
  versions: '4-13',
  flexibleFrom: 12,
  request: [
    f('clusterId', 'string', '12+', { nullable: '12+', default: null, tag: 0 }),
    f('replicaId', 'int32', '0-14', { default: -1 }),
    f('maxWaitMs', 'int32', '0+'),
    f('minBytes', 'int32', '0+'),
    f('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
    f('isolationLevel', 'int8', '4+', { default: 0 }),
    f('sessionId', 'int32', '7+', { default: 0 }),
    f('sessionEpoch', 'int32', '7+', { default: -1 }),
    s('topics', '0+', [
      f('topic', 'string', '0-12'),
      f('topicId', 'uuid', '13+'),
      s('partitions', '0+', [
        f('partition', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
        f('fetchOffset', 'int64', '0+'),
        f('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        f('partitionMaxBytes', 'int32', '0+'),
      ]),
    ]),
    s('forgottenTopicsData', '7+', [f('topic', 'string', '7-12'), f('topicId', 'uuid', '13+'), f('partitions', '[]int32', '7+')]),
    f('rackId', 'string', '11+', { default: '' }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '7+'),
    f('sessionId', 'int32', '7+', { default: 0 }),
    s('responses', '0+', [
      f('topic', 'string', '0-12'),
      f('topicId', 'uuid', '13+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('highWatermark', 'int64', '0+'),
        f('lastStableOffset', 'int64', '4+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        o('divergingEpoch', '12+', [f('epoch', 'int32', '12+', { default: -1 }), f('endOffset', 'int64', '12+', { default: -1 })], { tag: 0 }),
        o('currentLeader', '12+', leaderIdAndEpoch, { tag: 1 }),
        o('snapshotId', '12+', [f('endOffset', 'int64', '0+', { default: -1 }), f('epoch', 'int32', '0+', { default: -1 })], { tag: 2 }),
        s('abortedTransactions', '4+', [f('producerId', 'int64', '4+'), f('firstOffset', 'int64', '4+')], { nullable: '4+' }),
        f('preferredReadReplica', 'int32', '11+', { default: -1 }),
        f('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
});

export const ListOffsets = api('ListOffsets', 2, {
  versions: '0-7',
  flexibleFrom: 6,
  request: [
    f('replicaId', 'int32', '0+'),
    f('isolationLevel', 'int8', '2+'),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
        f('timestamp', 'int64', '0+'),
        f('maxNumOffsets', 'int32', '0', { default: 1 }),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('oldStyleOffsets', '[]int64', '0'),
        f('timestamp', 'int64', '1+', { default: -1 }),
        f('offset', 'int64', '1+', { default: -1 }),
        f('leaderEpoch', 'int32', '4+', { default: -1 }),
      ]),
    ]),
  ],
});

export const OffsetForLeaderEpoch = api('OffsetForLeaderEpoch', 23, {
  versions: '0-4',
  flexibleFrom: 4,
  request: [
    f('replicaId', 'int32', '3+', { default: -2 }),
    s('topics', '0+', [
      f('topic', 'string', '0+'),
      s('partitions', '0+', [
        f('partition', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '2+', { default: -1 }),
        f('leaderEpoch', 'int32', '0+'),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    s('topics', '0+', [
      f('topic', 'string', '0+'),
      s('partitions', '0+', [
        f('errorCode', 'int16', '0+'),
        f('partition', 'int32', '0+'),
        f('leaderEpoch', 'int32', '1+', { default: -1 }),
        f('endOffset', 'int64', '0+', { default: -1 }),
      ]),
    ]),
  ],
});

export const DeleteRecords = api('DeleteRecords', 21, {
  versions: '0-2',
  flexibleFrom: 2,
  request: [
    s('topics', '0+', [f('name', 'string', '0+'), s('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('offset', 'int64', '0+')])]),
    f('timeoutMs', 'int32', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('lowWatermark', 'int64', '0+'), f('errorCode', 'int16', '0+')]),
    ]),
  ],
});
