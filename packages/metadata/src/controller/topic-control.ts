/**
 * Topics and partitions (the creation half of Kafka's ReplicationControlManager): CreateTopics,
 * DeleteTopics and CreatePartitions, validated as Kafka's controller validates them. A topic is
 * written as a TopicRecord, its ConfigRecords, then one PartitionRecord per partition (replicas
 * from the striped placer or a manual assignment, ISR the live replicas, leader the first of
 * them, epochs 0). Pure functions of a ControlContext.
 */
import type {
  CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
} from '@gregor/protocol';
import { ErrorCode } from '@gregor/protocol';
import type { MetadataImage } from '../image.js';
import { ConfigResourceType, type MetadataRecordInput } from '../records.js';
import { type ControlContext, type ControllerResult, isActiveBroker } from './context.js';
import { apiErrorOf, ControllerError } from './errors.js';
import type { Random } from './interfaces.js';
import { placeReplicas, type UsableBroker } from './replica-placer.js';

/** Kafka's Topic.MAX_NAME_LENGTH. */
export const TOPIC_NAME_LENGTH_MAX = 249;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Kafka's Uuid.METADATA_TOPIC_ID, reserved for `__cluster_metadata`. */
const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';
/** Kafka's ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG. */
const DYNAMIC_TOPIC_CONFIG = 1;

type CreatableTopic = CreateTopicsRequest['topics'][number];
type CreatableTopicResult = CreateTopicsResponse['topics'][number];

/** INVALID_TOPIC_EXCEPTION unless the name is legal (Kafka's Topic.validate). */
export function validateTopicName(name: string): void {
  if (name.length === 0) throw new ControllerError('INVALID_TOPIC_EXCEPTION', "Topic name is illegal, it can't be empty");
  if (name === '.' || name === '..') throw new ControllerError('INVALID_TOPIC_EXCEPTION', 'Topic name cannot be "." or ".."');
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    throw new ControllerError('INVALID_TOPIC_EXCEPTION', `Topic name is illegal, it can't be longer than ${TOPIC_NAME_LENGTH_MAX} characters, topic name: ${name}`);
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    throw new ControllerError('INVALID_TOPIC_EXCEPTION', `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`);
  }
}

/** Metrics names replace '.' by '_', so two topics differing only there would collide (Kafka's Topic.hasCollision). */
function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/** The brokers new replicas may go to: active ones, with their racks. */
function usableBrokers(image: MetadataImage): UsableBroker[] {
  return [...image.brokers.values()].filter((broker) => isActiveBroker(image, broker.id)).map((broker) => ({ id: broker.id, rack: broker.rack }));
}

/** A version-4 uuid (and its bytes) from the injected random source. */
export function randomUuid(random: Random): { id: string; bytes: Buffer } {
  const bytes = Buffer.alloc(16);
  for (let index = 0; index < 16; index++) bytes[index] = Math.floor(random() * 256) & 0xff;
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return { id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, bytes };
}

/** A version-4 uuid from the injected random source, never the zero or metadata topic id, nor one in use. */
export function newTopicId(random: Random, image: MetadataImage): string {
  for (;;) {
    const { id, bytes } = randomUuid(random);
    // Kafka also refuses ids whose base64 form starts with '-' (it would read as a command-line flag).
    if (id !== ZERO_UUID && id !== METADATA_TOPIC_ID && !bytes.toString('base64url').startsWith('-') && !image.topicsById.has(id)) return id;
  }
}

/**
 * INVALID_REPLICA_ASSIGNMENT unless a manual assignment names registered brokers, each once, and
 * as many as the partitions before it (Kafka's validateManualPartitionAssignment).
 */
