/** The handler of each API key this broker serves; Broker.handle dispatches through it. */
import { ApiKey, type DescribedApiKey } from '@gregor/protocol';
import { handleProduce } from './00-produce.js';
import { handleFetch } from './01-fetch.js';
import { handleListOffsets } from './02-list-offsets.js';
import { handleMetadata } from './03-metadata.js';
import { handleOffsetCommit } from './08-offset-commit.js';
import { handleOffsetFetch } from './09-offset-fetch.js';
import { handleFindCoordinator } from './10-find-coordinator.js';
import { handleJoinGroup } from './11-join-group.js';
import { handleHeartbeat } from './12-heartbeat.js';
import { handleLeaveGroup } from './13-leave-group.js';
import { handleSyncGroup } from './14-sync-group.js';
import { handleDescribeGroups } from './15-describe-groups.js';
import { handleListGroups } from './16-list-groups.js';
import { makeApiVersionsHandler } from './18-api-versions.js';
import { handleCreateTopics } from './19-create-topics.js';
import { handleDeleteTopics } from './20-delete-topics.js';
import { handleDeleteRecords } from './21-delete-records.js';
import { handleInitProducerId } from './22-init-producer-id.js';
import { handleOffsetForLeaderEpoch } from './23-offset-for-leader-epoch.js';
import { handleDescribeConfigs } from './32-describe-configs.js';
import { handleCreatePartitions } from './37-create-partitions.js';
import { handleElectLeaders } from './43-elect-leaders.js';
import { handleAlterPartitionReassignments } from './45-alter-partition-reassignments.js';
import { handleListPartitionReassignments } from './46-list-partition-reassignments.js';
import { handleAlterConfigs } from './33-alter-configs.js';
import { handleDescribeLogDirs } from './35-describe-log-dirs.js';
import { handleDeleteGroups } from './42-delete-groups.js';
import { handleIncrementalAlterConfigs } from './44-incremental-alter-configs.js';
import { handleOffsetDelete } from './47-offset-delete.js';
import { handleDescribeClientQuotas } from './48-describe-client-quotas.js';
import { handleAlterClientQuotas } from './49-alter-client-quotas.js';
import { handleDescribeCluster } from './60-describe-cluster.js';
import type { AnyHandler, Handler } from './types.js';

/**
 * One registry entry. The typed handler of K is stored as an AnyHandler: Broker.handle passes it
 * the body `@gregor/protocol` decoded for the same API key, which is a RequestBody<K>.
 */
function served<K extends DescribedApiKey>(apiKey: K, handler: Handler<K>): [number, AnyHandler] {
  return [apiKey, handler as unknown as AnyHandler];
}

const table: [number, AnyHandler][] = [
  served(ApiKey.Produce, handleProduce),
  served(ApiKey.Fetch, handleFetch),
  served(ApiKey.ListOffsets, handleListOffsets),
  served(ApiKey.Metadata, handleMetadata),
  served(ApiKey.OffsetCommit, handleOffsetCommit),
  served(ApiKey.OffsetFetch, handleOffsetFetch),
  served(ApiKey.FindCoordinator, handleFindCoordinator),
  served(ApiKey.JoinGroup, handleJoinGroup),
  served(ApiKey.Heartbeat, handleHeartbeat),
  served(ApiKey.LeaveGroup, handleLeaveGroup),
  served(ApiKey.SyncGroup, handleSyncGroup),
  served(ApiKey.DescribeGroups, handleDescribeGroups),
  served(ApiKey.ListGroups, handleListGroups),
  served(ApiKey.CreateTopics, handleCreateTopics),
  served(ApiKey.DeleteTopics, handleDeleteTopics),
  served(ApiKey.DeleteRecords, handleDeleteRecords),
  served(ApiKey.InitProducerId, handleInitProducerId),
  served(ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch),
  served(ApiKey.DescribeConfigs, handleDescribeConfigs),
  served(ApiKey.AlterConfigs, handleAlterConfigs),
  served(ApiKey.DescribeLogDirs, handleDescribeLogDirs),
  served(ApiKey.CreatePartitions, handleCreatePartitions),
  served(ApiKey.DeleteGroups, handleDeleteGroups),
  served(ApiKey.IncrementalAlterConfigs, handleIncrementalAlterConfigs),
  served(ApiKey.ElectLeaders, handleElectLeaders),
  served(ApiKey.AlterPartitionReassignments, handleAlterPartitionReassignments),
  served(ApiKey.ListPartitionReassignments, handleListPartitionReassignments),
  served(ApiKey.OffsetDelete, handleOffsetDelete),
  served(ApiKey.DescribeClientQuotas, handleDescribeClientQuotas),
  served(ApiKey.AlterClientQuotas, handleAlterClientQuotas),
  served(ApiKey.DescribeCluster, handleDescribeCluster),
];

export const handledApiKeys: ReadonlySet<number> = new Set([...table.map(([apiKey]) => apiKey), ApiKey.ApiVersions]);

export const handlers: ReadonlyMap<number, AnyHandler> = new Map<number, AnyHandler>([
  ...table,
  served(ApiKey.ApiVersions, makeApiVersionsHandler(handledApiKeys)),
]);
