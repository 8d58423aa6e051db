/**
 * OffsetForLeaderEpoch (API key 23), versions 0-4 (KIP-101/KIP-279).
 * For a requested leader epoch answers the largest epoch <= it that this log knows and that
 * epoch's end offset (the start of the next epoch, or the log end offset for the current one);
 * -1/-1 when the log has no such epoch. currentLeaderEpoch (v2+) is checked as in Fetch.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import { leaderEpochError } from './01-fetch.js';

export function handleOffsetForLeaderEpoch(broker: Broker, _apiVersion: number, body: Body): Body {
  const topics = (body.topics ?? []).map((topicRequest: Body) => ({
    topic: topicRequest.topic,
    partitions: (topicRequest.partitions ?? []).map((request: Body) => {
      const partition = broker.partition(topicRequest.topic, request.partition);
      const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1): Body => ({ errorCode, partition: request.partition, leaderEpoch, endOffset });
      if (partition === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const epochError = leaderEpochError(partition, request.currentLeaderEpoch ?? -1);
      if (epochError !== ErrorCode.NONE) return answer(epochError);
      const found = partition.log.leaderEpochs.endOffsetFor(request.leaderEpoch, partition.logEndOffset);
      return answer(ErrorCode.NONE, found.epoch, found.endOffset);
    }),
  }));
  return { throttleTimeMs: 0, topics };
}
