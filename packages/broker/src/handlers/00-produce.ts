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
 * CRC, record count vs lastOffsetDelta, max.message.bytes per batch, and the whole record set
 * within segment.bytes: RECORD_LIST_TOO_LARGE); a refused partition appends nothing.
 * A retried idempotent batch is answered with its original offsets (NONE, as Kafka does today).
 * Deviations: acks=0 resolves to NO_RESPONSE (null), so the server writes nothing; Produce never
 * auto-creates topics (as Kafka); transactional produce is not supported yet (transactionalId is
 * ignored, batches are appended as non-transactional data would be); throttleTimeMs is always 0.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import type { AppendOutcome } from '../partition.js';
import { INTERNAL_TOPICS } from '../topics.js';

const produceChannel = diagnosticsChannel.channel('gregor:broker:produce');

interface PartitionReply {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[];
  errorMessage: string | null;
  /** The offset the high watermark must reach for acks=all (-1: nothing to wait for). */
  waitFor: number;
  minInsyncReplicas: number;
}

export async function handleProduce(broker: Broker, _apiVersion: number, body: Body): Promise<Body | null> {
  const acks: number = body.acks;
  const replies: { name: string; partitions: PartitionReply[] }[] = [];
  for (const topicData of body.topicData ?? []) {
    const partitions = (topicData.partitionData ?? []).map((data: Body) => producePartition(broker, topicData.name, data, acks));
    replies.push({ name: topicData.name, partitions });
  }
  if (acks === 0) return null;
  if (acks === -1) await waitForReplication(broker, replies, body.timeoutMs);
  return {
    throttleTimeMs: 0,
    responses: replies.map((reply) => ({
      name: reply.name,
      partitionResponses: reply.partitions.map(({ waitFor: _waitFor, minInsyncReplicas: _minInsyncReplicas, ...response }) => response),
    })),
  };
}

function producePartition(broker: Broker, topicName: string, data: Body, acks: number): PartitionReply {
  const reply = (errorCode: number, errorMessage: string | null = null): PartitionReply => ({
    index: data.index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage, waitFor: -1, minInsyncReplicas: 1,
  });
  if (acks !== 0 && acks !== 1 && acks !== -1) return reply(ErrorCode.INVALID_REQUIRED_ACKS);
  const partition = broker.hostedPartition(topicName, data.index);
  if (typeof partition === 'number') return reply(partition);
  if (INTERNAL_TOPICS.has(topicName)) return reply(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicName}`);
  const minInsyncReplicas = Number(broker.topicConfig(partition, 'min.insync.replicas'));
  const outcome: AppendOutcome = partition.appendRecordsToLeader(data.records ?? null, {
    requiredAcks: acks,
    maxMessageBytes: Number(broker.topicConfig(partition, 'max.message.bytes')),
    minInsyncReplicas,
    decompressedBytesMax: broker.config.producedBatchDecompressedBytesMax,
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
