/**
 * The broker's typed settings: Kafka's broker config names camelCased, with Kafka's defaults, plus
 * Gregor's own limits (no Kafka name). Kafka-named settings (`server.properties`, `--override`)
 * become a BrokerConfig through `brokerConfigFromProperties` in config-properties.ts, which also
 * keeps their Kafka strings in `staticBrokerConfigs` for DescribeConfigs. Topic configs and their
 * broker defaults are resolved as Kafka strings by BrokerConfigView (broker-config-view.ts);
 * `logConfigFor` turns them into a log's settings. Pure data and functions.
 */
import type { LogConfig } from '@gregor/log';
import { configNumber } from './config-types.js';

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
  /**
   * `offsets.load.buffer.size`: bytes of `__consumer_offsets` a new coordinator reads per chunk
   * when it loads a partition; the event loop runs between chunks (requests for the partition's
   * groups answer COORDINATOR_LOAD_IN_PROGRESS until the load is done).
   */
  offsetsLoadBufferSize: number;
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
  /**
   * Bytes of its latest appends a leader keeps in memory per partition for its followers' next
   * Fetch (recent-appends.ts), held only until every ISR follower has fetched them; 0 reads every
   * follower Fetch from the log. Gregor's own setting (Kafka has the page cache and sendfile).
   */
  recentAppendsMaxBytes: number;
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
  /** `log.roll.jitter.ms` (or `.hours`): broker default of segment.jitter.ms. */
  logRollJitterMs: number;
  /** `log.cleaner.min.compaction.lag.ms`: broker default of min.compaction.lag.ms. */
  logCleanerMinCompactionLagMs: number;
  /** `log.cleaner.max.compaction.lag.ms`: broker default of max.compaction.lag.ms (Long.MAX_VALUE: none). */
  logCleanerMaxCompactionLagMs: number;
  /** `log.cleaner.min.cleanable.ratio`: broker default of min.cleanable.dirty.ratio. */
  logCleanerMinCleanableRatio: number;
  /** `log.message.timestamp.difference.max.ms` (deprecated in Kafka 3.6): broker default. */
  logMessageTimestampDifferenceMaxMs: number;
  /** `log.message.timestamp.before.max.ms`: broker default of message.timestamp.before.max.ms. */
  logMessageTimestampBeforeMaxMs: number;
  /** `log.message.timestamp.after.max.ms`: broker default of message.timestamp.after.max.ms. */
  logMessageTimestampAfterMaxMs: number;
  /** `log.cleaner.backoff.ms`: pause between compaction passes. */
  logCleanerBackoffMs: number;
  /** `log.retention.check.interval.ms`: how often retention runs. */
  logRetentionCheckIntervalMs: number;
  /** `log.flush.offset.checkpoint.interval.ms`: how often recovery points are checkpointed. */
  logFlushOffsetCheckpointIntervalMs: number;
  /** `unclean.leader.election.enable`: may a replica outside the ISR become leader (the controller's setting). */
  uncleanLeaderElectionEnable: boolean;
  /**
   * The Kafka-named settings the broker was started with (`server.properties`, `--override`), as
   * Kafka strings, including those Gregor does not act on: DescribeConfigs reports them as
   * STATIC_BROKER_CONFIG. Filled by brokerConfigFromProperties.
   */
  staticBrokerConfigs: Readonly<Record<string, string>>;
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
  offsetsLoadBufferSize: 5 * 1024 * 1024,
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
  recentAppendsMaxBytes: 8 * 1024 * 1024,
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
  logRollJitterMs: 0,
  logCleanerMinCompactionLagMs: 0,
  logCleanerMaxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  logCleanerMinCleanableRatio: 0.5,
  logMessageTimestampDifferenceMaxMs: Number.MAX_SAFE_INTEGER,
  logMessageTimestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  logMessageTimestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
  logCleanerBackoffMs: 15_000,
  logRetentionCheckIntervalMs: 300_000,
  logFlushOffsetCheckpointIntervalMs: 60_000,
  uncleanLeaderElectionEnable: false,
  staticBrokerConfigs: Object.freeze({}),
});

export function resolveBrokerConfig(partial: Partial<BrokerConfig> = {}): BrokerConfig {
  const config = { ...brokerConfigDefaults, ...partial };
  for (const [name, value] of Object.entries(partial)) {
    if (value === undefined) (config as Record<string, unknown>)[name] = (brokerConfigDefaults as Record<string, unknown>)[name];
  }
  return config;
}

/**
 * The log's own bound on a batch's size (its `maxMessageBytes`, used when it reads and recovers
 * batches): as large as a segment may be. Kafka reads any stored batch whatever the topic's
 * max.message.bytes, which only limits produce (checked by the produce path, records-validation.ts);
 * bounding the log by the topic config would make batches written under a larger setting
 * unreadable, and cut at recovery, after max.message.bytes is lowered.
 */
export const LOG_BATCH_BYTES_MAX = 0x7fffffff - 12;

/** Reads a topic config's effective value (a Kafka string), as BrokerConfigView.topicConfigValue does. */
export type TopicConfigLookup = (name: string) => string;

/** The log settings of a topic, from its effective topic configs (own setting, else the broker's default). */
export function logConfigFor(value: TopicConfigLookup): Partial<LogConfig> {
  const policies = value('cleanup.policy').split(',');
  const cleanupPolicy = [policies.includes('compact') ? 'compact' : '', policies.includes('delete') ? 'delete' : ''].filter((item) => item !== '').join(',');
  const number = (name: string): number => configNumber(value(name));
  return {
    segmentBytes: number('segment.bytes'),
    segmentMs: number('segment.ms'),
    segmentJitterMs: number('segment.jitter.ms'),
    indexIntervalBytes: number('index.interval.bytes'),
    segmentIndexBytes: number('segment.index.bytes'),
    retentionMs: number('retention.ms'),
    retentionBytes: number('retention.bytes'),
    cleanupPolicy: cleanupPolicy as LogConfig['cleanupPolicy'],
    deleteRetentionMs: number('delete.retention.ms'),
    minCompactionLagMs: number('min.compaction.lag.ms'),
    maxCompactionLagMs: number('max.compaction.lag.ms'),
    minCleanableDirtyRatio: number('min.cleanable.dirty.ratio'),
    flushMessages: number('flush.messages'),
    flushMs: number('flush.ms'),
    maxMessageBytes: LOG_BATCH_BYTES_MAX,
    messageTimestampType: value('message.timestamp.type') as LogConfig['messageTimestampType'],
  };
}
