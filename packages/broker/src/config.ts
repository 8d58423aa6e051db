/**
 * Broker settings: Kafka's broker config names camelCased, with Kafka's defaults, and the mapping
 * from a topic's Kafka config names (`retention.ms`, ...) to the log's settings. Pure data and
 * functions; safe to call from anywhere. Kafka-named settings (`server.properties`, `--override`)
 * become a BrokerConfig through `brokerConfigFromProperties` in config-properties.ts.
 */
import type { LogConfig } from '@gregor/log';

/** Kafka's `message.max.bytes` default: 1 MiB plus the 12-byte batch log overhead. */
export const MESSAGE_MAX_BYTES_DEFAULT = 1024 * 1024 + 12;

export interface BrokerConfig {
  /** `node.id`: this broker's id in Metadata and FindCoordinator answers. */
  nodeId: number;
  /** `auto.create.topics.enable`: Metadata (and Produce) may create unknown topics. */
  autoCreateTopicsEnable: boolean;
  /** `num.partitions`: partitions of an auto-created topic or a CreateTopics with -1. */
  numPartitions: number;
  /** `default.replication.factor`: replicas of an auto-created topic or a CreateTopics with -1. */
  defaultReplicationFactor: number;
  /** `offsets.topic.num.partitions`: partitions of `__consumer_offsets`. */
  offsetsTopicNumPartitions: number;
  /** `offsets.topic.segment.bytes`: segment size of `__consumer_offsets` (Kafka: 100 MiB). */
  offsetsTopicSegmentBytes: number;
  /**
   * `offsets.topic.replication.factor`: replicas of `__consumer_offsets` when it is created; fewer
   * when fewer brokers are unfenced then (Kafka refuses to create it instead).
   */
  offsetsTopicReplicationFactor: number;
  /** `offsets.commit.timeout.ms`: an offset commit waits this long for its replication. */
  offsetsCommitTimeoutMs: number;
  /** `offset.metadata.max.bytes`: longest metadata string of an offset commit. */
  offsetMetadataMaxBytes: number;
  /** `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /**
   * Largest decompressed records section of a produced compressed batch. Like Kafka's
   * LogValidator, the broker decompresses a compressed batch to check its records; a batch that
   * would inflate past this is refused with CORRUPT_MESSAGE before the output is allocated.
   */
  producedBatchDecompressedBytesMax: number;
  /** `offsets.retention.minutes` (in ms): committed offsets of an empty group expire after this. */
  offsetsRetentionMs: number;
  /** `offsets.retention.check.interval.ms`: how often expired offsets are removed. */
  offsetsRetentionCheckIntervalMs: number;
  /** `min.insync.replicas`: acks=all fails with NOT_ENOUGH_REPLICAS below this ISR size. */
  minInsyncReplicas: number;
  /** `message.max.bytes`: the largest batch a produce may append (topic: `max.message.bytes`). */
  messageMaxBytes: number;
  /** `group.min.session.timeout.ms`. */
  groupMinSessionTimeoutMs: number;
  /** `group.max.session.timeout.ms`. */
  groupMaxSessionTimeoutMs: number;
  /** `group.initial.rebalance.delay.ms`: wait for more members when an empty group first rebalances. */
  groupInitialRebalanceDelayMs: number;
  /** `group.max.size`: members per group (Kafka: Int.MaxValue). */
  groupMaxSize: number;
  /** `fetch.max.bytes`: upper bound of a Fetch response's record bytes. */
  fetchMaxBytes: number;
  /** `replica.fetch.wait.max.ms`: a follower's Fetch waits at the leader this long for data. */
  replicaFetchWaitMaxMs: number;
  /** `replica.fetch.min.bytes`: a follower's Fetch waits at the leader until this many bytes are there. */
  replicaFetchMinBytes: number;
  /** `replica.fetch.max.bytes`: bytes a follower fetches per partition (at least one batch). */
  replicaFetchMaxBytes: number;
  /** `replica.fetch.response.max.bytes`: bytes a follower fetches per request (at least one batch). */
  replicaFetchResponseMaxBytes: number;
  /** `replica.fetch.backoff.ms`: a follower waits this long after a failed fetch. */
  replicaFetchBackoffMs: number;
  /** `replica.high.watermark.checkpoint.interval.ms`: how often `replication-offset-checkpoint` is written. */
  replicaHighWatermarkCheckpointIntervalMs: number;
  /** `broker.heartbeat.interval.ms`: how often the broker heartbeats to the controller. */
  brokerHeartbeatIntervalMs: number;
  /** `broker.session.timeout.ms`: the controller fences a broker silent this long (the controller's setting). */
  brokerSessionTimeoutMs: number;
  /** `controlled.shutdown.enable`: close() first asks the controller to move this broker's leaderships away. */
  controlledShutdownEnable: boolean;
  /**
   * `request.timeout.ms`: how long the broker waits for what it asks the controller on a client's
   * behalf when the request names no timeout (auto-creation in Metadata, `__consumer_offsets` in
   * FindCoordinator).
   */
  requestTimeoutMs: number;
  /** Longest long-poll any Fetch may ask for (bounds the timers a client can hold). */
  fetchWaitMaxMs: number;
  /** Pending long-poll fetches at once; beyond it a fetch answers immediately. */
  fetchWaitersMax: number;
  /** `delete.topic.enable`. */
  deleteTopicEnable: boolean;
  /** Batches remembered per producer per partition for retries (Kafka: 5, not configurable). */
  producerBatchesRetained: number;
  /** `producer.id.expiration.ms`: a producer silent this long (by its batches' timestamps) is forgotten. */
  producerIdExpirationMs: number;
  /** `producer.id.expiration.check.interval.ms`: how often expired producers are removed. */
  producerIdExpirationCheckIntervalMs: number;
  /** Producer-state snapshots kept per partition (Kafka keeps the two latest). */
  producerSnapshotsRetained: number;
  /** Partitions a CreateTopics or CreatePartitions may ask for in one topic. */
  topicPartitionsMax: number;
  // The log defaults (`log.*` broker settings); each topic may override them.
  /** `log.segment.bytes`. */
  logSegmentBytes: number;
  /** `log.roll.ms` (Kafka: 7 days). */
  logRollMs: number;
  /** `log.retention.ms` (Kafka: 168 hours). */
  logRetentionMs: number;
  /** `log.retention.bytes` (-1: no limit). */
  logRetentionBytes: number;
  /** `log.cleanup.policy`. */
  logCleanupPolicy: string;
  /** `log.index.interval.bytes`. */
  logIndexIntervalBytes: number;
  /** `log.index.size.max.bytes`. */
  logIndexSizeMaxBytes: number;
  /** `log.cleaner.delete.retention.ms`. */
  logCleanerDeleteRetentionMs: number;
  /** `log.flush.interval.messages`. */
  logFlushIntervalMessages: number;
  /** `log.flush.interval.ms`. */
  logFlushIntervalMs: number;
  /** `log.message.timestamp.type`: CreateTime or LogAppendTime. */
  logMessageTimestampType: string;
}

