/**
 * Fetch (API key 1), versions 4-13 (v13 addresses topics by topic id).
 * Reads whole batches up to the high watermark (the log end offset for a fetch from an assigned
 * follower, replicaId >= 0, whose fetch offset also advances the high watermark), at most maxBytes per response (and fetch.max.bytes) and partitionMaxBytes per partition,
 * but at least one batch even when it is larger (as Kafka >= 0.10.1). Long poll: with fewer than
 * minBytes available the request parks until an append brings enough or maxWaitMs passes on the
 * broker's clock. OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]; FENCED_LEADER_EPOCH
 * / UNKNOWN_LEADER_EPOCH for a stale or future currentLeaderEpoch (v9+). A failing disk is
 * KAFKA_STORAGE_ERROR, or NOT_LEADER_OR_FOLLOWER for v4-5 (as Kafka down-converts it).
 * Deviations: fetch sessions (KIP-227, v7+) are not kept: every answer has sessionId 0, so clients
 * stay on full fetches, and a request naming a sessionId gets FETCH_SESSION_ID_NOT_FOUND;
 * isolationLevel is accepted, and read_committed reads up to the high watermark (no transactions
 * yet, so the last stable offset equals it); abortedTransactions is null; throttleTimeMs is 0.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { ErrorCode } from '@gregor/protocol';
import { batchesIn } from '@gregor/records';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import type { Partition } from '../partition.js';

const fetchChannel = diagnosticsChannel.channel('gregor:broker:fetch');
const EMPTY = Buffer.alloc(0);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

interface FetchRead {
  response: Body;
  bytes: number;
  hasError: boolean;
  partitions: Partition[];
  /** A follower's fetch (replicaId >= 0): Kafka counts its bytes as replication, not as bytes out. */
  replica: boolean;
}

