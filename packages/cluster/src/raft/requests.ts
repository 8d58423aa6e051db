/**
 * The quorum's request and response bodies for the one partition it replicates (Kafka's
 * `RaftUtil`): builders that fill every field the other side reads, in the shapes of
 * `@gregor/protocol`'s descriptions, and `singlePartition` to pick the partition out of a body.
 * Pure functions.
 */
import type {
  BeginQuorumEpochRequestInput,
  BeginQuorumEpochResponseInput,
  DescribeQuorumResponseInput,
  EndQuorumEpochRequestInput,
  EndQuorumEpochResponseInput,
  FetchRequestInput,
  FetchResponseInput,
  FetchSnapshotRequestInput,
  FetchSnapshotResponseInput,
  VoteRequestInput,
  VoteResponseInput,
} from '@gregor/protocol';
import type { ReplicaProgress } from './leader-state.js';
import { METADATA_PARTITION, METADATA_TOPIC, METADATA_TOPIC_ID } from './records.js';
import type { SnapshotId } from './snapshots.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The only partition of a quorum request or response, if the body names exactly
 * `__cluster_metadata` partition 0 (by name, or by topic id in Fetch v13+); else undefined.
 */
export function singlePartition<P extends { partitionIndex?: number; partition?: number; index?: number }>(
  topics: ReadonlyArray<{ topicName?: string; topic?: string; name?: string; topicId?: string; partitions: readonly P[] }> | undefined,
): P | undefined {
  if (topics?.length !== 1) return undefined;
  const topic = topics[0];
  const name = topic.topicName ?? topic.topic ?? topic.name;
  const named = name === METADATA_TOPIC || (topic.topicId === METADATA_TOPIC_ID && (name === undefined || name === '' || name === METADATA_TOPIC));
  if (!named || topic.partitions.length !== 1) return undefined;
  const partition = topic.partitions[0];
  const index = partition.partitionIndex ?? partition.partition ?? partition.index;
  return index === METADATA_PARTITION ? partition : undefined;
}

export function voteRequest(fields: { clusterId: string; voterId: number; epoch: number; candidateId: number; lastEpoch: number; lastOffset: number; preVote: boolean }): VoteRequestInput {
  return {
    clusterId: fields.clusterId,
    voterId: fields.voterId,
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            replicaEpoch: fields.epoch,
            replicaId: fields.candidateId,
            replicaDirectoryId: ZERO_UUID,
            voterDirectoryId: ZERO_UUID,
            lastOffsetEpoch: fields.lastEpoch,
            lastOffset: fields.lastOffset,
            preVote: fields.preVote,
          },
        ],
      },
    ],
  };
}

export function voteResponse(fields: { errorCode: number; partitionErrorCode?: number; epoch: number; leaderId: number; voteGranted: boolean }): VoteResponseInput {
  return {
    errorCode: fields.errorCode,
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: fields.partitionErrorCode ?? 0, leaderId: fields.leaderId, leaderEpoch: fields.epoch, voteGranted: fields.voteGranted }],
      },
    ],
    nodeEndpoints: [],
  };
}

export function beginQuorumEpochRequest(fields: { clusterId: string; voterId: number; leaderId: number; epoch: number }): BeginQuorumEpochRequestInput {
  return {
    clusterId: fields.clusterId,
    voterId: fields.voterId,
    topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, voterDirectoryId: ZERO_UUID, leaderId: fields.leaderId, leaderEpoch: fields.epoch }] }],
    leaderEndpoints: [],
  };
}

/** The answer shape of BeginQuorumEpoch and EndQuorumEpoch. */
export function quorumEpochResponse(fields: { errorCode: number; partitionErrorCode?: number; epoch: number; leaderId: number }): BeginQuorumEpochResponseInput & EndQuorumEpochResponseInput {
  return {
    errorCode: fields.errorCode,
    topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: fields.partitionErrorCode ?? 0, leaderId: fields.leaderId, leaderEpoch: fields.epoch }] }],
    nodeEndpoints: [],
  };
}

export function endQuorumEpochRequest(fields: { clusterId: string; leaderId: number; epoch: number; preferredSuccessors: readonly number[] }): EndQuorumEpochRequestInput {
  return {
    clusterId: fields.clusterId,
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            leaderId: fields.leaderId,
            leaderEpoch: fields.epoch,
            preferredSuccessors: [...fields.preferredSuccessors],
            preferredCandidates: fields.preferredSuccessors.map((candidateId) => ({ candidateId, candidateDirectoryId: ZERO_UUID })),
          },
        ],
      },
    ],
    leaderEndpoints: [],
  };
}

