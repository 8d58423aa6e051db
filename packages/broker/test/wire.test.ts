/**
 * Every handler against `@gregor/protocol`'s codecs, for every served version: the request is
 * encoded and decoded as the server would see it, and the handler's response must encode for that
 * version and decode back with the values the scenario expects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, decodeRequest, decodeResponse, encodeRequest, encodeResponse, servedApiVersions } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { batch, openTestBroker, type TestBroker } from './helpers.js';

function versionsOf(apiKey: number): number[] {
  const range = servedApiVersions().find((entry) => entry.apiKey === apiKey);
  if (range === undefined) throw new Error(`api ${apiKey} is not served`);
  return Array.from({ length: range.maxVersion - range.minVersion + 1 }, (_, index) => range.minVersion + index);
}

async function overWire(test: TestBroker, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
  const frame = encodeRequest({ apiKey, apiVersion, correlationId: 7, clientId: 'wire-test' }, body).subarray(4);
  const request = decodeRequest(frame);
  const response = await test.broker.handle(apiKey, apiVersion, request.body as Body, { clientId: request.header.clientId ?? null, clientHost: '/127.0.0.1' });
  if (response === null) return { noResponse: true };
  const encoded = encodeResponse(apiKey, apiVersion, 7, response).subarray(4);
  return decodeResponse(apiKey, apiVersion, encoded).body as Body;
}

describe('handlers over the wire codecs, every served version', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('topics, produce, fetch, list offsets, metadata, configs, records', async () => {
    test = await openTestBroker();
    for (const version of versionsOf(ApiKey.CreateTopics)) {
      const created = await overWire(test, ApiKey.CreateTopics, version, { topics: [{ name: `t${version}`, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '5000' }] }], timeoutMs: 100, validateOnly: false });
      expect(created.topics[0]).toMatchObject({ name: `t${version}`, errorCode: 0 });
    }
    let expectedOffset = 0;
    for (const version of versionsOf(ApiKey.Produce)) {
      const produced = await overWire(test, ApiKey.Produce, version, { transactionalId: null, acks: 1, timeoutMs: 100, topicData: [{ name: 't0', partitionData: [{ index: 0, records: batch([`v${version}`]) }] }] });
      expect(produced.responses[0].partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: expectedOffset++ });
    }
    const topicId = test.broker.image.topic('t0')?.id;
    for (const version of versionsOf(ApiKey.Fetch)) {
      const fetched = await overWire(test, ApiKey.Fetch, version, {
        replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 't0', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const partition = fetched.responses[0].partitions[0];
      expect(partition).toMatchObject({ partitionIndex: 0, errorCode: 0, highWatermark: expectedOffset });
      expect(partition.records.length).toBeGreaterThan(0);
    }
    for (const version of versionsOf(ApiKey.ListOffsets)) {
      const listed = await overWire(test, ApiKey.ListOffsets, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't0', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }] });
      if (version === 0) expect(listed.topics[0].partitions[0]).toMatchObject({ errorCode: 0, oldStyleOffsets: [expectedOffset] });
      else expect(listed.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: expectedOffset });
    }
    for (const version of versionsOf(ApiKey.Metadata)) {
      const topics = version === 0 ? [{ name: 't0' }] : [{ name: 't0', topicId: '00000000-0000-0000-0000-000000000000' }];
      const metadata = await overWire(test, ApiKey.Metadata, version, { topics, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      expect(metadata.topics[0]).toMatchObject({ errorCode: 0, name: 't0' });
      expect(metadata.topics[0].partitions).toHaveLength(2);
      if (version >= 10) expect(metadata.topics[0].topicId).toBe(topicId);
    }
    for (const version of versionsOf(ApiKey.DescribeConfigs)) {
      const described = await overWire(test, ApiKey.DescribeConfigs, version, { resources: [{ resourceType: 2, resourceName: 't0', configurationKeys: ['retention.ms'] }], includeSynonyms: true, includeDocumentation: false });
      expect(described.results[0].configs[0]).toMatchObject({ name: 'retention.ms', value: '5000', configSource: version >= 1 ? 1 : -1 });
    }
    for (const version of versionsOf(ApiKey.AlterConfigs)) {
      const altered = await overWire(test, ApiKey.AlterConfigs, version, { resources: [{ resourceType: 2, resourceName: 't0', configs: [{ name: 'retention.ms', value: String(5000 + version) }] }], validateOnly: false });
      expect(altered.responses[0]).toMatchObject({ errorCode: 0, resourceType: 2, resourceName: 't0' });
    }
    for (const version of versionsOf(ApiKey.IncrementalAlterConfigs)) {
      const altered = await overWire(test, ApiKey.IncrementalAlterConfigs, version, { resources: [{ resourceType: 4, resourceName: '0', configs: [{ name: 'log.cleaner.backoff.ms', configOperation: 0, value: String(1000 + version) }] }], validateOnly: false });
      expect(altered.responses[0]).toMatchObject({ errorCode: 0, resourceType: 4, resourceName: '0' });
    }
    for (const version of versionsOf(ApiKey.DescribeConfigs)) {
      const described = await overWire(test, ApiKey.DescribeConfigs, version, { resources: [{ resourceType: 4, resourceName: '0', configurationKeys: ['log.cleaner.backoff.ms'] }], includeSynonyms: true, includeDocumentation: true });
      expect(described.results[0].configs[0]).toMatchObject({ name: 'log.cleaner.backoff.ms', value: '1001', readOnly: false });
      if (version === 0) expect(described.results[0].configs[0].isDefault).toBe(false);
      if (version >= 3) expect(described.results[0].configs[0]).toMatchObject({ configType: 5, documentation: expect.stringContaining('cleaner') });
    }
    for (const version of versionsOf(ApiKey.DescribeLogDirs)) {
      const dirs = await overWire(test, ApiKey.DescribeLogDirs, version, { topics: [{ topic: 't0', partitions: [0] }] });
      expect(dirs.results[0].topics).toEqual([{ name: 't0', partitions: [expect.objectContaining({ partitionIndex: 0, isFutureKey: false })] }]);
      expect(dirs.results[0].topics[0].partitions[0].partitionSize).toBeGreaterThan(0);
    }
    for (const version of versionsOf(ApiKey.AlterClientQuotas)) {
      const altered = await overWire(test, ApiKey.AlterClientQuotas, version, { entries: [{ entity: [{ entityType: 'client-id', entityName: `c${version}` }], ops: [{ key: 'producer_byte_rate', value: 1000 + version, remove: false }] }], validateOnly: false });
      expect(altered.entries[0].errorCode).toBe(0);
    }
    for (const version of versionsOf(ApiKey.DescribeClientQuotas)) {
      const described = await overWire(test, ApiKey.DescribeClientQuotas, version, { components: [{ entityType: 'client-id', matchType: 2, match: null }], strict: false });
      expect(described.entries.map((entry: Body) => entry.values[0].value).sort()).toEqual([1000, 1001]);
    }
    for (const version of versionsOf(ApiKey.OffsetForLeaderEpoch)) {
      const found = await overWire(test, ApiKey.OffsetForLeaderEpoch, version, { replicaId: -1, topics: [{ topic: 't0', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] });
      expect(found.topics[0].partitions[0]).toMatchObject({ errorCode: 0, endOffset: expectedOffset });
    }
    for (const version of versionsOf(ApiKey.DeleteRecords)) {
      const deleted = await overWire(test, ApiKey.DeleteRecords, version, { topics: [{ name: 't0', partitions: [{ partitionIndex: 0, offset: version + 1 }] }], timeoutMs: 100 });
      expect(deleted.topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: version + 1 });
    }
    for (const version of versionsOf(ApiKey.CreatePartitions)) {
      const grown = await overWire(test, ApiKey.CreatePartitions, version, { topics: [{ name: 't0', count: 3 + version, assignments: null }], timeoutMs: 100, validateOnly: false });
      expect(grown.results[0].errorCode).toBe(0);
    }
    for (const version of versionsOf(ApiKey.InitProducerId)) {
      const init = await overWire(test, ApiKey.InitProducerId, version, { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
      expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    }
    for (const version of versionsOf(ApiKey.ApiVersions)) {
      const versions = await overWire(test, ApiKey.ApiVersions, version, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
      expect(versions.errorCode).toBe(0);
      expect(versions.apiKeys.length).toBeGreaterThan(15);
    }
    for (const version of versionsOf(ApiKey.DescribeCluster)) {
      const cluster = await overWire(test, ApiKey.DescribeCluster, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(cluster).toMatchObject({ errorCode: 0, clusterId: test.broker.clusterId, brokers: [{ brokerId: 0 }] });
    }
    for (const version of versionsOf(ApiKey.DeleteTopics)) {
      const name = `t${(version % 8)}`;
      const deleted = await overWire(test, ApiKey.DeleteTopics, version, { topicNames: [name], topics: [{ name, topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: 100 });
      expect(deleted.responses[0].errorCode).toBe(0);
    }
  });

  it('answers lookups by id or by empty name in versions whose response names are not nullable', async () => {
    test = await openTestBroker();
    const unknownId = '0b6f2d6c-4d3b-4c6a-9a55-2f6b7d1e8c01';
    for (const version of versionsOf(ApiKey.Metadata).filter((v) => v >= 10)) {
      const response = await overWire(test, ApiKey.Metadata, version, { topics: [{ name: null, topicId: unknownId }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(response.topics[0].errorCode).toBe(version < 12 ? 42 : 100);
    }
    for (const version of versionsOf(ApiKey.DeleteTopics)) {
      const body = version >= 6 ? { topics: [{ name: null, topicId: unknownId }], timeoutMs: 1000 } : { topicNames: [''], timeoutMs: 1000 };
      const response = await overWire(test, ApiKey.DeleteTopics, version, body);
      expect(response.responses[0].errorCode).not.toBe(0);
    }
  });

  it('the group APIs', async () => {
    test = await openTestBroker();
    await overWire(test, ApiKey.CreateTopics, 5, { topics: [{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 100, validateOnly: false });
    for (const version of versionsOf(ApiKey.FindCoordinator)) {
      const found = await overWire(test, ApiKey.FindCoordinator, version, { key: 'g', keyType: 0, coordinatorKeys: ['g'] });
      expect(version >= 4 ? found.coordinators[0].errorCode : found.errorCode).toBe(0);
    }
    for (const version of versionsOf(ApiKey.JoinGroup)) {
      const groupId = `g${version}`;
      const joinBody = (memberId: string): Body => ({
        groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null, protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from('m') }], reason: null,
      });
      let joined = await overWire(test, ApiKey.JoinGroup, version, joinBody(''));
      if (version >= 4) {
        expect(joined.errorCode).toBe(79);
        joined = await overWire(test, ApiKey.JoinGroup, version, joinBody(joined.memberId));
      }
      expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
      expect(joined.members[0].metadata.toString()).toBe('m');
      const memberId = joined.memberId;
      const syncVersion = Math.min(version, 5);
      const synced = await overWire(test, ApiKey.SyncGroup, syncVersion, { groupId, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.from('a') }] });
      expect(synced.assignment.toString()).toBe('a');
      const beat = await overWire(test, ApiKey.Heartbeat, Math.min(version, 4), { groupId, generationId: 1, memberId, groupInstanceId: null });
      expect(beat.errorCode).toBe(0);
      const commitVersion = Math.max(1, Math.min(version, 9));
      const committed = await overWire(test, ApiKey.OffsetCommit, commitVersion, {
        groupId, generationIdOrMemberEpoch: 1, memberId, groupInstanceId: null, retentionTimeMs: -1,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10 + version, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' }] }],
      });
      expect(committed.topics[0].partitions[0].errorCode).toBe(0);
      const fetchVersion = Math.max(1, Math.min(version, 9));
      const fetched = await overWire(test, ApiKey.OffsetFetch, fetchVersion, {
        groupId, topics: [{ name: 't', partitionIndexes: [0] }], groups: [{ groupId, memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] }], requireStable: false,
      });
      const topics = fetchVersion >= 8 ? fetched.groups[0].topics : fetched.topics;
      expect(topics[0].partitions[0].committedOffset).toBe(10 + version);
      const described = await overWire(test, ApiKey.DescribeGroups, Math.min(version, 5), { groups: [groupId], includeAuthorizedOperations: false });
      expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolData: 'range' });
      const leaveVersion = Math.min(version, 5);
      const left = await overWire(test, ApiKey.LeaveGroup, leaveVersion, { groupId, memberId, members: [{ memberId, groupInstanceId: null, reason: null }] });
      expect(left.errorCode).toBe(0);
    }
    for (const version of versionsOf(ApiKey.ListGroups)) {
      const listed = await overWire(test, ApiKey.ListGroups, version, { statesFilter: [], typesFilter: [] });
      expect(listed.groups.length).toBeGreaterThan(0);
    }
    for (const version of versionsOf(ApiKey.OffsetDelete)) {
      const deleted = await overWire(test, ApiKey.OffsetDelete, version, { groupId: 'g9', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] });
      expect(deleted).toMatchObject({ errorCode: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    }
    for (const version of versionsOf(ApiKey.DeleteGroups)) {
      const deleted = await overWire(test, ApiKey.DeleteGroups, version, { groupsNames: [`g${version}`] });
      expect(deleted.results).toEqual([{ groupId: `g${version}`, errorCode: 0 }]);
    }
  });
});