export const brokerConfigDefaults: Readonly<BrokerConfig> = Object.freeze({
  nodeId: 0,
  autoCreateTopicsEnable: true,
  numPartitions: 1,
  defaultReplicationFactor: 1,
  offsetsTopicNumPartitions: 50,
  offsetsTopicSegmentBytes: 100 * 1024 * 1024,
  offsetsTopicReplicationFactor: 3,
  offsetsCommitTimeoutMs: 5000,
  offsetMetadataMaxBytes: 4096,
  replicaLagTimeMaxMs: 30_000,
  producedBatchDecompressedBytesMax: 64 * 1024 * 1024,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  minInsyncReplicas: 1,
  messageMaxBytes: MESSAGE_MAX_BYTES_DEFAULT,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 2_147_483_647,
  fetchMaxBytes: 55 * 1024 * 1024,
  replicaFetchWaitMaxMs: 500,
  replicaFetchMinBytes: 1,
  replicaFetchMaxBytes: 1024 * 1024,
  replicaFetchResponseMaxBytes: 10 * 1024 * 1024,
  replicaFetchBackoffMs: 1000,
  replicaHighWatermarkCheckpointIntervalMs: 5000,
  brokerHeartbeatIntervalMs: 2000,
  brokerSessionTimeoutMs: 9000,
  controlledShutdownEnable: true,
  requestTimeoutMs: 30_000,
  fetchWaitMaxMs: 300_000,
  fetchWaitersMax: 10_000,
  deleteTopicEnable: true,
  producerBatchesRetained: 5,
  producerIdExpirationMs: 86_400_000,
  producerIdExpirationCheckIntervalMs: 600_000,
  producerSnapshotsRetained: 2,
  topicPartitionsMax: 10_000,
  logSegmentBytes: 1024 * 1024 * 1024,
  logRollMs: 7 * 24 * 3600 * 1000,
  logRetentionMs: 168 * 3600 * 1000,
  logRetentionBytes: -1,
  logCleanupPolicy: 'delete',
  logIndexIntervalBytes: 4096,
  logIndexSizeMaxBytes: 10 * 1024 * 1024,
  logCleanerDeleteRetentionMs: 86_400_000,
  logFlushIntervalMessages: Number.MAX_SAFE_INTEGER,
  logFlushIntervalMs: Number.MAX_SAFE_INTEGER,
  logMessageTimestampType: 'CreateTime',
});

