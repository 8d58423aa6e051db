/**
 * Interoperability with a client we did not write, for the flexible versions: the request
 * writers of @platformatic/kafka 1.35.0 must produce bodies our decoders read completely, and
 * its response parsers must read what our encoders write. (Its Metadata v11 writer sends the
 * IncludeClusterAuthorizedOperations flag that v11 removed; Kafka ignores the extra byte and so
 * does our default, non-strict decoder.)
 */
import * as pk from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeResponse, isFlexible } from '../src/index.js';

interface PlatformaticApi {
  createRequest: (...args: any[]) => { buffer: Buffer };
  parseResponse: (correlationId: number, apiKey: number, apiVersion: number, reader: unknown) => unknown;
}

const api = (name: string) => (pk as unknown as Record<string, PlatformaticApi>)[name];
const topicId = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function header(apiKey: number, apiVersion: number): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeInt16BE(apiKey, 0);
  fixed.writeInt16BE(apiVersion, 2);
  fixed.writeInt32BE(5, 4);
  fixed.writeInt16BE(2, 8);
  return Buffer.concat([fixed, Buffer.from('pk'), isFlexible(apiKey, apiVersion) ? Buffer.from([0]) : Buffer.alloc(0)]);
}

function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, inner) => (typeof inner === 'bigint' ? Number(inner) : inner)));
}

// [platformatic export, api key, version, request arguments, expected request subset, response body, expected parsed subset]
type Case = [string, number, number, unknown[], object, object, object];

