/**
 * Interoperability with a client we did not write: kafkajs 2.2.4's own request encoders must
 * produce frames our decoders read completely (no bytes left over), and its response decoders
 * must read our encoded responses. Covers every classic version kafkajs and we both have.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeResponse, isVersionServed } from '../src/index.js';

const require = createRequire(import.meta.url);
const frameRequest = require('kafkajs/src/protocol/request.js') as (input: object) => Promise<{ buffer: Buffer }>;

const marker = 4242;
const tpc = 'tpc';

// Arguments for every version of a kafkajs request (each version picks what it needs).
const requestArgs: Record<string, object> = {
  produce: { acks: -1, timeout: marker, topicData: [{ topic: tpc, partitions: [{ partition: 3, messages: [{ key: 'k', value: 'v' }] }] }] },
  fetch: { maxWaitTime: marker, minBytes: 1, maxBytes: 1024, topics: [{ topic: tpc, partitions: [{ partition: 3, fetchOffset: '7', maxBytes: 100 }] }] },
  listOffsets: { topics: [{ topic: tpc, partitions: [{ partition: 3, timestamp: -1 }] }] },
  metadata: { topics: [tpc], allowAutoTopicCreation: true },
  offsetCommit: { groupId: 'g', groupGenerationId: marker, memberId: 'm', topics: [{ topic: tpc, partitions: [{ partition: 3, offset: '7' }] }] },
  offsetFetch: { groupId: 'g', topics: [{ topic: tpc, partitions: [{ partition: 3 }] }] },
  findCoordinator: { groupId: 'g' },
  joinGroup: { groupId: 'g', sessionTimeout: marker, rebalanceTimeout: 1, memberId: '', protocolType: 'consumer', groupProtocols: [{ name: 'range', metadata: Buffer.from('x') }] },
  syncGroup: { groupId: 'g', generationId: marker, memberId: 'm', groupAssignment: [{ memberId: 'm', memberAssignment: Buffer.from('a') }] },
  heartbeat: { groupId: 'g', groupGenerationId: marker, memberId: 'm' },
  leaveGroup: { groupId: 'g', memberId: 'm' },
  describeGroups: { groupIds: ['g'] },
  listGroups: {},
  apiVersions: {},
  createTopics: { topics: [{ topic: tpc, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], timeout: marker, validateOnly: false },
  deleteTopics: { topics: [tpc], timeout: marker },
  createPartitions: { topicPartitions: [{ topic: tpc, count: 4 }], timeout: marker, validateOnly: false },
  describeConfigs: { resources: [{ type: 2, name: tpc, configNames: ['cleanup.policy'] }], includeSynonyms: false },
  initProducerId: { transactionalId: null, transactionTimeout: marker },
  deleteRecords: { topics: [{ topic: tpc, partitions: [{ partition: 3, offset: '7' }] }], timeout: marker },
  saslHandshake: { mechanism: 'PLAIN' },
  alterConfigs: { resources: [{ type: 2, name: tpc, configEntries: [{ name: 'retention.ms', value: String(marker) }] }], validateOnly: false },
  deleteGroups: ['g'],
};

// One response body per API, valid in every version (fields absent in a version are dropped).
const responseBodies: Record<string, object> = {
  produce: { responses: [{ name: tpc, partitionResponses: [{ index: 3, baseOffset: marker, logStartOffset: 0 }] }] },
  fetch: { responses: [{ topic: tpc, partitions: [{ partitionIndex: 3, highWatermark: marker, lastStableOffset: marker, logStartOffset: 0, abortedTransactions: [], records: Buffer.alloc(0) }] }] },
  listOffsets: { topics: [{ name: tpc, partitions: [{ partitionIndex: 3, offset: marker, timestamp: -1, oldStyleOffsets: [marker] }] }] },
  metadata: {
    brokers: [{ nodeId: marker, host: 'h', port: 9092 }],
    clusterId: 'c',
    controllerId: marker,
    topics: [{ name: tpc, partitions: [{ partitionIndex: 3, leaderId: marker, replicaNodes: [marker], isrNodes: [marker] }] }],
  },
  offsetCommit: { topics: [{ name: tpc, partitions: [{ partitionIndex: 3, errorCode: 0 }] }] },
  offsetFetch: { topics: [{ name: tpc, partitions: [{ partitionIndex: 3, committedOffset: marker, metadata: '' }] }] },
  findCoordinator: { nodeId: marker, host: 'h', port: 9092, errorMessage: null },
  joinGroup: { generationId: marker, protocolName: 'range', leader: 'm', memberId: 'm', members: [{ memberId: 'm', metadata: Buffer.from('x') }] },
  syncGroup: { assignment: Buffer.from('a') },
  heartbeat: { errorCode: 0 },
  leaveGroup: { errorCode: 0 },
  describeGroups: { groups: [{ groupId: `g${marker}`, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range', members: [] }] },
  listGroups: { groups: [{ groupId: `g${marker}`, protocolType: 'consumer' }] },
  apiVersions: { apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: marker }] },
  createTopics: { topics: [{ name: tpc, errorMessage: null }] },
  deleteTopics: { responses: [{ name: tpc }] },
  createPartitions: { results: [{ name: tpc }] },
  describeConfigs: { results: [{ resourceType: 2, resourceName: tpc, configs: [{ name: `cfg${marker}`, value: 'v', configSource: 1 }] }] },
  initProducerId: { producerId: marker, producerEpoch: 0 },
  deleteRecords: { topics: [{ name: tpc, partitions: [{ partitionIndex: 3, lowWatermark: marker }] }] },
  saslHandshake: { mechanisms: [`PLAIN${marker}`] },
  alterConfigs: { responses: [{ resourceType: 2, resourceName: `r${marker}` }] },
  deleteGroups: { results: [{ groupId: `g${marker}`, errorCode: 0 }] },
};

const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
const keyOf: Record<string, number> = {
  produce: apiKeys.Produce, fetch: apiKeys.Fetch, listOffsets: apiKeys.ListOffsets, metadata: apiKeys.Metadata,
  offsetCommit: apiKeys.OffsetCommit, offsetFetch: apiKeys.OffsetFetch, findCoordinator: apiKeys.GroupCoordinator,
  joinGroup: apiKeys.JoinGroup, syncGroup: apiKeys.SyncGroup, heartbeat: apiKeys.Heartbeat, leaveGroup: apiKeys.LeaveGroup,
  describeGroups: apiKeys.DescribeGroups, listGroups: apiKeys.ListGroups, apiVersions: apiKeys.ApiVersions,
  createTopics: apiKeys.CreateTopics, deleteTopics: apiKeys.DeleteTopics, createPartitions: apiKeys.CreatePartitions,
  describeConfigs: apiKeys.DescribeConfigs, initProducerId: apiKeys.InitProducerId, deleteRecords: apiKeys.DeleteRecords,
  saslHandshake: apiKeys.SaslHandshake, alterConfigs: apiKeys.AlterConfigs, deleteGroups: apiKeys.DeleteGroups,
};

type Versions = { versions: string[]; protocol: (input: { version: number }) => (args: object) => { request: object; response: { decode: (b: Buffer) => Promise<any>; parse: (d: any) => Promise<any> } } };

describe('kafkajs 2.2.4 speaks our descriptions', () => {
  for (const [name, args] of Object.entries(requestArgs)) {
    const module = require(`kafkajs/src/protocol/requests/${name}/index.js`) as Versions;
    for (const version of module.versions.map(Number)) {
      if (!isVersionServed(keyOf[name], version)) continue;
      it(`${name} v${version}: we decode its request fully and it decodes our response`, async () => {
        const { request, response } = module.protocol({ version })(args);
        const { buffer } = await frameRequest({ correlationId: 11, clientId: 'kafkajs', request });
        const decoded = decodeRequest(buffer.subarray(4), { strict: true });
        expect(decoded.header).toMatchObject({ apiKey: keyOf[name], apiVersion: version, correlationId: 11, clientId: 'kafkajs' });
        if (name !== 'listGroups' && name !== 'apiVersions') expect(JSON.stringify(decoded.body)).toMatch(/4242|tpc|"g"|PLAIN/);

        const frame = encodeResponse(keyOf[name], version, 11, responseBodies[name]);
        const parsed = await response.parse(await response.decode(frame.subarray(8)));
        if (!['heartbeat', 'leaveGroup', 'syncGroup', 'offsetCommit', 'createTopics', 'deleteTopics', 'createPartitions'].includes(name)) {
          expect(JSON.stringify(parsed, (_key, value) => (typeof value === 'bigint' ? String(value) : value))).toContain(String(marker));
        }
      });
    }
  }
});
