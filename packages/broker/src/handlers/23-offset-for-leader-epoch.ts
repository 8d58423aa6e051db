/**
 * OffsetForLeaderEpoch (API key 23), versions 0-4 (KIP-101/KIP-279).
 * For a requested leader epoch answers the largest epoch <= it that this log knows and that
 * epoch's end offset (the start of the next epoch, or the log end offset for the current one);
 * -1/-1 when the log has no such epoch. Followers ask it (replicaId = their id, v3+) before they
 * fetch from a new leader, to find where their log diverges. Only the leader answers
 * (NOT_LEADER_OR_FOLLOWER elsewhere); currentLeaderEpoch (v2+) is checked as in Fetch.
 * Authorization: a follower needs ClusterAction on the cluster, a client Describe on the topic;
 * else TOPIC_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import type { Entry } from './types.js';

type TopicAnswer = Entry<OffsetForLeaderEpochResponseInput['topics']>;

export function handleOffsetForLeaderEpoch(broker: Broker, _apiVersion: number, body: OffsetForLeaderEpochRequest, context: RequestContext = {}): OffsetForLeaderEpochResponseInput {
  const isReplica = (body.replicaId ?? -1) >= 0;
  const replicaAuthorized = isReplica && isClusterAuthorized(broker, context, AclOperation.CLUSTER_ACTION);
  const topics = (body.topics ?? []).map((topicRequest): TopicAnswer => ({
    topic: topicRequest.topic,
    partitions: (topicRequest.partitions ?? []).map((request) => {
      const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1): Entry<TopicAnswer['partitions']> => ({ errorCode, partition: request.partition, leaderEpoch, endOffset });
      const authorized = isReplica ? replicaAuthorized : isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.TOPIC, topicRequest.topic);
      if (!authorized) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const partition = broker.hostedPartition(topicRequest.topic, request.partition);
      if (typeof partition === 'number') return answer(partition);
      const leaderError = partition.leaderError(request.currentLeaderEpoch ?? -1);
      if (leaderError !== ErrorCode.NONE) return answer(leaderError);
      const found = partition.lastOffsetForLeaderEpoch(request.leaderEpoch);
      return answer(ErrorCode.NONE, found.leaderEpoch, found.endOffset);
    }),
  }));
  return { throttleTimeMs: 0, topics };
}