export function handleFetch(broker: Broker, apiVersion: number, body: Body): Body | Promise<Body> {
  const startMs = broker.clock.now();
  if (apiVersion >= 7 && (body.sessionId ?? 0) !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const isReplica = (body.replicaId ?? -1) >= 0;
  const waitLimitMs = isReplica ? broker.config.replicaFetchWaitMaxMs : broker.config.fetchWaitMaxMs;
  const maxWaitMs = Math.min(Math.max(0, body.maxWaitMs ?? 0), waitLimitMs);
  const minBytes = Math.max(0, body.minBytes ?? 0);
  const first = readPartitions(broker, apiVersion, body, isReplica);
  if (first.hasError || first.bytes >= minBytes || maxWaitMs === 0 || broker.fetchWaiters >= broker.config.fetchWaitersMax) {
    return finish(first, startMs, broker);
  }
  return new Promise((resolve) => {
    let done = false;
    let checkScheduled = false;
    broker.fetchWaiters += 1;
    const complete = (read: FetchRead): void => {
      if (done) return;
      done = true;
      broker.fetchWaiters -= 1;
      broker.clock.clearTimeout(timer as never);
      for (const unsubscribe of unsubscribers) unsubscribe();
      unsubscribeClose();
      resolve(finish(read, startMs, broker));
    };
    // Appends wake the fetch; checks are coalesced so a burst of appends costs one read.
    const onAppend = (): void => {
      if (checkScheduled || done) return;
      checkScheduled = true;
      queueMicrotask(() => {
        checkScheduled = false;
        if (done) return;
        const read = readPartitions(broker, apiVersion, body, isReplica);
        if (read.hasError || read.bytes >= minBytes) complete(read);
      });
    };
    const unsubscribers = first.partitions.map((partition) => partition.onAppend(onAppend));
    const timer = broker.clock.setTimeout(() => complete(readPartitions(broker, apiVersion, body, isReplica)), maxWaitMs);
    const unsubscribeClose = broker.onClose(() => complete(first));
  });
}

function finish(read: FetchRead, startMs: number, broker: Broker): Body {
  if (fetchChannel.hasSubscribers) {
    fetchChannel.publish({ bytes: read.bytes, partitions: read.partitions.length, waitedMs: broker.clock.now() - startMs, replica: read.replica, topics: topicsOut(read.response) });
  }
  return read.response;
}

/** Bytes and records answered per topic (whole batches, as sent), for the channel's subscribers. */
function topicsOut(response: Body): { topic: string; bytes: number; records: number }[] {
  const out: { topic: string; bytes: number; records: number }[] = [];
  for (const topic of response.responses) {
    let bytes = 0;
    let records = 0;
    for (const partition of topic.partitions) {
      const set: Buffer | null = partition.records ?? null;
      if (set === null || set.length === 0) continue;
      bytes += set.length;
      // recordCount is the int32 at offset 57 of a RecordBatch v2 header.
      for (const { position } of batchesIn(set, { allowPartialTail: true })) records += set.readInt32BE(position + 57);
    }
    if (bytes > 0) out.push({ topic: topic.topic, bytes, records });
  }
  return out;
}

function readPartitions(broker: Broker, apiVersion: number, body: Body, isReplica: boolean): FetchRead {
  let remaining = Math.min(body.maxBytes ?? 0x7fffffff, broker.config.fetchMaxBytes);
  let bytes = 0;
  let hasError = false;
  const partitions: Partition[] = [];
  const responses = (body.topics ?? []).map((topicRequest: Body) => {
    const topic = apiVersion >= 13 ? broker.topicsById.get(topicRequest.topicId) : broker.topics.get(topicRequest.topic);
    const unknownTopicError = apiVersion >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const partitionResponses = (topicRequest.partitions ?? []).map((request: Body) => {
      const partition = topic?.partitions[request.partition];
      if (partition === undefined) {
        hasError = true;
        return errorPartition(request.partition, unknownTopicError);
      }
      partitions.push(partition);
      const epochError = leaderEpochError(partition, request.currentLeaderEpoch ?? -1);
      if (epochError !== ErrorCode.NONE) {
        hasError = true;
        return errorPartition(request.partition, epochError);
      }
      // A follower's fetch offset tells the leader what it holds (Kafka's updateFollowerFetchState).
      const isFollower = isReplica && partition.isFollower(body.replicaId);
      if (isFollower) partition.updateFollowerFetchState(body.replicaId, request.fetchOffset, broker.clock.now());
      const limit = Math.min(Math.max(0, request.partitionMaxBytes ?? 0), remaining);
      const read = limit > 0 || bytes === 0
        ? partition.read(request.fetchOffset, limit, bytes === 0, isFollower)
        : partition.read(request.fetchOffset, 0, false, isFollower);
      if (read.errorCode !== ErrorCode.NONE) {
        hasError = true;
        // As Kafka: clients of v5 and older may not know KAFKA_STORAGE_ERROR and would give up;
        // NOT_LEADER_OR_FOLLOWER makes them refresh metadata and retry.
        const storageError = read.errorCode === ErrorCode.KAFKA_STORAGE_ERROR && apiVersion <= 5;
        return errorPartition(request.partition, storageError ? ErrorCode.NOT_LEADER_OR_FOLLOWER : read.errorCode);
      }
      bytes += read.records.length;
      remaining = Math.max(0, remaining - read.records.length);
      return {
        partitionIndex: request.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: read.highWatermark,
        lastStableOffset: read.highWatermark,
        logStartOffset: read.logStartOffset,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: read.records,
      };
    });
    return { topic: topic?.name ?? topicRequest.topic ?? '', topicId: topic?.topicId ?? topicRequest.topicId ?? ZERO_UUID, partitions: partitionResponses };
  });
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes, hasError, partitions, replica: isReplica };
}

/** Kafka's checks of the client's view of the leader epoch (KIP-320); -1 skips them. */
export function leaderEpochError(partition: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0) return ErrorCode.NONE;
  if (currentLeaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (currentLeaderEpoch > partition.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

function errorPartition(partitionIndex: number, errorCode: number): Body {
  return {
    partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
    abortedTransactions: null, preferredReadReplica: -1, records: EMPTY,
  };
}
