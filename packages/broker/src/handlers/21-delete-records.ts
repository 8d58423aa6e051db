/**
 * DeleteRecords (API key 21), versions 0-2.
 * Moves each partition's log start offset up to the given offset (-1: the high watermark); an
 * offset above the high watermark is OFFSET_OUT_OF_RANGE. Answers the new low watermark.
 * Only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere); followers move their log start when
 * their next fetch tells them the leader's.
 * Deviations: the answer is the leader's new log start at once (Kafka waits until every live
 * replica's log start has moved, the low watermark; timeoutMs unused).
 * Authorization: Delete on the topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { AclOperation, type DeleteRecordsRequest, type DeleteRecordsResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { storageErrorCode } from '../partition.js';
import type { Entry } from './types.js';

type TopicAnswer = Entry<DeleteRecordsResponseInput['topics']>;

export function handleDeleteRecords(broker: Broker, _apiVersion: number, body: DeleteRecordsRequest, context: RequestContext = {}): DeleteRecordsResponseInput {
  const topics = (body.topics ?? []).map((topicRequest): TopicAnswer => ({
    name: topicRequest.name,
    partitions: (topicRequest.partitions ?? []).map((request) => {
      const answer = (errorCode: number, lowWatermark = -1): Entry<TopicAnswer['partitions']> => ({ partitionIndex: request.partitionIndex, lowWatermark, errorCode });
      if (!isAuthorized(broker, context, AclOperation.DELETE, ResourceType.TOPIC, topicRequest.name)) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const partition = broker.hostedPartition(topicRequest.name, request.partitionIndex);
      if (typeof partition === 'number') return answer(partition);
      if (!partition.isLeader) return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const offset = request.offset === -1 ? partition.highWatermark : request.offset;
      if (offset < 0 || offset > partition.highWatermark) return answer(ErrorCode.OFFSET_OUT_OF_RANGE);
      if (offset > partition.logStartOffset) {
        try {
          partition.log.deleteRecordsBefore(offset);
        } catch (error) {
          // A full or failing disk (the leader-epoch checkpoint is rewritten): as Kafka, retriable.
          return answer(storageErrorCode(error));
        }
      }
      return answer(ErrorCode.NONE, partition.logStartOffset);
    }),
  }));
  return { throttleTimeMs: 0, topics };
}
