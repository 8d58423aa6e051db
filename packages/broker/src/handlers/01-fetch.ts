/**
 * Fetch (API key 1), versions 4-13 (v13 addresses topics by topic id). Only the leader serves it.
 * A consumer (replicaId -1) reads whole batches up to the high watermark; a follower (replicaId =
 * its broker id, an assigned replica) reads up to the log end offset, and its fetch offset is what
 * the leader knows of its log (updateFollowerFetchState: ISR expansion, the HW). A consumer's read
 * checks each batch's CRC on the way out (damage on disk stops the read there, with a warning); a
 * follower's does not, since the follower checks every batch before appending it. At most maxBytes
 * per response (and fetch.max.bytes) and partitionMaxBytes per partition, but at least one batch
 * even when it is larger (as Kafka >= 0.10.1). Long poll: with fewer than minBytes available the
 * request parks until an append (or a HW move, for consumers) brings enough, an error shows up
 * (leadership moved), or maxWaitMs passes on the broker's clock.
 * Errors per partition: NOT_LEADER_OR_FOLLOWER on a broker that does not lead it; FENCED_LEADER_EPOCH
 * / UNKNOWN_LEADER_EPOCH for a stale or future currentLeaderEpoch (v9+); a replica id that is not
 * an assigned follower gets UNKNOWN_LEADER_EPOCH (with an epoch) or NOT_LEADER_OR_FOLLOWER, as
 * Kafka; OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]; OFFSET_NOT_AVAILABLE to a
 * consumer while a new leader's HW has not reached the start of its epoch (see below). A failing disk is
 * KAFKA_STORAGE_ERROR, or NOT_LEADER_OR_FOLLOWER for v4-5 (as Kafka down-converts it).
 * Authorization (with an authorizer): a consumer needs Read on each topic, a follower ClusterAction
 * on the cluster; else TOPIC_AUTHORIZATION_FAILED for those partitions.
 * Deviations: fetch sessions (KIP-227, v7+) are not kept: every answer has sessionId 0, so clients
 * stay on full fetches, and a request naming a sessionId gets FETCH_SESSION_ID_NOT_FOUND;
 * isolationLevel is accepted, and read_committed reads up to the high watermark (no transactions
 * yet, so the last stable offset equals it); abortedTransactions is null; throttleTimeMs is 0.
 * OFFSET_NOT_AVAILABLE on a lagging new leader is Kafka's rule for ListOffsets applied to Fetch
 * too (Kafka's Fetch answers the lagging HW): a consumer never sees the HW go back (Kafka's Java
 * consumer retries the error after a metadata refresh; see docs/decisions.md).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { AclOperation, ErrorCode, type FetchRequest, type FetchResponseInput, ResourceType } from '@gregor/protocol';
import { batchesIn } from '@gregor/records';
import { isAuthorized, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import type { Partition } from '../partition.js';
import type { Entry } from './types.js';

const fetchChannel = diagnosticsChannel.channel('gregor:broker:fetch');
const EMPTY = Buffer.alloc(0);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** The answer readPartitions builds, with the fields finish and topicsOut read back set. */
type FetchAnswer = Pick<Required<FetchResponseInput>, 'throttleTimeMs' | 'errorCode' | 'sessionId'> & { responses: TopicAnswer[] };
type TopicAnswer = Pick<Required<Entry<FetchResponseInput['responses']>>, 'topic' | 'topicId'> & { partitions: PartitionAnswer[] };
type PartitionAnswer = Entry<Entry<FetchResponseInput['responses']>['partitions']> & { records: Buffer | null };

interface FetchRead {
  response: FetchAnswer;
  bytes: number;
  hasError: boolean;
  partitions: Partition[];
  /** A follower's fetch (replicaId >= 0): Kafka counts its bytes as replication, not as bytes out. */
  replica: boolean;
}

export function handleFetch(broker: Broker, apiVersion: number, body: FetchRequest, context: RequestContext = {}): FetchResponseInput | Promise<FetchResponseInput> {
  const startMs = broker.clock.now();
  if (apiVersion >= 7 && (body.sessionId ?? 0) !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const isReplica = (body.replicaId ?? -1) >= 0;
  const replicaAuthorized = isReplica && isClusterAuthorized(broker, context, AclOperation.CLUSTER_ACTION);
  const mayRead = (topic: string): boolean => (isReplica ? replicaAuthorized : isAuthorized(broker, context, AclOperation.READ, ResourceType.TOPIC, topic));
  const waitLimitMs = isReplica ? broker.config.replicaFetchWaitMaxMs : broker.config.fetchWaitMaxMs;
  const maxWaitMs = Math.min(Math.max(0, body.maxWaitMs ?? 0), waitLimitMs);
  const minBytes = Math.max(0, body.minBytes ?? 0);
  const first = readPartitions(broker, apiVersion, body, isReplica, mayRead, true);
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
    // Appends, HW moves and leadership changes wake the fetch; checks are coalesced so a burst of
    // appends costs one read.
    const onChange = (): void => {
      if (checkScheduled || done) return;
      checkScheduled = true;
      queueMicrotask(() => {
        checkScheduled = false;
        if (done) return;
        const read = readPartitions(broker, apiVersion, body, isReplica, mayRead);
        if (read.hasError || read.bytes >= minBytes) complete(read);
      });
    };
    const unsubscribers = first.partitions.map((partition) => partition.onChange(onChange));
    const timer = broker.clock.setTimeout(() => complete(readPartitions(broker, apiVersion, body, isReplica, mayRead)), maxWaitMs);
    const unsubscribeClose = broker.onClose(() => complete(first));
  });
}