const cases: Case[] = [
  ['apiVersionsV3', 18, 3, ['gregor-test', '1.0'], { clientSoftwareName: 'gregor-test' }, { apiKeys: [{ apiKey: 1, minVersion: 4, maxVersion: 13 }] }, { apiKeys: [{ apiKey: 1, minVersion: 4, maxVersion: 13 }] }],
  ...[9, 10, 11, 12].map((v): Case => [
    `metadataV${v}`, 3, v, [['t1'], true, false], { topics: [{ name: 't1' }], allowAutoTopicCreation: true },
    {
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }], clusterId: 'c', controllerId: 1,
      topics: [{ name: 't1', topicId, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 3, replicaNodes: [1], isrNodes: [1] }] }],
    },
    { brokers: [{ nodeId: 1, host: 'h', port: 9092 }], controllerId: 1, topics: [{ name: 't1', partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 3, replicaNodes: [1], isrNodes: [1] }] }] },
  ]),
  ['findCoordinatorV4', 10, 4, [0, ['g']], { keyType: 0, coordinatorKeys: ['g'] }, { coordinators: [{ key: 'g', nodeId: 1, host: 'h', port: 9092, errorMessage: null }] }, { coordinators: [{ key: 'g', nodeId: 1, host: 'h', port: 9092 }] }],
  ...[9, 10].map((v): Case => [
    `produceV${v}`, 0, v, [1, 1000, [{ topic: 't1', partition: 0, key: Buffer.from('k'), value: Buffer.from('v') }]], { acks: 1, timeoutMs: 1000, topicData: [{ name: 't1', partitionData: [{ index: 0 }] }] },
    { responses: [{ name: 't1', partitionResponses: [{ index: 0, baseOffset: 42, logStartOffset: 0 }] }] },
    { responses: [{ name: 't1', partitionResponses: [{ index: 0, baseOffset: 42 }] }] },
  ]),
  ...[3, 4].map((v): Case => [`initProducerIdV${v}`, 22, v, [null, 1000, -1n, -1], { transactionTimeoutMs: 1000, producerId: -1 }, { producerId: 77, producerEpoch: 2 }, { producerId: 77, producerEpoch: 2 }]),
  ['fetchV12', 1, 12, [500, 1, 1024, 0, 0, -1, [{ topicId: 't1', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 7n, lastFetchedEpoch: -1, partitionMaxBytes: 100 }] }], [], ''], { maxWaitMs: 500, topics: [{ topic: 't1', partitions: [{ partition: 0, fetchOffset: 7 }] }] },
    { responses: [{ topic: 't1', partitions: [{ partitionIndex: 0, highWatermark: 9, lastStableOffset: 9, logStartOffset: 0, records: null }] }] },
    { responses: [{ partitions: [{ partitionIndex: 0, highWatermark: 9 }] }] }],
  ['fetchV13', 1, 13, [500, 1, 1024, 0, 0, -1, [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 7n, lastFetchedEpoch: -1, partitionMaxBytes: 100 }] }], [], ''], { topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 7 }] }] },
    { responses: [{ topicId, partitions: [{ partitionIndex: 0, highWatermark: 9, records: null }] }] },
    { responses: [{ topicId, partitions: [{ partitionIndex: 0, highWatermark: 9 }] }] }],
  ['heartbeatV4', 12, 4, ['g', 3, 'm', null], { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null }, { errorCode: 0 }, { errorCode: 0 }],
  ...[6, 7, 8, 9].map((v): Case => [
    `joinGroupV${v}`, 11, v, ['g', 30000, 60000, '', null, 'consumer', [{ name: 'range', metadata: Buffer.from('x') }], 'why'], { groupId: 'g', sessionTimeoutMs: 30000, protocols: [{ name: 'range' }] },
    { generationId: 4, protocolType: 'consumer', protocolName: 'range', leader: 'm', memberId: 'm', members: [{ memberId: 'm', metadata: Buffer.from('x') }] },
    { generationId: 4, protocolName: 'range', leader: 'm', memberId: 'm', members: [{ memberId: 'm' }] },
  ]),
  ...[4, 5].map((v): Case => [`leaveGroupV${v}`, 13, v, ['g', [{ memberId: 'm', groupInstanceId: null, reason: 'bye' }]], { groupId: 'g', members: [{ memberId: 'm' }] }, { members: [{ memberId: 'm', groupInstanceId: null }] }, { members: [{ memberId: 'm' }] }]),
  ...[6, 7].map((v): Case => [
    `listOffsetsV${v}`, 2, v, [-1, 0, [{ name: 't1', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }]], { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] },
    { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, timestamp: -1, offset: 42, leaderEpoch: 0 }] }] },
    { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, offset: 42 }] }] },
  ]),
  ...[8, 9].map((v): Case => [
    `offsetCommitV${v}`, 8, v, ['g', 3, 'm', null, [{ name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: null }] }]],
    { groupId: 'g', generationIdOrMemberEpoch: 3, topics: [{ name: 't1', partitions: [{ committedOffset: 42, committedMetadata: null }] }] },
    { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] }, { topics: [{ name: 't1', partitions: [{ partitionIndex: 0 }] }] },
  ]),
  ...[8, 9].map((v): Case => [
    `offsetFetchV${v}`, 9, v, [[{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't1', partitionIndexes: [0] }] }], false], { groups: [{ groupId: 'g', topics: [{ name: 't1', partitionIndexes: [0] }] }] },
    { groups: [{ groupId: 'g', topics: [{ name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 42, metadata: null }] }] }] },
    { groups: [{ groupId: 'g', topics: [{ name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 42 }] }] }] },
  ]),
  ['offsetForLeaderEpochV4', 23, 4, [-1, [{ name: 't1', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 2, leaderEpoch: 1 }] }]], { topics: [{ topic: 't1', partitions: [{ partition: 0, leaderEpoch: 1 }] }] },
    { topics: [{ topic: 't1', partitions: [{ partition: 0, leaderEpoch: 1, endOffset: 42 }] }] }, { topics: [{ topic: 't1', partitions: [{ partition: 0, endOffset: 42 }] }] }],
  ...[4, 5].map((v): Case => [`syncGroupV${v}`, 14, v, ['g', 3, 'm', null, 'consumer', 'range', [{ memberId: 'm', assignment: Buffer.from('a') }]], { groupId: 'g', assignments: [{ memberId: 'm' }] }, { protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('a') }, {}]),
  ['createTopicsV7', 19, 7, [[{ name: 't1', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }], 1000, false], { topics: [{ name: 't1', numPartitions: 3, configs: [{ name: 'cleanup.policy', value: 'compact' }] }] },
    { topics: [{ name: 't1', topicId, numPartitions: 3, replicationFactor: 1, configs: [] }] }, { topics: [{ name: 't1', topicId, numPartitions: 3 }] }],
  ['deleteTopicsV6', 20, 6, [[{ name: 't1', topicId: null }], 1000], { topics: [{ name: 't1' }], timeoutMs: 1000 }, { responses: [{ name: 't1', topicId }] }, { responses: [{ name: 't1', topicId }] }],
  ...[2, 3].map((v): Case => [`createPartitionsV${v}`, 37, v, [[{ name: 't1', count: 4, assignments: [] }], 1000, false], { topics: [{ name: 't1', count: 4 }] }, { results: [{ name: 't1' }] }, { results: [{ name: 't1' }] }]),
  ...[0, 1].map((v): Case => [`describeClusterV${v}`, 60, v, [false, 1], { includeClusterAuthorizedOperations: false }, { clusterId: 'c', controllerId: 1, brokers: [{ brokerId: 1, host: 'h', port: 9092 }] }, { clusterId: 'c', controllerId: 1, brokers: [{ brokerId: 1, host: 'h', port: 9092 }] }]),
  ['describeConfigsV4', 32, 4, [[{ resourceType: 2, resourceName: 't1', configurationKeys: null }], false, false], { resources: [{ resourceType: 2, resourceName: 't1', configurationKeys: null }] },
    { results: [{ resourceType: 2, resourceName: 't1', configs: [{ name: 'retention.ms', value: '1', configSource: 5, synonyms: [], documentation: null }] }] },
    { results: [{ resourceName: 't1', configs: [{ name: 'retention.ms', value: '1' }] }] }],
  ['describeGroupsV5', 15, 5, [['g'], false], { groups: ['g'] }, { groups: [{ groupId: 'g', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range', members: [{ memberId: 'm', clientId: 'c', clientHost: 'h' }] }] }, { groups: [{ groupId: 'g', groupState: 'Stable', members: [{ memberId: 'm' }] }] }],
  ['listGroupsV4', 16, 4, [['Stable']], { statesFilter: ['Stable'] }, { groups: [{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable' }] }, { groups: [{ groupId: 'g', groupState: 'Stable' }] }],
  ['deleteRecordsV2', 21, 2, [[{ name: 't1', partitions: [{ partitionIndex: 0, offset: 5n }] }], 1000], { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, offset: 5 }] }] },
    { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, lowWatermark: 5 }] }] }, { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, lowWatermark: 5 }] }] }],
  ['alterConfigsV2', 33, 2, [[{ resourceType: 2, resourceName: 't1', configs: [{ name: 'retention.ms', value: '1000' }] }], false], { resources: [{ resourceType: 2, resourceName: 't1', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false },
    { responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1' }] }, { responses: [{ resourceType: 2, resourceName: 't1' }] }],
  ['incrementalAlterConfigsV1', 44, 1, [[{ resourceType: 2, resourceName: 't1', configs: [{ name: 'retention.ms', configOperation: 1, value: null }] }], true], { resources: [{ resourceName: 't1', configs: [{ name: 'retention.ms', configOperation: 1, value: null }] }], validateOnly: true },
    { responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1' }] }, { responses: [{ resourceType: 2, resourceName: 't1' }] }],
  ['deleteGroupsV2', 42, 2, [['g', 'h']], { groupsNames: ['g', 'h'] }, { results: [{ groupId: 'g', errorCode: 0 }, { groupId: 'h', errorCode: 0 }] }, { results: [{ groupId: 'g' }, { groupId: 'h' }] }],
  ['offsetDeleteV0', 47, 0, ['g', [{ name: 't1', partitions: [{ partitionIndex: 2 }] }]], { groupId: 'g', topics: [{ name: 't1', partitions: [{ partitionIndex: 2 }] }] },
    { topics: [{ name: 't1', partitions: [{ partitionIndex: 2, errorCode: 0 }] }] }, { topics: [{ name: 't1', partitions: [{ partitionIndex: 2 }] }] }],
  ...[2, 3, 4].map((v): Case => [
    `describeLogDirsV${v}`, 35, v, [[{ name: 't1', partitions: [0, 1] }]], { topics: [{ topic: 't1', partitions: [0, 1] }] },
    { results: [{ logDir: '/d', topics: [{ name: 't1', partitions: [{ partitionIndex: 1, partitionSize: 42, offsetLag: 0, isFutureKey: false }] }], totalBytes: 100, usableBytes: 50 }] },
    { results: [{ logDir: '/d', topics: [{ name: 't1', partitions: [{ partitionIndex: 1, partitionSize: 42 }] }] }] },
  ]),
  ['describeClientQuotasV0', 48, 1, [[{ entityType: 'client-id', matchType: 0, match: 'c' }], true], { components: [{ entityType: 'client-id', matchType: 0, match: 'c' }], strict: true },
    { entries: [{ entity: [{ entityType: 'client-id', entityName: 'c' }], values: [{ key: 'producer_byte_rate', value: 1024.5 }] }] },
    { entries: [{ entity: [{ entityType: 'client-id', entityName: 'c' }], values: [{ key: 'producer_byte_rate', value: 1024.5 }] }] }],
  ['alterClientQuotasV1', 49, 1, [[{ entities: [{ entityType: 'user', entityName: 'u' }], ops: [{ key: 'consumer_byte_rate', value: 2048, remove: false }] }], false],
    { entries: [{ entity: [{ entityType: 'user', entityName: 'u' }], ops: [{ key: 'consumer_byte_rate', value: 2048, remove: false }] }] },
    { entries: [{ errorCode: 0, errorMessage: null, entity: [{ entityType: 'user', entityName: 'u' }] }] }, { entries: [{ entity: [{ entityType: 'user', entityName: 'u' }] }] }],
];

describe('@platformatic/kafka 1.35.0 speaks our descriptions', () => {
  for (const [name, apiKey, version, args, requestSubset, responseBody, parsedSubset] of cases) {
    it(`${name}: we decode its request fully and it parses our response`, () => {
      const client = api(name);
      const body = client.createRequest(...args).buffer;
      const decoded = decodeRequest(Buffer.concat([header(apiKey, version), body]), { strict: name !== 'metadataV11' });
      expect(decoded.header).toMatchObject({ apiKey, apiVersion: version });
      expect(normalize(decoded.body)).toMatchObject(normalize(requestSubset) as object);

      const frame = encodeResponse(apiKey, version, 5, responseBody);
      const headerBytes = apiKey !== 18 && isFlexible(apiKey, version) ? 9 : 8;
      const parsed = client.parseResponse(5, apiKey, version, pk.Reader.from(frame.subarray(headerBytes)));
      expect(normalize(parsed)).toMatchObject(normalize(parsedSubset) as object);
    });
  }
});