export function validateManualAssignment(image: MetadataImage, brokerIds: readonly number[], replicationFactor: number | undefined): void {
  if (brokerIds.length === 0) throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.');
  const sorted = [...brokerIds].sort((a, b) => a - b);
  for (let index = 0; index < sorted.length; index++) {
    if (!image.brokers.has(sorted[index])) {
      throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes broker ${sorted[index]}, but no such broker is registered.`);
    }
    if (index > 0 && sorted[index] === sorted[index - 1]) {
      throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes the broker ${sorted[index]} more than once.`);
    }
  }
  if (replicationFactor !== undefined && brokerIds.length !== replicationFactor) {
    throw new ControllerError(
      'INVALID_REPLICA_ASSIGNMENT',
      `The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
    );
  }
}

function partitionRecord(topicId: string, partitionId: number, replicas: readonly number[], isr: readonly number[]): MetadataRecordInput {
  return {
    type: 'Partition', partitionId, topicId, replicas: [...replicas], isr: [...isr], removingReplicas: [], addingReplicas: [],
    leader: isr[0], leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0,
  };
}

/** Replica lists of new partitions, manual or placed; each with its ISR (the active replicas). */
function newPartitions(
  context: ControlContext,
  count: number,
  replicationFactor: number,
  manual: readonly (readonly number[])[] | null,
  firstPartitionId: number,
): { replicas: readonly number[]; isr: number[] }[] {
  const { image } = context;
  if (manual !== null) {
    return manual.map((replicas, index) => {
      validateManualAssignment(image, replicas, replicationFactor);
      const isr = replicas.filter((id) => isActiveBroker(image, id));
      if (isr.length === 0) {
        throw new ControllerError(
          'INVALID_REPLICA_ASSIGNMENT',
          `All brokers specified in the manual partition assignment for partition ${firstPartitionId + index} are fenced or in controlled shutdown.`,
        );
      }
      return { replicas, isr };
    });
  }
  try {
    return placeReplicas(usableBrokers(image), count, replicationFactor, context.random).map((replicas) => ({ replicas, isr: [...replicas] }));
  } catch (error) {
    if (error instanceof ControllerError) throw new ControllerError('INVALID_REPLICATION_FACTOR', `Unable to replicate the partition ${replicationFactor} time(s): ${error.message}`);
    throw error;
  }
}

/** CreateTopics. With validateOnly the same checks run and nothing is written. */
export function createTopics(context: ControlContext, request: CreateTopicsRequest): ControllerResult<CreateTopicsResponse> {
  const records: MetadataRecordInput[] = [];
  const topics: CreatableTopicResult[] = [];
  const nameCounts = new Map<string, number>();
  for (const topic of request.topics) nameCounts.set(topic.name, (nameCounts.get(topic.name) ?? 0) + 1);
  const collisionKeys = new Map<string, string>();
  for (const topic of context.image.topicsById.values()) collisionKeys.set(collisionKey(topic.name), topic.name);
  for (const topic of request.topics) {
    try {
      if ((nameCounts.get(topic.name) ?? 0) > 1) throw new ControllerError('INVALID_REQUEST', 'Duplicate topic name.');
      const created = createTopic(context, topic, collisionKeys);
      if (!request.validateOnly) records.push(...created.records);
      collisionKeys.set(collisionKey(topic.name), topic.name);
      topics.push(created.response);
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      topics.push({
        name: topic.name, topicId: ZERO_UUID, errorCode, errorMessage: message, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null,
      });
    }
  }
  return { records, response: { throttleTimeMs: 0, topics } };
}

function createTopic(context: ControlContext, topic: CreatableTopic, collisionKeys: ReadonlyMap<string, string>): ControllerResult<CreatableTopicResult> {
  const { image, config } = context;
  validateTopicName(topic.name);
  if (image.topic(topic.name) !== undefined) throw new ControllerError('TOPIC_ALREADY_EXISTS', `Topic '${topic.name}' already exists.`);
  const colliding = collisionKeys.get(collisionKey(topic.name));
  if (colliding !== undefined) throw new ControllerError('INVALID_TOPIC_EXCEPTION', `Topic '${topic.name}' collides with existing topic: ${colliding}`);
  const configs = new Map<string, string>();
  const nullConfigs: string[] = [];
  for (const entry of topic.configs) {
    if (configs.has(entry.name)) throw new ControllerError('INVALID_REQUEST', `Duplicate config ${entry.name}.`);
    if (entry.value === null) nullConfigs.push(entry.name);
    else configs.set(entry.name, entry.value);
  }
  if (nullConfigs.length > 0) throw new ControllerError('INVALID_CONFIG', `Null value not supported for topic configs: ${nullConfigs.join(',')}`);

  let partitions: { replicas: readonly number[]; isr: number[] }[];
  if (topic.assignments.length > 0) {
    if (topic.replicationFactor !== -1) throw new ControllerError('INVALID_REQUEST', 'A manual partition assignment was specified, but replication factor was not set to -1.');
    if (topic.numPartitions !== -1) throw new ControllerError('INVALID_REQUEST', 'A manual partition assignment was specified, but numPartitions was not set to -1.');
    const byIndex = new Map<number, readonly number[]>();
    for (const assignment of topic.assignments) {
      if (byIndex.has(assignment.partitionIndex)) {
        throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', `Found multiple manual partition assignments for partition ${assignment.partitionIndex}`);
      }
      byIndex.set(assignment.partitionIndex, assignment.brokerIds);
    }
    const manual: (readonly number[])[] = [];
    for (let index = 0; index < byIndex.size; index++) {
      const replicas = byIndex.get(index);
      if (replicas === undefined) throw new ControllerError('INVALID_REPLICA_ASSIGNMENT', 'partitions should be a consecutive 0-based integer sequence');
      manual.push(replicas);
    }
    partitions = newPartitions(context, manual.length, manual[0].length, manual, 0);
  } else {
    if (topic.replicationFactor < -1 || topic.replicationFactor === 0) {
      throw new ControllerError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0, or -1 to use the default value.');
    }
    if (topic.numPartitions < -1 || topic.numPartitions === 0) throw new ControllerError('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.');
    const numPartitions = topic.numPartitions === -1 ? config.numPartitions : topic.numPartitions;
    const replicationFactor = topic.replicationFactor === -1 ? config.defaultReplicationFactor : topic.replicationFactor;
    partitions = newPartitions(context, numPartitions, replicationFactor, null, 0);
  }
  const configError = context.validator.validate({ resourceType: ConfigResourceType.TOPIC, resourceName: topic.name }, configs);
  if (configError !== null) throw new ControllerError(configError.errorCode, configError.message);

  const topicId = newTopicId(context.random, image);
  const records: MetadataRecordInput[] = [{ type: 'Topic', name: topic.name, topicId }];
  // Config records go after the TopicRecord and before the partitions, as Kafka writes them.
  for (const [name, value] of configs) records.push({ type: 'Config', resourceType: ConfigResourceType.TOPIC, resourceName: topic.name, name, value });
  partitions.forEach((partition, partitionId) => {
    records.push(partitionRecord(topicId, partitionId, partition.replicas, partition.isr));
  });
  return {
    records,
    response: {
      name: topic.name,
      topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.NONE,
      numPartitions: partitions.length,
      replicationFactor: partitions[0].replicas.length,
      // The topic's own configs; the effective values of the others come from the broker's table.
      configs: [...configs].map(([name, value]) => ({ name, value, readOnly: false, configSource: DYNAMIC_TOPIC_CONFIG, isSensitive: false })),
    },
  };
}

type DeletableTopicResult = DeleteTopicsResponse['responses'][number];

/** DeleteTopics: by name (v0-5) or by name or id (v6). */
export function deleteTopics(context: ControlContext, version: number, request: DeleteTopicsRequest): ControllerResult<DeleteTopicsResponse> {
  const { image } = context;
  const wanted = version >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const records: MetadataRecordInput[] = [];
  const responses: DeletableTopicResult[] = [];
  const removedIds = new Set<string>();
  for (const entry of wanted) {
    let name = entry.name;
    let topicId = entry.topicId;
    try {
      if (!context.config.deleteTopicEnable) throw new ControllerError(version >= 3 ? 'TOPIC_DELETION_DISABLED' : 'INVALID_REQUEST', 'Topic deletion is disabled.');
      if (name !== null && topicId !== ZERO_UUID) throw new ControllerError('INVALID_REQUEST', 'You may not specify both topic name and topic id.');
      const topic = name !== null ? image.topic(name) : image.topicsById.get(topicId);
      if (topic === undefined) {
        if (name !== null) throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.');
        throw new ControllerError('UNKNOWN_TOPIC_ID', 'This server does not host this topic ID.');
      }
      name = topic.name;
      topicId = topic.id;
      if (removedIds.has(topic.id)) throw new ControllerError('INVALID_REQUEST', 'Duplicate topic name or id.');
      removedIds.add(topic.id);
      records.push({ type: 'RemoveTopic', topicId: topic.id });
      responses.push({ name, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      responses.push({ name, topicId, errorCode, errorMessage: message });
    }
  }
  return { records, response: { throttleTimeMs: 0, responses } };
}

type CreatePartitionsTopic = CreatePartitionsRequest['topics'][number];

/** CreatePartitions. With validateOnly the same checks run and nothing is written. */
export function createPartitions(context: ControlContext, request: CreatePartitionsRequest): ControllerResult<CreatePartitionsResponse> {
  const records: MetadataRecordInput[] = [];
  const results: CreatePartitionsResponse['results'] = [];
  const nameCounts = new Map<string, number>();
  for (const topic of request.topics) nameCounts.set(topic.name, (nameCounts.get(topic.name) ?? 0) + 1);
  for (const topic of request.topics) {
    try {
      if ((nameCounts.get(topic.name) ?? 0) > 1) throw new ControllerError('INVALID_REQUEST', 'Duplicate topic name.');
      const added = addPartitions(context, topic);
      if (!request.validateOnly) records.push(...added);
      results.push({ name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null });
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      results.push({ name: topic.name, errorCode, errorMessage: message });
    }
  }
  return { records, response: { throttleTimeMs: 0, results } };
}

function addPartitions(context: ControlContext, request: CreatePartitionsTopic): MetadataRecordInput[] {
  const topic = context.image.topic(request.name);
  if (topic === undefined) throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.');
  const existing = topic.partitions.size;
  if (request.count === existing) throw new ControllerError('INVALID_PARTITIONS', `Topic already has ${existing} partition(s).`);
  if (request.count < existing) {
    throw new ControllerError('INVALID_PARTITIONS', `The topic ${request.name} currently has ${existing} partition(s); ${request.count} would not be an increase.`);
  }
  const additional = request.count - existing;
  if (request.assignments !== null && request.assignments.length !== additional) {
    throw new ControllerError(
      'INVALID_REPLICA_ASSIGNMENT',
      `Attempted to add ${additional} additional partition(s), but only ${request.assignments.length} assignment(s) were specified.`,
    );
  }
  const first = topic.partitions.get(0) ?? topic.partitions.values().next().value;
  if (first === undefined) throw new ControllerError('UNKNOWN_SERVER_ERROR', `Invalid state: topic ${request.name} appears to have no partitions.`);
  const manual = request.assignments === null ? null : request.assignments.map((assignment) => assignment.brokerIds);
  const partitions = newPartitions(context, additional, first.replicas.length, manual, existing);
  return partitions.map((partition, index) => partitionRecord(topic.id, existing + index, partition.replicas, partition.isr));
}
