/**
 * Produce (API key 0), versions 0-10 (as @gregor/protocol serves them). Record sets must be
 * RecordBatch v2 (magic 2) in every version: old clients' magic 0/1 message sets are refused with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT (Kafka would up-convert them).
 * acks 0, 1 and -1 (all). acks=all: with a committed ISR smaller than min.insync.replicas the
 * partition answers NOT_ENOUGH_REPLICAS and appends nothing; after the append the answer waits
 * until the high watermark passes the batch (every replica of the maximal ISR has it), then is
 * NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below min.insync.replicas meanwhile;
 * REQUEST_TIMED_OUT after timeoutMs; NOT_LEADER_OR_FOLLOWER if this broker stops leading. A
 * partition this broker does not lead is NOT_LEADER_OR_FOLLOWER (the client refreshes metadata).
 * Each partition's record set is validated before anything is appended (whole batches, magic 2,
 * CRC, max.message.bytes per batch, every record of every batch as Kafka's LogValidator, see
 * records-validation.ts, and the whole record set within segment.bytes: RECORD_LIST_TOO_LARGE);
 * malformed records are INVALID_RECORD, damaged bytes CORRUPT_MESSAGE, as in Kafka. On a
 * CreateTime topic with message.timestamp.before.max.ms / after.max.ms (or the deprecated
 * difference.max.ms) set, a record outside those bounds of the broker's clock fails the partition
 * with INVALID_TIMESTAMP (its index in recordErrors); a refused partition appends nothing.
 * A retried idempotent batch is answered with its original offsets (NONE, as Kafka does today).
 * Authorization (with an authorizer): Write on the topic, else TOPIC_AUTHORIZATION_FAILED for
 * its partitions (checked before the topic's existence, as Kafka does); with a transactionalId,
 * first Write on that TRANSACTIONAL_ID, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition.
 * Deviations: acks=0 resolves to NO_RESPONSE (null), so the server writes nothing; Produce never
 * auto-creates topics (as Kafka); transactional produce is not supported yet (an authorized
 * transactionalId is otherwise ignored, batches are appended as non-transactional data would be); throttleTimeMs is always 0.
 * Once every partition is appended or refused, `context.writeDone` lets the connection start its
 * next write: a pipelined Produce appends while this one waits for replication (answers stay in
 * order). Kafka serves one request per connection at a time, so there an acks=all Produce holds
 * back the next one for a whole replication round trip (docs/decisions.md).
 * A Produce from Gregor's producer in the same process (RequestContext.recordsBuiltByProducer)
 * skips the CRC check and the walk of every record: BatchBuilder computed those CRCs and wrote
 * that framing just before, in the same memory (the batch headers are still checked).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { AclOperation, ErrorCode, type ProduceRequest, type ProduceResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import type { AppendOutcome } from '../partition.js';
import { configNumber, LONG_MAX } from '../config-types.js';
import type { TimestampBounds } from '../timestamp-validation.js';
import type { Partition } from '../partition.js';
import { INTERNAL_TOPICS } from '../topics.js';
import type { Entry } from './types.js';

const produceChannel = diagnosticsChannel.channel('gregor:broker:produce');

type PartitionData = ProduceRequest['topicData'][number]['partitionData'][number];

type TopicResponse = Entry<ProduceResponseInput['responses']>;
type PartitionResponse = Entry<TopicResponse['partitionResponses']>;

/** A partition's answer (the fields this broker sets), and what an acks=all answer still waits for. */
type PartitionReply = Pick<Required<PartitionResponse>, 'index' | 'errorCode' | 'baseOffset' | 'logAppendTimeMs' | 'logStartOffset' | 'errorMessage'> & {
  recordErrors: Required<Entry<PartitionResponse['recordErrors']>>[];
  /** The offset the high watermark must reach for acks=all (-1: nothing to wait for). */
  waitFor: number;
  minInsyncReplicas: number;
};

