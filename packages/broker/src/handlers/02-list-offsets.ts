/**
 * ListOffsets (API key 2), versions 0-7.
 * v0 (Kafka's legacy offsets-before request) answers up to maxNumOffsets offsets, newest first:
 * the segments' base offsets (the first at the log start offset) and the log end offset, keeping
 * those whose segment was last written at or before the timestamp (-1: start from the end, -2:
 * only the log start offset); a consumer (replicaId -1) never sees offsets above the high
 * watermark, which is answered in their place. Timestamps below -2 are UNSUPPORTED_VERSION.
 * Deviation: Kafka uses each segment file's modification time; Gregor uses the segment's largest
 * record timestamp (the same for CreateTime data written in time order), so the answer does not
 * depend on the file system's clock.
 * v1+:
 * Timestamp -2 (earliest) answers the log start offset, -1 (latest) the high watermark (the last
 * stable offset for read_committed, equal to it without transactions), -3 (max timestamp, v7) the
 * offset of the batch with the largest timestamp, and t >= 0 the first offset whose timestamp is
 * >= t (offset -1 when there is none below the high watermark).
 * leaderEpoch is the epoch that wrote the answered offset (the current one for latest).
 * Only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere; FENCED_LEADER_EPOCH /
 * UNKNOWN_LEADER_EPOCH for a stale or future currentLeaderEpoch). A follower asking (replicaId >= 0)
 * gets the log end offset as latest. A client asking for latest, or for a timestamp, right after a
 * leader change, while the new leader's HW is still below the start of its epoch, gets
 * OFFSET_NOT_AVAILABLE (retriable), as Kafka: the HW it would answer could be below one the client
 * already saw from the previous leader.
 * A failing disk (a read of the log that throws EIO) is KAFKA_STORAGE_ERROR for that partition.
 * Deviations: throttleTimeMs is 0.
 * Authorization (v1+): Describe on each topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import { decodeBatch, forEachBatch, readBatchHeader, TimestampType } from '@gregor/records';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { type Partition, storageErrorCode } from '../partition.js';
import type { ListOffsetsRequest, ListOffsetsResponseInput } from '@gregor/protocol';
import type { Entry } from './types.js';

export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;
export const MAX_TIMESTAMP = -3;
/** Bytes read per step while scanning batch headers for the max timestamp. */
const SCAN_READ_BYTES = 1024 * 1024;

type TopicAnswer = Entry<ListOffsetsResponseInput['topics']>;
type PartitionAnswer = Entry<TopicAnswer['partitions']>;

export function handleListOffsets(broker: Broker, apiVersion: number, body: ListOffsetsRequest, context: RequestContext = {}): ListOffsetsResponseInput {
  if (apiVersion === 0) return listOffsetsV0(broker, body);
  const isReplica = (body.replicaId ?? -1) >= 0;
  const topics = (body.topics ?? []).map((topicRequest): TopicAnswer => {
    const authorized = isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.TOPIC, topicRequest.name);
    const partitions = (topicRequest.partitions ?? []).map((request): PartitionAnswer => {
      const fail = (errorCode: number): PartitionAnswer => ({ partitionIndex: request.partitionIndex, errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 });
      if (!authorized) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const partition = broker.hostedPartition(topicRequest.name, request.partitionIndex);
      if (typeof partition === 'number') return fail(partition);
      const leaderError = partition.leaderError(request.currentLeaderEpoch ?? -1);
      if (leaderError !== ErrorCode.NONE) return fail(leaderError);
      if (isReplica && request.timestamp === LATEST_TIMESTAMP) return { partitionIndex: request.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1, offset: partition.logEndOffset, leaderEpoch: partition.leaderEpoch };
      const epochStart = partition.leaderEpochStartOffset;
      if (!isReplica && request.timestamp !== EARLIEST_TIMESTAMP && epochStart !== null && epochStart > partition.highWatermark) return fail(ErrorCode.OFFSET_NOT_AVAILABLE);
      let found: { timestamp: number; offset: number };
      try {
        found = offsetFor(partition, request.timestamp);
      } catch (error) {
        return fail(storageErrorCode(error));
      }
      const leaderEpoch = found.offset < 0 ? -1 : request.timestamp === LATEST_TIMESTAMP ? partition.leaderEpoch : epochForOffset(partition, found.offset);
      return { partitionIndex: request.partitionIndex, errorCode: ErrorCode.NONE, ...found, leaderEpoch };
    });
    return { name: topicRequest.name, partitions };
  });
  return { throttleTimeMs: 0, topics };
}

/** The leader epoch that wrote `offset`, from the leader-epoch checkpoint (KIP-320 validation). */
function epochForOffset(partition: Partition, offset: number): number {
  let epoch = -1;
  for (const entry of partition.log.leaderEpochs.entries()) {
    if (entry.startOffset > offset) break;
    epoch = entry.epoch;
  }
  return epoch;
}

