/**
 * Admin requests the broker forwards to the active controller (Kafka's ForwardingManager and
 * AutoTopicCreationManager): CreateTopics, DeleteTopics, CreatePartitions, the reassignment APIs and the topics the
 * broker creates itself (auto-creation, `__consumer_offsets`). The broker first checks what it owns
 * the rules of (topic names, config values), forwards the rest in the client's own version, and
 * answers once its own metadata image shows the result, so a client that asks this broker next
 * finds what it created (bounded by the request's timeout; after it the controller's answer stands
 * anyway). No answer from the controller is REQUEST_TIMED_OUT, which clients retry.
 * Stateless helpers over the Broker; single-threaded.
 */
import { ApiKey, type DescribedApiKey, ErrorCode, type RequestInput, type ResponseBody } from '@gregor/protocol';
import type { MetadataImage } from '@gregor/metadata';
import type { Broker } from './broker.js';
import { OFFSETS_TOPIC } from './topics.js';

export const CREATE_TOPICS_VERSION = 7;

/**
 * The controller's answer (the decoded response of `apiKey`, as the channel resolves it), or null
 * when it gave none (unreachable, timed out).
 */
export async function forwardToController<K extends DescribedApiKey>(broker: Broker, apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<ResponseBody<K> | null> {
  try {
    return (await broker.controllerChannel.send(apiKey, apiVersion, body)) as ResponseBody<K>;
  } catch {
    return null;
  }
}

/** Waits (up to `timeoutMs`) until the image has topic `topicId` with at least `partitions` partitions. */
export function awaitTopicInImage(broker: Broker, topicId: string, partitions: number, timeoutMs: number): Promise<boolean> {
  return broker.waitForMetadata((image) => (image.topicsById.get(topicId)?.partitions.size ?? -1) >= partitions, timeoutMs);
}

export interface TopicCreation {
  errorCode: number;
  errorMessage: string | null;
}

/**
 * Creates one topic through the controller and waits for it to reach this broker's image (Kafka's
 * AutoTopicCreationManager). TOPIC_ALREADY_EXISTS counts as success: someone else created it.
 */
export async function createTopicThroughController(
  broker: Broker, name: string, numPartitions: number, replicationFactor: number, configs: Record<string, string>, timeoutMs: number,
): Promise<TopicCreation> {
  const response = await forwardToController(broker, ApiKey.CreateTopics, CREATE_TOPICS_VERSION, {
    topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })) }],
    timeoutMs,
    validateOnly: false,
  });
  const result = response?.topics[0];
  if (result === undefined) return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The controller did not answer' };
  if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) {
    await broker.waitForMetadata((image) => image.topic(name) !== undefined, timeoutMs);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }
  if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, errorMessage: result.errorMessage ?? null };
  await awaitTopicInImage(broker, result.topicId, result.numPartitions, timeoutMs);
  return { errorCode: ErrorCode.NONE, errorMessage: null };
}

const offsetsTopicCreations = new WeakMap<Broker, Promise<TopicCreation>>();

/**
 * Creates `__consumer_offsets` if it does not exist: `offsets.topic.num.partitions` partitions,
 * replication factor min(`offsets.topic.replication.factor`, unfenced brokers), compacted. Callers
 * that arrive while a creation is under way wait for that one, and resume in the order they came.
 */
export function ensureOffsetsTopic(broker: Broker, timeoutMs: number): Promise<TopicCreation> | TopicCreation {
  const pending = offsetsTopicCreations.get(broker);
  if (pending !== undefined) return pending;
  if (broker.image.topic(OFFSETS_TOPIC) !== undefined) return { errorCode: ErrorCode.NONE, errorMessage: null };
  const { config } = broker;
  const replicationFactor = Math.max(1, Math.min(config.offsetsTopicReplicationFactor, broker.image.unfencedBrokerIds().length));
  const creation = createTopicThroughController(broker, OFFSETS_TOPIC, config.offsetsTopicNumPartitions, replicationFactor, {
    'cleanup.policy': 'compact',
    'segment.bytes': String(config.offsetsTopicSegmentBytes),
  }, timeoutMs).finally(() => offsetsTopicCreations.delete(broker));
  offsetsTopicCreations.set(broker, creation);
  return creation;
}

/**
 * Kafka clients find a group's coordinator (FindCoordinator) before any group request, and that
 * creates `__consumer_offsets`; a group request that comes without it creates the topic here, so
 * the group's partition has a leader to coordinate it. Waits for a creation under way.
 */
export async function ensureGroupCoordination(broker: Broker): Promise<void> {
  const offsetsTopic = ensureOffsetsTopic(broker, broker.config.requestTimeoutMs);
  if (offsetsTopic instanceof Promise) await offsetsTopic;
}

/** The topic as auto-creation makes it (broker defaults; `__consumer_offsets` as itself). */
export async function autoCreateTopic(broker: Broker, name: string, timeoutMs: number): Promise<TopicCreation> {
  if (name === OFFSETS_TOPIC) return ensureOffsetsTopic(broker, timeoutMs);
  return createTopicThroughController(broker, name, broker.config.numPartitions, broker.config.defaultReplicationFactor, {}, timeoutMs);
}

/** True when every topic id in `topicIds` is gone from the image. */
export function topicsRemoved(image: MetadataImage, topicIds: readonly string[]): boolean {
  return topicIds.every((id) => !image.topicsById.has(id));
}
