/** The handler of each API key this broker serves; Broker.handle dispatches through it. */
import { ApiKey } from '@gregor/protocol';
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
import type { Handler } from './types.js';

const table: [number, Handler][] = [
  [ApiKey.Produce, handleProduce],
  [ApiKey.Fetch, handleFetch],
  [ApiKey.ListOffsets, handleListOffsets],
  [ApiKey.Metadata, handleMetadata],
  [ApiKey.OffsetCommit, handleOffsetCommit],
  [ApiKey.OffsetFetch, handleOffsetFetch],
  [ApiKey.FindCoordinator, handleFindCoordinator],
  [ApiKey.JoinGroup, handleJoinGroup],
  [ApiKey.Heartbeat, handleHeartbeat],
  [ApiKey.LeaveGroup, handleLeaveGroup],
  [ApiKey.SyncGroup, handleSyncGroup],
  [ApiKey.DescribeGroups, handleDescribeGroups],
  [ApiKey.ListGroups, handleListGroups],
  [ApiKey.CreateTopics, handleCreateTopics],
  [ApiKey.DeleteTopics, handleDeleteTopics],
  [ApiKey.DeleteRecords, handleDeleteRecords],
  [ApiKey.InitProducerId, handleInitProducerId],
  [ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch],
  [ApiKey.DescribeConfigs, handleDescribeConfigs],
  [ApiKey.AlterConfigs, handleAlterConfigs],
  [ApiKey.DescribeLogDirs, handleDescribeLogDirs],
  [ApiKey.CreatePartitions, handleCreatePartitions],
  [ApiKey.DeleteGroups, handleDeleteGroups],
  [ApiKey.IncrementalAlterConfigs, handleIncrementalAlterConfigs],
  [ApiKey.ElectLeaders, handleElectLeaders],
  [ApiKey.AlterPartitionReassignments, handleAlterPartitionReassignments],
  [ApiKey.ListPartitionReassignments, handleListPartitionReassignments],
  [ApiKey.OffsetDelete, handleOffsetDelete],
  [ApiKey.DescribeClientQuotas, handleDescribeClientQuotas],
  [ApiKey.AlterClientQuotas, handleAlterClientQuotas],
  [ApiKey.DescribeCluster, handleDescribeCluster],
];

export const handledApiKeys: ReadonlySet<number> = new Set([...table.map(([apiKey]) => apiKey), ApiKey.ApiVersions]);

export const handlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  ...table,
  [ApiKey.ApiVersions, makeApiVersionsHandler(handledApiKeys)],
]);