function offsetFor(partition: Partition, timestamp: number): { timestamp: number; offset: number } {
  if (timestamp === EARLIEST_TIMESTAMP) return { timestamp: -1, offset: partition.logStartOffset };
  if (timestamp === LATEST_TIMESTAMP) return { timestamp: -1, offset: partition.highWatermark };
  if (timestamp === MAX_TIMESTAMP) return maxTimestampOffset(partition);
  if (timestamp < 0) return { timestamp: -1, offset: -1 };
  const offset = partition.log.offsetForTimestamp(timestamp);
  if (offset === undefined || offset >= partition.highWatermark) return { timestamp: -1, offset: -1 };
  return { timestamp: recordTimestamp(partition, offset), offset };
}

/** The timestamp of the record at `offset` (Kafka answers it beside the offset). */
function recordTimestamp(partition: Partition, offset: number): number {
  const { records } = partition.log.read(offset, { maxBytes: 1, maxOffset: partition.highWatermark, minOneBatch: true });
  if (records.length === 0) return -1;
  const batch = decodeBatch(records, 0);
  if (batch.timestampType === TimestampType.logAppendTime) return batch.maxTimestamp;
  for (const record of batch.records()) if (record.offset === offset) return record.timestamp;
  return -1;
}

/** Scans batch headers below the HW for the largest maxTimestamp (Kafka answers that batch's offset). */
function maxTimestampOffset(partition: Partition): { timestamp: number; offset: number } {
  let best = { timestamp: -1, offset: -1 };
  let offset = partition.logStartOffset;
  const end = partition.highWatermark;
  // Each step moves past at least one whole batch, so the loop ends.
  while (offset < end) {
    const { records } = partition.log.read(offset, { maxBytes: SCAN_READ_BYTES, maxOffset: end, minOneBatch: true });
    if (records.length === 0) break;
    let next = offset;
    forEachBatch(records, (position) => {
      const header = readBatchHeader(records, position);
      if (header.maxTimestamp > best.timestamp) best = { timestamp: header.maxTimestamp, offset: header.lastOffset };
      next = Math.max(next, header.lastOffset + 1);
    }, { allowPartialTail: true });
    if (next === offset) break;
    offset = next;
  }
  return best;
}

/** Kafka's legacyFetchOffsetsBefore, for ListOffsets v0. */
function listOffsetsV0(broker: Broker, request: ListOffsetsRequest): ListOffsetsResponseInput {
  const topics = request.topics.map((topicRequest): TopicAnswer => ({
    name: topicRequest.name,
    partitions: topicRequest.partitions.map((partitionRequest) => {
      const answer = (errorCode: number, oldStyleOffsets: number[] = []): PartitionAnswer => ({ partitionIndex: partitionRequest.partitionIndex, errorCode, oldStyleOffsets });
      const partition = broker.hostedPartition(topicRequest.name, partitionRequest.partitionIndex);
      if (typeof partition === 'number') return answer(partition);
      if (!partition.isLeader) return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      if (partitionRequest.timestamp < EARLIEST_TIMESTAMP) return answer(ErrorCode.UNSUPPORTED_VERSION);
      const offsets = offsetsBefore(partition, partitionRequest.timestamp, partitionRequest.maxNumOffsets, broker.clock.now());
      const forConsumer = request.replicaId === -1;
      return answer(ErrorCode.NONE, forConsumer ? capAtHighWatermark(offsets, partition.highWatermark) : offsets);
    }),
  }));
  return { topics };
}

function offsetsBefore(partition: Partition, timestamp: number, maxNumOffsets: number, nowMs: number): number[] {
  const segments = partition.log.segmentSummaries();
  const candidates = segments.map((segment) => ({ offset: Math.max(segment.baseOffset, partition.logStartOffset), writtenMs: segment.maxTimestamp }));
  if (segments[segments.length - 1].sizeBytes > 0) candidates.push({ offset: partition.logEndOffset, writtenMs: nowMs });
  let start: number;
  if (timestamp === LATEST_TIMESTAMP) start = candidates.length - 1;
  else if (timestamp === EARLIEST_TIMESTAMP) start = 0;
  else {
    start = candidates.length - 1;
    while (start >= 0 && candidates[start].writtenMs > timestamp) start--;
  }
  const offsets: number[] = [];
  for (let index = start; index >= 0 && offsets.length < maxNumOffsets; index--) offsets.push(candidates[index].offset);
  return offsets.sort((a, b) => b - a);
}

/** A consumer must not see offsets above the high watermark: the HW stands in for them. */
function capAtHighWatermark(offsets: number[], highWatermark: number): number[] {
  if (!offsets.some((offset) => offset > highWatermark)) return offsets;
  return [highWatermark, ...offsets.filter((offset) => offset <= highWatermark)];
}
