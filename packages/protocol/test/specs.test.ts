import { describe, expect, it } from 'vitest';
import { ApiKey, allSpecs, hasField, isVersionServed, requestHeaderVersion, responseHeaderVersion, servedApiVersions, specFor } from '../src/index.js';

// [name, api key, min served, max served, first flexible version (Kafka's flexibleVersions)]
const expected: Array<[string, number, number, number, number | null]> = [
  ['Produce', 0, 0, 10, 9],
  ['Fetch', 1, 4, 13, 12],
  ['ListOffsets', 2, 0, 7, 6],
  ['Metadata', 3, 0, 12, 9],
  ['OffsetCommit', 8, 0, 9, 8],
  ['OffsetFetch', 9, 1, 9, 6],
  ['FindCoordinator', 10, 0, 4, 3],
  ['JoinGroup', 11, 0, 9, 6],
  ['Heartbeat', 12, 0, 4, 4],
  ['LeaveGroup', 13, 0, 5, 4],
  ['SyncGroup', 14, 0, 5, 4],
  ['DescribeGroups', 15, 0, 5, 5],
  ['ListGroups', 16, 0, 4, 3],
  ['SaslHandshake', 17, 0, 1, null],
  ['ApiVersions', 18, 0, 3, 3],
  ['CreateTopics', 19, 0, 7, 5],
  ['DeleteTopics', 20, 0, 6, 4],
  ['DeleteRecords', 21, 0, 2, 2],
  ['InitProducerId', 22, 0, 4, 2],
  ['OffsetForLeaderEpoch', 23, 0, 4, 4],
  ['DescribeConfigs', 32, 0, 4, 4],
  ['AlterConfigs', 33, 0, 2, 2],
  ['DescribeLogDirs', 35, 0, 4, 2],
  ['SaslAuthenticate', 36, 0, 2, 2],
  ['CreatePartitions', 37, 0, 3, 2],
  ['DeleteGroups', 42, 0, 2, 2],
  ['ElectLeaders', 43, 0, 2, 2],
  ['IncrementalAlterConfigs', 44, 0, 1, 1],
  ['AlterPartitionReassignments', 45, 0, 1, 0],
  ['ListPartitionReassignments', 46, 0, 0, 0],
  ['OffsetDelete', 47, 0, 0, null],
  ['DescribeClientQuotas', 48, 0, 1, 1],
  ['AlterClientQuotas', 49, 0, 1, 1],
  ['DescribeAcls', 29, 1, 3, 2],
  ['CreateAcls', 30, 1, 3, 2],
  ['DeleteAcls', 31, 1, 3, 2],
  ['DescribeUserScramCredentials', 50, 0, 0, 0],
  ['AlterUserScramCredentials', 51, 0, 0, 0],
  ['Vote', 52, 0, 2, 0],
  ['BeginQuorumEpoch', 53, 0, 1, 1],
  ['EndQuorumEpoch', 54, 0, 1, 1],
  ['DescribeQuorum', 55, 0, 2, 0],
  ['AlterPartition', 56, 0, 3, 0],
  ['FetchSnapshot', 59, 0, 1, 0],
  ['DescribeCluster', 60, 0, 1, 0],
  ['BrokerRegistration', 62, 0, 4, 0],
  ['BrokerHeartbeat', 63, 0, 1, 0],
  ['UnregisterBroker', 64, 0, 0, 0],
  ['AllocateProducerIds', 67, 0, 0, 0],
];

describe('message descriptions', () => {
  it('cover exactly the APIs in the table', () => {
    expect(allSpecs().map((spec) => spec.apiKey)).toEqual(expected.map((row) => row[1]).sort((a, b) => a - b));
  });

  for (const [name, apiKey, minVersion, maxVersion, flexibleFrom] of expected) {
    it(`${name} serves v${minVersion}-${maxVersion}, flexible from ${flexibleFrom ?? 'never'}`, () => {
      const spec = specFor(apiKey);
      expect(spec?.name).toBe(name);
      expect(ApiKey[name as keyof typeof ApiKey]).toBe(apiKey);
      expect([spec?.minVersion, spec?.maxVersion, spec?.flexibleFrom]).toEqual([minVersion, maxVersion, flexibleFrom]);
      expect(isVersionServed(apiKey, minVersion - 1)).toBe(false);
      expect(isVersionServed(apiKey, maxVersion + 1)).toBe(false);
    });
  }

  it('request header is v2 exactly for flexible versions, response header v1 except for ApiVersions', () => {
    expect(requestHeaderVersion(ApiKey.Metadata, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Metadata, 9)).toBe(2);
    expect(responseHeaderVersion(ApiKey.Metadata, 8)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Metadata, 9)).toBe(1);
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
    expect(requestHeaderVersion(ApiKey.DescribeCluster, 0)).toBe(2);
  });

  it('advertise every described API but SASL, the quorum APIs and the controller APIs (ElectLeaders aside: admin clients send it to brokers) by default, and only the given keys when asked', () => {
    const advertised = servedApiVersions().map((range) => range.apiKey);
    expect(advertised).not.toContain(ApiKey.SaslHandshake);
    for (const quorumApi of [ApiKey.Vote, ApiKey.BeginQuorumEpoch, ApiKey.EndQuorumEpoch, ApiKey.DescribeQuorum, ApiKey.FetchSnapshot]) {
      expect(advertised).not.toContain(quorumApi);
      expect(specFor(quorumApi)).toBeDefined();
    }
    expect(advertised).toContain(ApiKey.ElectLeaders);
    for (const controllerApi of [ApiKey.AlterPartition, ApiKey.BrokerRegistration, ApiKey.BrokerHeartbeat, ApiKey.UnregisterBroker, ApiKey.AllocateProducerIds]) {
      expect(advertised).not.toContain(controllerApi);
      expect(specFor(controllerApi)).toBeDefined();
    }
    expect(advertised).toContain(ApiKey.Fetch);
    expect(servedApiVersions([ApiKey.Fetch, ApiKey.SaslHandshake, 999])).toEqual([
      { apiKey: 1, minVersion: 4, maxVersion: 13 },
      { apiKey: 17, minVersion: 0, maxVersion: 1 },
    ]);
  });

  it('tell whether a top-level field exists in a version', () => {
    expect(hasField(ApiKey.Fetch, 6, 'response', 'errorCode')).toBe(false);
    expect(hasField(ApiKey.Fetch, 7, 'response', 'errorCode')).toBe(true);
    expect(hasField(ApiKey.FindCoordinator, 4, 'response', 'errorCode')).toBe(false);
    expect(hasField(ApiKey.Metadata, 10, 'request', 'includeClusterAuthorizedOperations')).toBe(true);
    expect(hasField(ApiKey.Metadata, 11, 'request', 'includeClusterAuthorizedOperations')).toBe(false);
    expect(hasField(ApiKey.Fetch, 99, 'response', 'errorCode')).toBe(false);
  });
});