function finish(read: FetchRead, startMs: number, broker: Broker): FetchResponseInput {
  if (fetchChannel.hasSubscribers) {
    fetchChannel.publish({ bytes: read.bytes, partitions: read.partitions.length, waitedMs: broker.clock.now() - startMs, replica: read.replica, topics: topicsOut(read.response) });
  }
  return read.response;
}

/** Bytes and records answered per topic (whole batches, as sent), for the channel's subscribers. */
function topicsOut(response: FetchAnswer): { topic: string; bytes: number; records: number }[] {
  const out: { topic: string; bytes: number; records: number }[] = [];
  for (const topic of response.responses) {
    let bytes = 0;
    let records = 0;
    for (const partition of topic.partitions) {
      const set = partition.records;
      if (set === null || set.length === 0) continue;
      bytes += set.length;
      // recordCount is the int32 at offset 57 of a RecordBatch v2 header.
      for (const { position } of batchesIn(set, { allowPartialTail: true })) records += set.readInt32BE(position + 57);
    }
    if (bytes > 0) out.push({ topic: topic.topic, bytes, records });
  }
  return out;
}

/**
 * One read of every requested partition. `updateFetchState` is true for the read when the request
 * arrives (Kafka updates a follower's state then, not again when a parked fetch completes).
 */
function readPartitions(broker: Broker, apiVersion: number, body: FetchRequest, isReplica: boolean, mayRead: (topic: string) => boolean, updateFetchState = false): FetchRead {
  let remaining = Math.min(body.maxBytes ?? 0x7fffffff, broker.config.fetchMaxBytes);
  let bytes = 0;
  let hasError = false;
  const partitions: Partition[] = [];
  const responses = (body.topics ?? []).map((topicRequest): TopicAnswer => {
    const topic = apiVersion >= 13 ? broker.image.topicsById.get(topicRequest.topicId) : broker.image.topic(topicRequest.topic);
    const unknownTopicError = apiVersion >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const topicName: string | undefined = topic?.name ?? (apiVersion >= 13 ? undefined : topicRequest.topic);
    const authorized = topicName === undefined || mayRead(topicName);
    const partitionResponses = (topicRequest.partitions ?? []).map((request): PartitionAnswer => {
      const fail = (errorCode: number): PartitionAnswer => {
        hasError = true;
        return errorPartition(request.partition, errorCode);
      };
      if (!authorized) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      if (topic === undefined) return fail(unknownTopicError);
      const partition = broker.hostedPartition(topic.name, request.partition);
      if (typeof partition === 'number') return fail(partition);
      partitions.push(partition);
      const currentLeaderEpoch = request.currentLeaderEpoch ?? -1;
      const leaderError = partition.leaderError(currentLeaderEpoch);
      if (leaderError !== ErrorCode.NONE) return fail(leaderError);
      // A new leader learns the HW from its followers' fetches: until it reaches the start of this
      // leader's epoch it may be below the one the previous leader showed, so a consumer would see
      // its HW go back. As Kafka's ListOffsets, answer OFFSET_NOT_AVAILABLE (retriable) meanwhile.
      const epochStart = partition.leaderEpochStartOffset;
      if (!isReplica && epochStart !== null && epochStart > partition.highWatermark) return fail(ErrorCode.OFFSET_NOT_AVAILABLE);
      if (isReplica && !partition.isFollower(body.replicaId)) {
        // Kafka's followerReplicaOrThrow: a replica this leader does not know (yet).
        return fail(currentLeaderEpoch >= 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER);
      }
      const limit = Math.min(Math.max(0, request.partitionMaxBytes ?? 0), remaining);
      const read = limit > 0 || bytes === 0
        ? partition.read(request.fetchOffset, limit, bytes === 0, isReplica)
        : partition.read(request.fetchOffset, 0, false, isReplica);
      if (read.errorCode !== ErrorCode.NONE) {
        // As Kafka: clients of v5 and older may not know KAFKA_STORAGE_ERROR and would give up;
        // NOT_LEADER_OR_FOLLOWER makes them refresh metadata and retry.
        const storageError = read.errorCode === ErrorCode.KAFKA_STORAGE_ERROR && apiVersion <= 5;
        return fail(storageError ? ErrorCode.NOT_LEADER_OR_FOLLOWER : read.errorCode);
      }
      // The follower holds everything below its fetch offset (Kafka's updateFollowerFetchState,
      // measured against the LEO as it was before the read).
      if (isReplica && updateFetchState) {
        // The follower's broker epoch: Fetch v15's replicaState would carry it; the registration in this broker's image stands in.
        const followerEpoch = broker.image.brokers.get(body.replicaId)?.epoch ?? -1;
        partition.updateFollowerFetchState(body.replicaId, request.fetchOffset, request.logStartOffset ?? -1, read.logEndOffset, followerEpoch);
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
    return { topic: topic?.name ?? topicRequest.topic ?? '', topicId: topic?.id ?? topicRequest.topicId ?? ZERO_UUID, partitions: partitionResponses };
  });
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes, hasError, partitions, replica: isReplica };
}

function errorPartition(partitionIndex: number, errorCode: number): PartitionAnswer {
  return {
    partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
    abortedTransactions: null, preferredReadReplica: -1, records: EMPTY,
  };
}
