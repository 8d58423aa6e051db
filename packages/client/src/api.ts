/**
 * The Kafka APIs the client calls: key numbers (Kafka's) and the highest version this client
 * writes bodies for. The transport picks min(ours, the broker's max) after ApiVersions. Bodies are
 * written with the fields of the newest version; older versions' encoders ignore fields they lack.
 */
import { ApiKey } from '@gregor/protocol';

/** Kafka's API key numbers (from `@gregor/protocol`). */
export const Api = ApiKey;

/** Highest version of each API whose body shape the client code below knows. */
export const CLIENT_MAX_VERSION: Readonly<Record<number, number>> = {
  [Api.Produce]: 10,
  [Api.Fetch]: 13,
  [Api.ListOffsets]: 7,
  [Api.Metadata]: 12,
  [Api.OffsetCommit]: 9,
  [Api.OffsetFetch]: 9,
  [Api.FindCoordinator]: 4,
  [Api.JoinGroup]: 9,
  [Api.Heartbeat]: 4,
  [Api.LeaveGroup]: 5,
  [Api.SyncGroup]: 5,
  [Api.DescribeGroups]: 5,
  [Api.ListGroups]: 4,
  [Api.ApiVersions]: 3,
  [Api.CreateTopics]: 7,
  [Api.DeleteTopics]: 6,
  [Api.DeleteRecords]: 2,
  [Api.InitProducerId]: 4,
  [Api.DescribeConfigs]: 4,
  [Api.AlterConfigs]: 2,
  [Api.DescribeLogDirs]: 4,
  [Api.CreatePartitions]: 3,
  [Api.DeleteGroups]: 2,
  [Api.IncrementalAlterConfigs]: 1,
  [Api.ElectLeaders]: 2,
  [Api.AlterPartitionReassignments]: 1,
  [Api.ListPartitionReassignments]: 0,
  [Api.OffsetDelete]: 0,
  [Api.DescribeClientQuotas]: 1,
  [Api.AlterClientQuotas]: 1,
  [Api.DescribeCluster]: 1,
  [Api.DescribeAcls]: 3,
  [Api.CreateAcls]: 3,
  [Api.DeleteAcls]: 3,
  [Api.DescribeUserScramCredentials]: 0,
  [Api.AlterUserScramCredentials]: 0,
};

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The highest version both sides support for each API, from an ApiVersions response. */
export function negotiateVersions(served: readonly ApiVersionRange[]): Map<number, number> {
  const chosen = new Map<number, number>();
  for (const { apiKey, minVersion, maxVersion } of served) {
    const ours = CLIENT_MAX_VERSION[apiKey];
    if (ours === undefined) continue;
    const version = Math.min(ours, maxVersion);
    if (version >= minVersion) chosen.set(apiKey, version);
  }
  return chosen;
}