export async function handleProduce(broker: Broker, _apiVersion: number, body: ProduceRequest, context: RequestContext = {}): Promise<ProduceResponseInput | null> {
  const acks = body.acks;
  const crcsChecked = context.recordsBuiltByProducer === true;
  const bytesOwned = context.recordBytesOwned === true;
  const replies: { name: string; partitions: PartitionReply[] }[] = [];
  // A transactional produce needs Write on its transactional id first (Kafka refuses the whole request).
  const transactionRefused = body.transactionalId != null && !isAuthorized(broker, context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, body.transactionalId);
  for (const topicData of body.topicData ?? []) {
    const refusedWith = transactionRefused ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : isAuthorized(broker, context, AclOperation.WRITE, ResourceType.TOPIC, topicData.name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    const partitions = (topicData.partitionData ?? []).map((data) => producePartition(broker, topicData.name, data, acks, crcsChecked, bytesOwned, refusedWith));
    replies.push({ name: topicData.name, partitions });
  }
  // Appended (or refused): the next write on this connection need not wait for our replication.
  context.writeDone?.();
  if (acks === 0) return null;
  if (acks === -1) await waitForReplication(broker, replies, body.timeoutMs);
  return {
    throttleTimeMs: 0,
    responses: replies.map((reply): TopicResponse => ({
      name: reply.name,
      partitionResponses: reply.partitions.map(({ waitFor: _waitFor, minInsyncReplicas: _minInsyncReplicas, ...response }): PartitionResponse => response),
    })),
  };
}

function producePartition(broker: Broker, topicName: string, data: PartitionData, acks: number, crcsChecked: boolean, bytesOwned: boolean, refusedWith: number): PartitionReply {
  const reply = (errorCode: number, errorMessage: string | null = null): PartitionReply => ({
    index: data.index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage, waitFor: -1, minInsyncReplicas: 1,
  });
  if (acks !== 0 && acks !== 1 && acks !== -1) return reply(ErrorCode.INVALID_REQUIRED_ACKS);
  if (refusedWith !== ErrorCode.NONE) return reply(refusedWith);
  const partition = broker.hostedPartition(topicName, data.index);
  if (typeof partition === 'number') return reply(partition);
  if (INTERNAL_TOPICS.has(topicName)) return reply(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicName}`);
  const minInsyncReplicas = configNumber(broker.topicConfig(partition, 'min.insync.replicas'));
  const outcome: AppendOutcome = partition.appendRecordsToLeader(data.records ?? null, {
    requiredAcks: acks,
    maxMessageBytes: configNumber(broker.topicConfig(partition, 'max.message.bytes')),
    minInsyncReplicas,
    decompressedBytesMax: broker.config.producedBatchDecompressedBytesMax,
    timestampBounds: timestampBounds(broker, partition),
    crcsChecked,
    bytesOwned,
  });
  if (produceChannel.hasSubscribers) {
    produceChannel.publish({ topic: topicName, partition: data.index, errorCode: outcome.errorCode, bytes: data.records?.length ?? 0, ...('baseOffset' in outcome ? { baseOffset: outcome.baseOffset, lastOffset: outcome.lastOffset } : {}) });
  }
  if (!('baseOffset' in outcome)) {
    const result = reply(outcome.errorCode, outcome.message);
    if (outcome.batchIndex >= 0) result.recordErrors = [{ batchIndex: outcome.batchIndex, batchIndexErrorMessage: outcome.message }];
    return result;
  }
  return {
    ...reply(ErrorCode.NONE),
    baseOffset: outcome.baseOffset,
    logAppendTimeMs: outcome.logAppendTimeMs,
    logStartOffset: partition.logStartOffset,
    waitFor: outcome.lastOffset + 1,
    minInsyncReplicas,
  };
}

/**
 * Kafka's message.timestamp.before/after.max.ms for a CreateTime topic (each falling back to the
 * deprecated message.timestamp.difference.max.ms while left at Long.MAX_VALUE); undefined when
 * nothing is bounded, so records are not walked.
 */
function timestampBounds(broker: Broker, partition: Partition): TimestampBounds | undefined {
  if (broker.topicConfig(partition, 'message.timestamp.type') !== 'CreateTime') return undefined;
  const difference = broker.topicConfig(partition, 'message.timestamp.difference.max.ms');
  const bound = (name: string): number => {
    const value = broker.topicConfig(partition, name);
    return configNumber(value === LONG_MAX ? difference : value);
  };
  const beforeMaxMs = bound('message.timestamp.before.max.ms');
  const afterMaxMs = bound('message.timestamp.after.max.ms');
  if (beforeMaxMs === Number.MAX_SAFE_INTEGER && afterMaxMs === Number.MAX_SAFE_INTEGER) return undefined;
  return { nowMs: broker.clock.now(), beforeMaxMs, afterMaxMs };
}

/** acks=all: each appended partition waits until its HW passes the last offset, or times out. */
/** acks=all (Kafka's DelayedProduce): each appended partition waits for its HW, or times out. */
async function waitForReplication(broker: Broker, replies: { name: string; partitions: PartitionReply[] }[], timeoutMs: number): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const reply of replies) {
    for (const partitionReply of reply.partitions) {
      if (partitionReply.errorCode !== ErrorCode.NONE || partitionReply.waitFor < 0) continue;
      const partition = broker.partition(reply.name, partitionReply.index);
      if (partition === undefined) {
        partitionReply.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        continue;
      }
      waits.push(partition.waitForReplication(partitionReply.waitFor, partitionReply.minInsyncReplicas, Math.max(0, timeoutMs)).then((errorCode) => {
        partitionReply.errorCode = errorCode;
      }));
    }
  }
  await Promise.all(waits);
}