export function fetchRequest(fields: {
  clusterId: string;
  replicaId: number;
  epoch: number;
  fetchOffset: number;
  lastFetchedEpoch: number;
  maxWaitMs: number;
  maxBytes: number;
}): FetchRequestInput {
  return {
    clusterId: fields.clusterId,
    replicaId: fields.replicaId,
    maxWaitMs: fields.maxWaitMs,
    minBytes: 0,
    maxBytes: fields.maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: METADATA_TOPIC,
        topicId: METADATA_TOPIC_ID,
        partitions: [
          {
            partition: METADATA_PARTITION,
            currentLeaderEpoch: fields.epoch,
            fetchOffset: fields.fetchOffset,
            lastFetchedEpoch: fields.lastFetchedEpoch,
            logStartOffset: -1,
            partitionMaxBytes: fields.maxBytes,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export interface FetchAnswer {
  errorCode: number;
  partitionErrorCode: number;
  leaderId: number;
  epoch: number;
  highWatermark: number;
  logStartOffset: number;
  records: Buffer | null;
  divergingEpoch?: { epoch: number; endOffset: number };
  snapshotId?: SnapshotId;
}

export function fetchResponse(answer: FetchAnswer): FetchResponseInput {
  return {
    throttleTimeMs: 0,
    errorCode: answer.errorCode,
    sessionId: 0,
    responses: [
      {
        topic: METADATA_TOPIC,
        topicId: METADATA_TOPIC_ID,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode: answer.partitionErrorCode,
            highWatermark: answer.highWatermark,
            lastStableOffset: answer.highWatermark,
            logStartOffset: answer.logStartOffset,
            divergingEpoch: answer.divergingEpoch ?? { epoch: -1, endOffset: -1 },
            currentLeader: { leaderId: answer.leaderId, leaderEpoch: answer.epoch },
            snapshotId: answer.snapshotId ? { endOffset: answer.snapshotId.endOffset, epoch: answer.snapshotId.epoch } : { endOffset: -1, epoch: -1 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: answer.records,
          },
        ],
      },
    ],
  };
}

export function fetchSnapshotRequest(fields: { clusterId: string; replicaId: number; epoch: number; snapshotId: SnapshotId; position: number; maxBytes: number }): FetchSnapshotRequestInput {
  return {
    clusterId: fields.clusterId,
    replicaId: fields.replicaId,
    maxBytes: fields.maxBytes,
    topics: [
      {
        name: METADATA_TOPIC,
        partitions: [
          {
            partition: METADATA_PARTITION,
            currentLeaderEpoch: fields.epoch,
            snapshotId: { endOffset: fields.snapshotId.endOffset, epoch: fields.snapshotId.epoch },
            position: fields.position,
            replicaDirectoryId: ZERO_UUID,
          },
        ],
      },
    ],
  };
}

export function fetchSnapshotResponse(fields: {
  errorCode: number;
  partitionErrorCode: number;
  leaderId: number;
  epoch: number;
  snapshotId: SnapshotId;
  size: number;
  position: number;
  bytes: Buffer;
}): FetchSnapshotResponseInput {
  return {
    throttleTimeMs: 0,
    errorCode: fields.errorCode,
    topics: [
      {
        name: METADATA_TOPIC,
        partitions: [
          {
            index: METADATA_PARTITION,
            errorCode: fields.partitionErrorCode,
            snapshotId: { endOffset: fields.snapshotId.endOffset, epoch: fields.snapshotId.epoch },
            currentLeader: { leaderId: fields.leaderId, leaderEpoch: fields.epoch },
            size: fields.size,
            position: fields.position,
            unalignedRecords: fields.bytes,
          },
        ],
      },
    ],
    nodeEndpoints: [],
  };
}

function replicaState(progress: ReplicaProgress) {
  return {
    replicaId: progress.replicaId,
    replicaDirectoryId: ZERO_UUID,
    logEndOffset: progress.endOffset,
    lastFetchTimestamp: progress.lastFetchTimestamp,
    lastCaughtUpTimestamp: progress.lastCaughtUpTimestamp,
  };
}

export function describeQuorumResponse(fields: {
  errorCode: number;
  partitionErrorCode: number;
  leaderId: number;
  epoch: number;
  highWatermark: number;
  voters: readonly ReplicaProgress[];
  observers: readonly ReplicaProgress[];
}): DescribeQuorumResponseInput {
  return {
    errorCode: fields.errorCode,
    errorMessage: null,
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode: fields.partitionErrorCode,
            errorMessage: null,
            leaderId: fields.leaderId,
            leaderEpoch: fields.epoch,
            highWatermark: fields.highWatermark,
            currentVoters: fields.voters.map(replicaState),
            observers: fields.observers.map(replicaState),
          },
        ],
      },
    ],
    nodes: [],
  };
}
