/**
 * Metadata (API key 3), versions 0-12 (topic ids from v10; v10+ may ask by topic id).
 * This broker is the only broker, the controller, and the leader of every partition, whose
 * replicas and ISR are itself. An unknown topic is created when `auto.create.topics.enable` and
 * the request allows it (allowAutoTopicCreation, v4+; always for v0-3), and answered at once with
 * its partitions (Kafka answers LEADER_NOT_AVAILABLE first; with one broker the leader exists at
 * creation). Deviations: authorized operations are not computed (Int.MinValue, "not requested").
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import { ZERO_UUID } from '../ids.js';
import { INTERNAL_TOPICS, topicNameProblem, type Topic } from '../topics.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export function handleMetadata(broker: Broker, apiVersion: number, body: Body): Body {
  const requested: Body[] | null = body.topics ?? null;
  const listAll = requested === null || (apiVersion === 0 && requested.length === 0);
  const allowAutoCreate = broker.config.autoCreateTopicsEnable && (apiVersion < 4 || body.allowAutoTopicCreation !== false);
  const topics = listAll
    ? [...broker.topics.values()].map((topic) => describeTopic(broker, topic))
    : requested.map((entry) => lookupTopic(broker, apiVersion, entry, allowAutoCreate));
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, host: broker.advertisedHost, port: broker.advertisedPort, rack: null }],
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    topics,
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function lookupTopic(broker: Broker, apiVersion: number, entry: Body, allowAutoCreate: boolean): Body {
  const name: string | null = entry.name ?? null;
  const topicId: string = entry.topicId ?? ZERO_UUID;
  // As Kafka: v10-11 carry topic ids but may not look topics up by them (the response's name is
  // not nullable before v12).
  if (name === null && apiVersion < 12) return errorTopic('', topicId, ErrorCode.INVALID_REQUEST);
  if (name === null) {
    const topic = broker.topicsById.get(topicId);
    return topic === undefined ? errorTopic(null, topicId, ErrorCode.UNKNOWN_TOPIC_ID) : describeTopic(broker, topic);
  }
  const existing = broker.topics.get(name);
  if (existing !== undefined) return describeTopic(broker, existing);
  if (topicNameProblem(name) !== null) return errorTopic(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
  if (!allowAutoCreate) return errorTopic(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const created = broker.autoCreateTopic(name);
  // A topic the disk could not take is answered as Kafka answers one still being created.
  if (created.errorCode === ErrorCode.KAFKA_STORAGE_ERROR) return errorTopic(name, ZERO_UUID, ErrorCode.LEADER_NOT_AVAILABLE);
  if (created.topic === undefined) return errorTopic(name, ZERO_UUID, created.errorCode);
  return describeTopic(broker, created.topic);
}

function describeTopic(broker: Broker, topic: Topic): Body {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: INTERNAL_TOPICS.has(topic.name),
    partitions: topic.partitions.map((partition) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: partition.partitionIndex,
      leaderId: broker.nodeId,
      leaderEpoch: partition.leaderEpoch,
      replicaNodes: partition.replicas,
      isrNodes: partition.isr,
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function errorTopic(name: string | null, topicId: string, errorCode: number): Body {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
