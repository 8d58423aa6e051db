/**
 * Metadata (API key 3), versions 0-12 (topic ids from v10; v10+ may ask by topic id), answered
 * from this broker's metadata image as a KRaft broker does: every unfenced broker that has an
 * endpoint on the request's listener; per partition the leader (-1 and LEADER_NOT_AVAILABLE when
 * there is none), the leader epoch, the replicas, the ISR, and as offline the replicas whose broker
 * is fenced or not registered. controllerId is the active controller when it is also a live
 * broker, else a live broker (clients only need someone to send admin requests to).
 * An unknown topic is created when `auto.create.topics.enable` and the request allows it
 * (allowAutoTopicCreation, v4+; always for v0-3): the broker forwards a CreateTopics to the
 * controller and answers once its image has the topic (Kafka answers LEADER_NOT_AVAILABLE at
 * once and lets the client retry). Authorization (with an authorizer): a listing of all topics
 * leaves out those the principal may not Describe; a topic asked for by name or id without Describe
 * is TOPIC_AUTHORIZATION_FAILED, and so is a missing one it may not Create (on the cluster or the
 * topic) when it would be auto-created. Authorized operations (v8+), as Kafka: with
 * includeTopicAuthorizedOperations every topic of the answer (also one answered with an error)
 * carries the bit field of what the caller may do on it; with includeClusterAuthorizedOperations
 * (v8-10) the cluster's, or 0 without Describe on the cluster; otherwise Int.MinValue.
 */
import { AclOperation, CLUSTER_RESOURCE_NAME, ErrorCode, type MetadataRequest, type MetadataResponseInput, ResourceType } from '@gregor/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations, isAuthorized, isClusterAuthorized } from '../authorization.js';
import type { TopicImage } from '@gregor/metadata';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { autoCreateTopic } from '../controller-forwarding.js';
import { ZERO_UUID } from '../ids.js';
import { INTERNAL_TOPICS, topicNameProblem } from '../topics.js';
import type { Entry } from './types.js';

/** A topic of the answer; its name is always set (v12 answers null for one asked by an unknown id). */
type TopicAnswer = NonNullable<MetadataResponseInput['topics']>[number] & { name: string | null };

export async function handleMetadata(broker: Broker, apiVersion: number, body: MetadataRequest, context: RequestContext): Promise<MetadataResponseInput> {
  const listenerName = broker.listenerName(context);
  const requested = body.topics ?? null;
  const listAll = requested === null || (apiVersion === 0 && requested.length === 0);
  const allowAutoCreate = broker.config.autoCreateTopicsEnable && (apiVersion < 4 || body.allowAutoTopicCreation !== false);
  const mayDescribe = (name: string) => isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
  const topics = listAll
    ? [...broker.image.topicsById.values()].filter((topic) => mayDescribe(topic.name)).sort((a, b) => (a.name < b.name ? -1 : 1)).map((topic) => describeTopic(broker, topic))
    : await Promise.all(requested.map((entry) => lookupTopic(broker, apiVersion, entry, allowAutoCreate, context)));
  if (apiVersion >= 8 && body.includeTopicAuthorizedOperations === true) {
    for (const topic of topics) if (topic.name !== null) topic.topicAuthorizedOperations = authorizedOperations(broker, context, ResourceType.TOPIC, topic.name);
  }
  let clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
  if (apiVersion >= 8 && apiVersion <= 10 && body.includeClusterAuthorizedOperations === true) {
    clusterAuthorizedOperations = isClusterAuthorized(broker, context, AclOperation.DESCRIBE) ? authorizedOperations(broker, context, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) : 0;
  }
  return {
    throttleTimeMs: 0,
    brokers: broker.liveBrokers(listenerName),
    clusterId: broker.clusterId,
    controllerId: broker.controllerIdFor(listenerName),
    topics,
    clusterAuthorizedOperations,
  };
}

async function lookupTopic(broker: Broker, apiVersion: number, entry: NonNullable<MetadataRequest['topics']>[number], allowAutoCreate: boolean, context: RequestContext): Promise<TopicAnswer> {
  const mayDescribe = (topicName: string) => isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.TOPIC, topicName);
  const name = entry.name ?? null;
  const topicId = entry.topicId ?? ZERO_UUID;
  // As Kafka: v10-11 carry topic ids but may not look topics up by them (the response's name is
  // not nullable before v12).
  if (name === null && apiVersion < 12) return errorTopic('', topicId, ErrorCode.INVALID_REQUEST);
  if (name === null) {
    const topic = broker.image.topicsById.get(topicId);
    if (topic !== undefined && !mayDescribe(topic.name)) return errorTopic(null, topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    return topic === undefined ? errorTopic(null, topicId, ErrorCode.UNKNOWN_TOPIC_ID) : describeTopic(broker, topic);
  }
  if (!mayDescribe(name)) return errorTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const existing = broker.image.topic(name);
  if (existing !== undefined) return describeTopic(broker, existing);
  if (topicNameProblem(name) !== null) return errorTopic(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
  if (!allowAutoCreate) return errorTopic(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const mayCreate = isClusterAuthorized(broker, context, AclOperation.CREATE) || isAuthorized(broker, context, AclOperation.CREATE, ResourceType.TOPIC, name);
  if (!mayCreate) return errorTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const created = await autoCreateTopic(broker, name, broker.config.requestTimeoutMs);
  const topic = broker.image.topic(name);
  if (topic !== undefined) return describeTopic(broker, topic);
  // A topic not there yet (or one the disk could not take) is answered as Kafka answers one still being created.
  const retriable = created.errorCode === ErrorCode.NONE || created.errorCode === ErrorCode.KAFKA_STORAGE_ERROR || created.errorCode === ErrorCode.REQUEST_TIMED_OUT;
  return errorTopic(name, ZERO_UUID, retriable ? ErrorCode.LEADER_NOT_AVAILABLE : created.errorCode);
}

function describeTopic(broker: Broker, topic: TopicImage): TopicAnswer {
  const { image } = broker;
  const isOffline = (id: number): boolean => !image.isUnfenced(id);
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: INTERNAL_TOPICS.has(topic.name),
    partitions: [...topic.partitions].sort(([a], [b]) => a - b).map(([partitionIndex, registration]): Entry<TopicAnswer['partitions']> => ({
      errorCode: registration.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex,
      leaderId: registration.leader,
      leaderEpoch: registration.leaderEpoch,
      replicaNodes: [...registration.replicas],
      isrNodes: [...registration.isr],
      offlineReplicas: registration.replicas.filter(isOffline),
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function errorTopic(name: string | null, topicId: string, errorCode: number): TopicAnswer {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