export function resolveBrokerConfig(partial: Partial<BrokerConfig> = {}): BrokerConfig {
  const config = { ...brokerConfigDefaults, ...partial };
  for (const [name, value] of Object.entries(partial)) {
    if (value === undefined) (config as Record<string, unknown>)[name] = (brokerConfigDefaults as Record<string, unknown>)[name];
  }
  return config;
}

/** How a topic config is checked and what its broker-level default is. */
interface TopicConfigDefinition {
  type: 'long' | 'int' | 'string' | 'list' | 'boolean';
  valid?: readonly string[];
  minimum?: number;
  brokerDefault: (config: BrokerConfig) => string;
  /** Kafka's broker synonym, as DescribeConfigs reports it. */
  synonym?: string;
}

/** The topic configs a topic may set (Kafka's names); anything else is INVALID_CONFIG. */
export const topicConfigDefinitions: Readonly<Record<string, TopicConfigDefinition>> = {
  'cleanup.policy': { type: 'list', valid: ['delete', 'compact'], brokerDefault: (c) => c.logCleanupPolicy, synonym: 'log.cleanup.policy' },
  'retention.ms': { type: 'long', minimum: -1, brokerDefault: (c) => String(c.logRetentionMs), synonym: 'log.retention.ms' },
  'retention.bytes': { type: 'long', minimum: -1, brokerDefault: (c) => String(c.logRetentionBytes), synonym: 'log.retention.bytes' },
  'segment.bytes': { type: 'int', minimum: 14, brokerDefault: (c) => String(c.logSegmentBytes), synonym: 'log.segment.bytes' },
  'segment.ms': { type: 'long', minimum: 1, brokerDefault: (c) => String(c.logRollMs), synonym: 'log.roll.ms' },
  'segment.index.bytes': { type: 'int', minimum: 4, brokerDefault: (c) => String(c.logIndexSizeMaxBytes), synonym: 'log.index.size.max.bytes' },
  'index.interval.bytes': { type: 'int', minimum: 0, brokerDefault: (c) => String(c.logIndexIntervalBytes), synonym: 'log.index.interval.bytes' },
  'delete.retention.ms': { type: 'long', minimum: 0, brokerDefault: (c) => String(c.logCleanerDeleteRetentionMs), synonym: 'log.cleaner.delete.retention.ms' },
  'flush.messages': { type: 'long', minimum: 1, brokerDefault: (c) => String(c.logFlushIntervalMessages), synonym: 'log.flush.interval.messages' },
  'flush.ms': { type: 'long', minimum: 0, brokerDefault: (c) => String(c.logFlushIntervalMs), synonym: 'log.flush.interval.ms' },
  'min.insync.replicas': { type: 'int', minimum: 1, brokerDefault: (c) => String(c.minInsyncReplicas), synonym: 'min.insync.replicas' },
  'max.message.bytes': { type: 'int', minimum: 0, brokerDefault: (c) => String(c.messageMaxBytes), synonym: 'message.max.bytes' },
  'message.timestamp.type': { type: 'string', valid: ['CreateTime', 'LogAppendTime'], brokerDefault: (c) => c.logMessageTimestampType, synonym: 'log.message.timestamp.type' },
  'compression.type': { type: 'string', valid: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'], brokerDefault: () => 'producer', synonym: 'compression.type' },
  'unclean.leader.election.enable': { type: 'boolean', brokerDefault: () => 'false', synonym: 'unclean.leader.election.enable' },
};

/** Returns an error message for a bad topic config, or null when it is acceptable. */
export function checkTopicConfig(name: string, value: string | null): string | null {
  const definition = topicConfigDefinitions[name];
  if (definition === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return null;
  if (definition.type === 'long' || definition.type === 'int') {
    if (!/^-?\d+$/.test(value.trim())) return `Invalid value ${value} for configuration ${name}: Not a number`;
    const number = Number(value);
    if (definition.type === 'int' && (number > 2_147_483_647 || number < -2_147_483_648)) return `Invalid value ${value} for configuration ${name}: Not an int`;
    if (definition.minimum !== undefined && number < definition.minimum) return `Invalid value ${value} for configuration ${name}: Value must be at least ${definition.minimum}`;
  }
  if (definition.type === 'boolean' && value !== 'true' && value !== 'false') return `Invalid value ${value} for configuration ${name}: Expected true or false`;
  if (definition.valid !== undefined) {
    const items = definition.type === 'list' ? value.split(',').map((item) => item.trim()) : [value];
    for (const item of items) if (!definition.valid.includes(item)) return `Invalid value ${value} for configuration ${name}: String must be one of: ${definition.valid.join(', ')}`;
  }
  return null;
}

/** A topic config's effective value: the topic's own setting, else the broker default. */
export function topicConfigValue(name: string, topicConfigs: Readonly<Record<string, string>>, config: BrokerConfig): string {
  const own = topicConfigs[name];
  if (own !== undefined) return own;
  const definition = topicConfigDefinitions[name];
  assertDefined(definition, name);
  return definition.brokerDefault(config);
}

function assertDefined<T>(value: T | undefined, name: string): asserts value is T {
  if (value === undefined) throw new TypeError(`unknown topic config ${name}`);
}

/** The log settings of a topic: its own configs over the broker's `log.*` defaults. */
export function logConfigFor(topicConfigs: Readonly<Record<string, string>>, config: BrokerConfig): Partial<LogConfig> {
  const value = (name: string): string => topicConfigValue(name, topicConfigs, config);
  return {
    segmentBytes: Number(value('segment.bytes')),
    segmentMs: Number(value('segment.ms')),
    indexIntervalBytes: Number(value('index.interval.bytes')),
    segmentIndexBytes: Number(value('segment.index.bytes')),
    retentionMs: Number(value('retention.ms')),
    retentionBytes: Number(value('retention.bytes')),
    cleanupPolicy: value('cleanup.policy').split(',').map((item) => item.trim()).sort().join(',') as LogConfig['cleanupPolicy'],
    deleteRetentionMs: Number(value('delete.retention.ms')),
    flushMessages: Number(value('flush.messages')),
    flushMs: Number(value('flush.ms')),
    maxMessageBytes: Number(value('max.message.bytes')),
    messageTimestampType: value('message.timestamp.type') as LogConfig['messageTimestampType'],
  };
}
