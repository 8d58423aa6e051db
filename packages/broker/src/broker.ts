/**
 * One Kafka broker over `@gregor/log`: the data dir (`meta.properties`, the topic metadata file,
 * one log per partition), the topics with their ids and configs, the partitions' leader state, the
 * group coordinator with its offsets in `__consumer_offsets`, and `handle()`, the single entry
 * point both the TCP server and the in-process client call with protocol-decoded bodies.
 * Single-threaded: everything runs on the event loop; handlers may park (long-poll Fetch,
 * JoinGroup, SyncGroup) but never block.
 */
import path from 'node:path';
import { ErrorCode, isVersionServed } from '@gregor/protocol';
import { CorruptRecordError, decodeBatch, encodeBatch, forEachBatch } from '@gregor/records';
import {
  LogManager, nodeFileSystem, reportDamage, rollChannel, stderrWarningSink, systemClock,
  type Clock, type FileSystem, type LogConfig, type TimerHandle, type WarningSink,
} from '@gregor/log';
import { BrokerConfigView } from './broker-config-view.js';
import { logConfigFor, resolveBrokerConfig, type BrokerConfig } from './config.js';
import { topicConfigValue } from './config-entries.js';
import { isProblem, validateBrokerConfigs, validateTopicConfigs } from './config-validation.js';
import { checkAddedAssignments, checkCreateAssignments } from './replica-assignment.js';
import type { Body, RequestContext } from './context.js';
import { BrokerError } from './errors.js';
import { GroupCoordinator, type OffsetCommit } from './group/coordinator.js';
import {
  decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey, encodeGroupMetadataKey, encodeGroupMetadataValue,
  encodeOffsetCommitKey, encodeOffsetCommitValue, type StoredGroup,
} from './group/offsets-schema.js';
import { handlers } from './handlers/index.js';
import { partitionForGroup, randomTopicId, type Random } from './ids.js';
import { loadOrCreateMetaProperties, type MetaProperties } from './meta-properties.js';
import { Partition, storageErrorCode } from './partition.js';
import { BlockProducerIdAllocator, type ProducerIdAllocator, type ProducerIdBlockSource } from './producer-id-allocator.js';
import { ProducerIdBlockFile } from './producer-id-block-file.js';
import { type ClientQuotaRecord, TopicStore, type TopicRecord } from './topic-store.js';
import { warn } from './warnings.js';
import { INTERNAL_TOPICS, OFFSETS_TOPIC, topicNameProblem, type Topic } from './topics.js';

export interface BrokerOptions {
  dir: string;
  fs?: FileSystem;
  clock?: Clock;
  /** Uniform in [0, 1); topic ids, the cluster id and member ids come from it. */
  random?: Random;
  config?: Partial<BrokerConfig>;
  /**
   * Where producer id blocks come from (default: `latest-producer-id-block` in the data dir). The
   * cluster's controller replaces it with AllocateProducerIds.
   */
  producerIdBlockSource?: ProducerIdBlockSource;
  /**
   * Where damage found in the data directory is reported: what recovery moved aside, corrupt
   * batches met by reads, checkpoints and snapshots that could not be read (default: stderr).
   */
  logger?: WarningSink;
}

/** Outcome of a topic change: Kafka's error code and message (NONE and null on success). */
export interface TopicChange {
  errorCode: number;
  errorMessage: string | null;
  topic?: Topic;
  /** CreateTopics: the topic's shape and its own configs as stored (also for validateOnly). */
  created?: { numPartitions: number; replicationFactor: number; configs: Record<string, string> };
}

export interface CreateTopicRequest {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments?: readonly { partitionIndex: number; brokerIds: number[] }[];
  configs?: readonly { name: string; value: string | null }[];
  validateOnly?: boolean;
}

/**
 * What `handle()` resolves to for a request that gets no response (Produce with acks=0): the
 * server sends nothing back and the in-process client resolves its call without a body.
 */
export const NO_RESPONSE = null;

export class Broker {
  /** The typed settings; dynamic broker configs (AlterConfigs) update the fields Gregor acts on. */
  readonly config: BrokerConfig;
  /** Every broker config as a Kafka string with its source (DescribeConfigs, topic defaults). */
  readonly configView: BrokerConfigView;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly random: Random;
  readonly dir: string;
  readonly logger: WarningSink;
  readonly meta: MetaProperties;
  readonly coordinator: GroupCoordinator;
  readonly topics = new Map<string, Topic>();
  readonly topicsById = new Map<string, Topic>();
  private readonly partitionsByDir = new Map<string, Partition>();
  advertisedHost = 'localhost';
  advertisedPort = 9092;
  /** Long-poll fetches parked now (bounded by `fetchWaitersMax`). */
  fetchWaiters = 0;
  private readonly store: TopicStore;
  private readonly logs: LogManager;
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly closeListeners = new Set<() => void>();
  /** Hands out the producer ids of InitProducerId, in blocks reserved before use. */
  readonly producerIds: ProducerIdAllocator;
  private producerExpirationTimer: TimerHandle | null = null;
  private offsetsRetentionTimer: TimerHandle | null = null;
  /** `__consumer_offsets` records found unreadable at open (an unknown version, a cut record). */
  skippedOffsetRecords = 0;

  private constructor(
    options: Required<Omit<BrokerOptions, 'producerIdBlockSource'>> & { config: BrokerConfig; producerIdBlockSource?: ProducerIdBlockSource },
    meta: MetaProperties, store: TopicStore, logs: LogManager, configView: BrokerConfigView,
  ) {
    this.config = options.config;
    this.configView = configView;
    this.logger = options.logger;
    this.fs = options.fs;
    this.clock = options.clock;
    this.random = options.random;
    this.dir = options.dir;
    this.meta = meta;
    this.store = store;
    this.logs = logs;
    this.producerIds = new BlockProducerIdAllocator(options.producerIdBlockSource ?? new ProducerIdBlockFile({
      fs: this.fs,
      dir: this.dir,
      nodeId: this.config.nodeId,
      highestKnownProducerId: () => this.highestKnownProducerId(),
      onWarning: warn,
    }));
    this.coordinator = new GroupCoordinator(this.clock, this.random, this.config, {
      storeOffsets: (groupId, commits) => this.storeOffsets(groupId, commits),
      storeGroup: (groupId, group) => this.storeGroup(groupId, group),
      storeTombstones: (groupId, offsets, group) => this.storeTombstones(groupId, offsets, group),
      partitionExists: (topic, partition) => this.partition(topic, partition) !== undefined,
    });
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    const config = resolveBrokerConfig(options.config);
    const fs = options.fs ?? nodeFileSystem;
    const clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    const logger = options.logger ?? stderrWarningSink;
    fs.mkdir(options.dir);
    const meta = loadOrCreateMetaProperties(fs, options.dir, config.nodeId, random);
    const store = TopicStore.open(fs, options.dir);
    if (!store.existed) adoptPartitionDirs(fs, options.dir, store, random);
    // The typed settings follow the stored dynamic configs before anything reads them.
    const configView = new BrokerConfigView(config, Object.freeze({ ...config }));
    configView.applyDynamic({ perBroker: store.brokerConfigsOf(String(config.nodeId)), clusterDefault: store.brokerConfigsOf('') });
    const logConfigOf = (configs: Readonly<Record<string, string>>) => logConfigFor((name) => topicConfigValue(name, configs, configView));
    const logs = LogManager.open({
      fs,
      dir: options.dir,
      clock,
      random,
      config: logConfigOf({}),
      configFor: (topic) => logConfigOf(store.get(topic)?.configs ?? {}),
      managerConfig: {
        cleanerBackoffMs: config.logCleanerBackoffMs,
        retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
        recoveryPointCheckpointIntervalMs: config.logFlushOffsetCheckpointIntervalMs,
      },
      logger,
    });
    const broker = new Broker({ dir: options.dir, fs, clock, random, config, producerIdBlockSource: options.producerIdBlockSource, logger }, meta, store, logs, configView);
    try {
      for (const record of store.all()) broker.openTopic(record);
      if (store.existed) broker.deleteStrayLogs();
      broker.loadOffsets();
    } catch (error) {
      // Nothing was served yet: close the logs (their timers) and report why the open failed.
      broker.coordinator.close();
      logs.close();
      throw error;
    }
    broker.coordinator.startLoadedGroups();
    rollChannel.subscribe(broker.onLogRoll);
    broker.scheduleProducerExpiration();
    broker.scheduleOffsetsRetention();
    return broker;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.meta.clusterId;
  }

  /** The server calls this after binding, so Metadata and FindCoordinator name the real address. */
  setAdvertisedListener(host: string, port: number): void {
    this.advertisedHost = host;
    this.advertisedPort = port;
  }

  /**
   * Answers one request. `body` is `@gregor/protocol`'s decoded request for (apiKey, apiVersion);
   * the result is the response body to encode for the same version, or NO_RESPONSE (null) for a
   * Produce with acks=0. An API or version this broker does not serve is a BrokerError
   * 'UNSUPPORTED_VERSION' (the server closes the connection, as Kafka does).
   */
  async handle(apiKey: number, apiVersion: number, body: Body, context: RequestContext = {}): Promise<Body | null> {
    const handler = handlers.get(apiKey);
    if (handler === undefined || !isVersionServed(apiKey, apiVersion)) {
      throw new BrokerError('UNSUPPORTED_VERSION', `API key ${apiKey} version ${apiVersion} is not served`, ErrorCode.UNSUPPORTED_VERSION);
    }
    if (this.closed) throw new BrokerError('BROKER_CLOSED', 'The broker is closed', ErrorCode.BROKER_NOT_AVAILABLE);
    const result = handler(this, apiVersion, body, context);
    if (!(result instanceof Promise)) return result;
    this.pending.add(result);
    try {
      return await result;
    } finally {
      this.pending.delete(result);
    }
  }

  partition(topic: string, partitionIndex: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[partitionIndex];
  }

  /** A topic config's effective value as a Kafka string (the topic's own setting, else its broker default). */
  topicConfig(topic: Topic, name: string): string {
    return topicConfigValue(name, topic.configs, this.configView);
  }

  /** The highest producer id any partition remembers (-1: none). */
  private highestKnownProducerId(): number {
    let highest = -1;
    for (const topic of this.topics.values()) {
      for (const partition of topic.partitions) highest = Math.max(highest, partition.producerState.highestProducerId());
    }
    return highest;
  }

  // ---------------------------------------------------------------- topics

  /** Checks a CreateTopics entry as Kafka does; creates the topic unless validateOnly. */
  createTopic(request: CreateTopicRequest): TopicChange {
    const plan = this.planTopic(request);
    if ('errorCode' in plan) return plan;
    if (request.validateOnly === true) return { errorCode: ErrorCode.NONE, errorMessage: null, created: plan };
    const record: TopicRecord = {
      name: request.name,
      topicId: randomTopicId(this.random),
      replicationFactor: plan.replicationFactor,
      configs: plan.configs,
      partitions: Array.from({ length: plan.numPartitions }, () => ({ leaderEpoch: 0 })),
    };
    const partitions = this.openThenStore(record, 0);
    if (!Array.isArray(partitions)) return partitions;
    const topic = this.registerTopic(record, partitions);
    for (const partition of topic.partitions) partition.makeLeader(0);
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic, created: plan };
  }

  /** The brokers a replica assignment may name: this one (the cluster work will add the others). */
  get registeredBrokerIds(): ReadonlySet<number> {
    return new Set([this.nodeId]);
  }

  /** Kafka's checks of a CreateTopics entry; returns the topic's shape and normalized configs, or the error. */
  private planTopic(request: CreateTopicRequest): TopicChange | { numPartitions: number; replicationFactor: number; configs: Record<string, string> } {
    const fail = (errorCode: number, errorMessage: string): TopicChange => ({ errorCode, errorMessage });
    const nameProblem = topicNameProblem(request.name);
    if (nameProblem !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.topics.has(request.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${request.name}' already exists.`);
    const collision = this.collidingTopic(request.name);
    if (collision !== undefined) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${request.name}' collides with existing topic: ${collision}`);
    let numPartitions = request.numPartitions === -1 ? this.config.numPartitions : request.numPartitions;
    let replicationFactor = request.replicationFactor === -1 ? this.config.defaultReplicationFactor : request.replicationFactor;
    if ((request.assignments?.length ?? 0) > 0) {
      const assigned = checkCreateAssignments(request.assignments ?? [], request.numPartitions, request.replicationFactor, this.registeredBrokerIds);
      if ('errorCode' in assigned) return assigned;
      ({ numPartitions, replicationFactor } = assigned);
    }
    if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > this.config.topicPartitionsMax) {
      return fail(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be between 1 and ${this.config.topicPartitionsMax}, got ${request.numPartitions}.`);
    }
    if (replicationFactor !== 1) {
      return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${request.replicationFactor} larger than available brokers: 1.`);
    }
    const given: Record<string, string> = {};
    const nulls = (request.configs ?? []).filter((config) => config.value === null).map((config) => config.name);
    if (nulls.length > 0) return fail(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`);
    for (const config of request.configs ?? []) given[config.name] = config.value as string;
    const checked = validateTopicConfigs(given, this.configView);
    if (isProblem(checked)) return fail(checked.errorCode, checked.message);
    return { numPartitions, replicationFactor, configs: checked.configs };
  }

  /**
   * Replaces a topic's own configs (AlterConfigs and IncrementalAlterConfigs compute the new set)
   * after Kafka's checks, stores them and applies them to its open logs.
   */
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly: boolean): TopicChange {
    const topic = this.topics.get(name);
    if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${name} does not exist` };
    const checked = validateTopicConfigs(configs, this.configView);
    if (isProblem(checked)) return { errorCode: checked.errorCode, errorMessage: checked.message };
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
    const record = this.store.get(name);
    if (record === undefined) throw new BrokerError('TOPIC_STORE_MISMATCH', `topic ${name} is open but not stored`);
    try {
      this.store.put({ ...record, configs: checked.configs });
    } catch (error) {
      return storageFailure(error);
    }
    topic.configs = checked.configs;
    this.applyLogConfigs(topic);
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  /**
   * Replaces the dynamic configs of broker resource `resourceName` (this broker's id, or '' for
   * the cluster-wide defaults) after Kafka's checks; stores them and applies them (the typed
   * settings and every log's defaults follow).
   */
  alterBrokerConfigs(resourceName: string, configs: Readonly<Record<string, string>>, validateOnly: boolean): TopicChange {
    const checked = validateBrokerConfigs(configs, resourceName !== '');
    if (isProblem(checked)) return { errorCode: checked.errorCode, errorMessage: checked.message };
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    try {
      this.store.putBrokerConfigs(resourceName, checked.configs);
    } catch (error) {
      return storageFailure(error);
    }
    this.applyDynamicBrokerConfigs();
    for (const topic of this.topics.values()) this.applyLogConfigs(topic);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /** The dynamic configs stored for broker resource `resourceName`. */
  dynamicBrokerConfigs(resourceName: string): Record<string, string> {
    return this.store.brokerConfigsOf(resourceName);
  }

  private applyDynamicBrokerConfigs(): void {
    this.configView.applyDynamic({ perBroker: this.store.brokerConfigsOf(String(this.nodeId)), clusterDefault: this.store.brokerConfigsOf('') });
  }

  /** Pushes a topic's effective configs to its open logs (retention, compaction, rolling use them from their next run). */
  private applyLogConfigs(topic: Topic): void {
    const logConfig = this.logConfigOf(topic.configs);
    for (const partition of topic.partitions) partition.log.updateConfig(logConfig);
  }

  private logConfigOf(configs: Readonly<Record<string, string>>): Partial<LogConfig> {
    return logConfigFor((name) => topicConfigValue(name, configs, this.configView));
  }

  /** The client quotas (stored and described; not enforced). */
  get clientQuotas(): ClientQuotaRecord[] {
    return this.store.clientQuotas();
  }

  /** Stores the client quotas; NONE, or KAFKA_STORAGE_ERROR (nothing changed) when the disk refuses. */
  setClientQuotas(quotas: ClientQuotaRecord[]): number {
    try {
      this.store.putClientQuotas(quotas);
    } catch (error) {
      return storageFailure(error).errorCode;
    }
    return ErrorCode.NONE;
  }

  /** Kafka refuses names that differ only by '.' versus '_' (they clash in metric names). */
  private collidingTopic(name: string): string | undefined {
    const normalized = name.replaceAll('.', '_');
    for (const existing of this.topics.keys()) if (existing.replaceAll('.', '_') === normalized) return existing;
    return undefined;
  }

  /** Creates a topic the way auto-creation does (broker defaults; `__consumer_offsets` as itself). */
  autoCreateTopic(name: string): TopicChange {
    if (name === OFFSETS_TOPIC) return this.ensureOffsetsTopic();
    return this.createTopic({ name, numPartitions: this.config.numPartitions, replicationFactor: this.config.defaultReplicationFactor });
  }

  ensureOffsetsTopic(): TopicChange {
    const existing = this.topics.get(OFFSETS_TOPIC);
    if (existing !== undefined) return { errorCode: ErrorCode.NONE, errorMessage: null, topic: existing };
    return this.createTopic({
      name: OFFSETS_TOPIC,
      numPartitions: this.config.offsetsTopicNumPartitions,
      replicationFactor: 1,
      configs: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.bytes', value: String(this.config.offsetsTopicSegmentBytes) },
      ],
    });
  }

  deleteTopic(name: string): TopicChange {
    const topic = this.topics.get(name);
    if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
    if (!this.config.deleteTopicEnable) return { errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'Topic deletion is disabled.' };
    if (INTERNAL_TOPICS.has(name)) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `Topic ${name} is internal and cannot be deleted` };
    // The topics file is the commit point: if it cannot be written, the topic stays whole.
    try {
      this.store.delete(name);
    } catch (error) {
      return storageFailure(error);
    }
    this.topics.delete(name);
    this.topicsById.delete(topic.topicId);
    this.discardPartitions(name, topic.partitions);
    for (const [groupId, partitions] of this.coordinator.removeOffsetsOfTopic(name)) {
      try {
        this.appendToOffsetsTopic(groupId, partitions.map((partitionIndex) => ({ key: encodeOffsetCommitKey(groupId, name, partitionIndex), value: null })));
      } catch (error) {
        // The topic is gone; its offsets are gone from memory. Without the tombstones they come
        // back after a restart, naming a topic that does not exist, as Kafka's can until expiry.
        warn(`the committed offsets of deleted topic ${name} for group ${groupId} could not be removed from ${OFFSETS_TOPIC}: ${(error as Error).message}`);
      }
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  /** CreatePartitions for one topic; `assignments` (one replica list per added partition) or null to let the broker place them. */
  createPartitions(name: string, count: number, assignments: readonly (readonly number[])[] | null, validateOnly: boolean): TopicChange {
    const topic = this.topics.get(name);
    if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` };
    const current = topic.partitions.length;
    if (count < current) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic currently has ${current} partitions, which is higher than the requested ${count}.` };
    if (count === current) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic already has ${current} partitions.` };
    if (count > this.config.topicPartitionsMax) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Number of partitions must be at most ${this.config.topicPartitionsMax}.` };
    if (assignments !== null) {
      const problem = checkAddedAssignments(assignments, count - current, topic.replicationFactor, this.registeredBrokerIds);
      if (problem !== null) return problem;
    }
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const stored = this.store.get(name);
    if (stored === undefined) throw new BrokerError('TOPIC_STORE_MISMATCH', `topic ${name} is open but not stored`);
    const record: TopicRecord = { ...stored, partitions: [...stored.partitions, ...Array.from({ length: count - current }, () => ({ leaderEpoch: 0 }))] };
    const added = this.openThenStore(record, current);
    if (!Array.isArray(added)) return added;
    for (const partition of added) {
      partition.makeLeader(0);
      topic.partitions.push(partition);
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  /**
   * Partition dirs no stored topic owns (a crash between deleting a topic's metadata and its
   * directories) are deleted, so a topic created later under that name starts empty.
   */
  private deleteStrayLogs(): void {
    for (const { topic, partition } of this.logs.all()) {
      const owner = this.topics.get(topic);
      if (owner === undefined || partition >= owner.partitions.length) this.logs.delete(topic, partition);
    }
  }

  /**
   * Opens the record's partitions from `first` on, then writes the record to the topics file (the
   * commit point): a crash between the two leaves stray directories that the next open deletes,
   * and a full disk leaves nothing at all (opened partitions are removed again). Returns the
   * opened partitions, or the storage failure to answer.
   */
  private openThenStore(record: TopicRecord, first: number): Partition[] | TopicChange {
    let partitions: Partition[];
    try {
      partitions = this.openPartitions(record.name, record.configs, first, record.partitions.slice(first).map((entry) => entry.leaderEpoch));
    } catch (error) {
      return storageFailure(error);
    }
    try {
      this.store.put(record);
    } catch (error) {
      this.discardPartitions(record.name, partitions);
      return storageFailure(error);
    }
    return partitions;
  }

  private openTopic(record: TopicRecord): Topic {
    return this.registerTopic(record, this.openPartitions(record.name, record.configs, 0, record.partitions.map((entry) => entry.leaderEpoch)));
  }

  private registerTopic(record: TopicRecord, partitions: Partition[]): Topic {
    const topic: Topic = { name: record.name, topicId: record.topicId, replicationFactor: record.replicationFactor, configs: record.configs, partitions };
    this.topics.set(topic.name, topic);
    this.topicsById.set(topic.topicId, topic);
    return topic;
  }

  /**
   * Opens (creating) partitions `first`, `first + 1`, ... of a topic, one per leader epoch given.
   * All or none: if one cannot be created (a full disk), those opened are closed and removed again.
   */
  private openPartitions(topic: string, configs: Record<string, string>, first: number, leaderEpochs: readonly number[]): Partition[] {
    const opened: Partition[] = [];
    let index = first;
    try {
      for (const leaderEpoch of leaderEpochs) {
        opened.push(this.openPartition(topic, configs, index, leaderEpoch));
        index += 1;
      }
    } catch (error) {
      this.discardPartitions(topic, opened);
      // The partition that failed may have left a directory behind without a log to close.
      const failedDir = path.join(this.dir, `${topic}-${index}`);
      if (!this.logs.delete(topic, index) && this.fs.exists(failedDir)) this.fs.rmdir(failedDir);
      throw error;
    }
    return opened;
  }

  /** Closes partitions and deletes their logs (a deleted topic, or a creation undone). */
  private discardPartitions(topic: string, partitions: readonly Partition[]): void {
    for (const partition of partitions) {
      partition.close();
      this.partitionsByDir.delete(partition.log.dir);
      this.logs.delete(topic, partition.partitionIndex);
    }
  }

  private openPartition(topic: string, configs: Record<string, string>, partitionIndex: number, leaderEpoch: number): Partition {
    const log = this.logs.getOrCreate(topic, partitionIndex, this.logConfigOf(configs));
    const partition = new Partition({
      topic,
      partitionIndex,
      log,
      fs: this.fs,
      dir: path.join(this.dir, `${topic}-${partitionIndex}`),
      nodeId: this.nodeId,
      leaderEpoch,
      producerBatchesRetained: this.config.producerBatchesRetained,
      producerSnapshotsRetained: this.config.producerSnapshotsRetained,
      producerIdExpirationMs: this.config.producerIdExpirationMs,
      clock: this.clock,
      logger: this.logger,
    });
    this.partitionsByDir.set(log.dir, partition);
    return partition;
  }

  /**
   * Kafka takes a producer-state snapshot when a segment rolls. The log publishes the roll inside
   * append, before the new batches are written and before their producer state is committed, so
   * the snapshot named after the new segment's base offset holds exactly the state below it.
   */
  private readonly onLogRoll = (message: unknown): void => {
    const { dir, baseOffset } = message as { dir: string; baseOffset: number };
    const partition = this.partitionsByDir.get(dir);
    if (partition !== undefined && baseOffset === partition.logEndOffset) partition.takeProducerSnapshot();
  };

  /** Periodically forgets idle producers (bounded producer state, as Kafka). */
  private scheduleProducerExpiration(): void {
    this.producerExpirationTimer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      for (const topic of this.topics.values()) {
        for (const partition of topic.partitions) partition.producerState.removeExpired(now, this.config.producerIdExpirationMs);
      }
      if (!this.closed) this.scheduleProducerExpiration();
    }, this.config.producerIdExpirationCheckIntervalMs);
  }

  // ---------------------------------------------------------------- __consumer_offsets

  /** Periodically expires the offsets of empty groups (offsets.retention.minutes), with tombstones. */
  private scheduleOffsetsRetention(): void {
    this.offsetsRetentionTimer = this.clock.setTimeout(() => {
      this.expireOffsets();
      if (!this.closed) this.scheduleOffsetsRetention();
    }, this.config.offsetsRetentionCheckIntervalMs);
  }

  private expireOffsets(): void {
    for (const expired of this.coordinator.expireOffsets(this.clock.now() - this.config.offsetsRetentionMs)) {
      const records: { key: Buffer; value: Buffer | null }[] = expired.offsets.map(({ topic, partition }) => ({ key: encodeOffsetCommitKey(expired.groupId, topic, partition), value: null }));
      if (expired.groupRemoved) records.push({ key: encodeGroupMetadataKey(expired.groupId), value: null });
      try {
        this.appendToOffsetsTopic(expired.groupId, records);
      } catch {
        // The next check writes the tombstones again only for offsets still present; a lost
        // tombstone means the offset reappears after a restart and expires again then.
      }
    }
  }

  offsetsPartitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.topics.get(OFFSETS_TOPIC)?.partitions.length ?? this.config.offsetsTopicNumPartitions);
  }

  private storeOffsets(groupId: string, commits: readonly OffsetCommit[]): void {
    this.appendToOffsetsTopic(groupId, commits.map((commit) => ({
      key: encodeOffsetCommitKey(groupId, commit.topic, commit.partition),
      value: encodeOffsetCommitValue(commit),
    })));
  }

  private storeGroup(groupId: string, group: StoredGroup | null): void {
    this.appendToOffsetsTopic(groupId, [{ key: encodeGroupMetadataKey(groupId), value: group === null ? null : encodeGroupMetadataValue(group) }]);
  }

  private storeTombstones(groupId: string, offsets: readonly { topic: string; partition: number }[], group: boolean): void {
    const records: { key: Buffer; value: Buffer | null }[] = offsets.map(({ topic, partition }) => ({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null }));
    if (group) records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    if (records.length > 0) this.appendToOffsetsTopic(groupId, records);
  }

  /** One batch of records to the group's `__consumer_offsets` partition; throws if refused. */
  private appendToOffsetsTopic(groupId: string, records: { key: Buffer; value: Buffer | null }[]): void {
    const topic = this.ensureOffsetsTopic().topic;
    if (topic === undefined) throw new BrokerError('OFFSETS_TOPIC_UNAVAILABLE', 'Could not create __consumer_offsets', ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const partition = topic.partitions[partitionForGroup(groupId, topic.partitions.length)];
    const timestamp = this.clock.now();
    const batch = encodeBatch({ timestamp, records: records.map((record) => ({ ...record, timestamp })) });
    const outcome = partition.appendRecordsToLeader(batch, { requiredAcks: -1, maxMessageBytes: Number.MAX_SAFE_INTEGER, minInsyncReplicas: 1, decompressedBytesMax: this.config.producedBatchDecompressedBytesMax });
    if (outcome.errorCode !== ErrorCode.NONE) throw new BrokerError('OFFSET_COMMIT_FAILED', `__consumer_offsets append failed with ${outcome.errorCode}`, outcome.errorCode);
  }

  /**
   * Replays every `__consumer_offsets` partition into the coordinator (Kafka loads on election).
   * Damage does not stop the broker: damaged batches are passed over (the log moves or reports
   * them) and what they held is reported lost; every commit outside them is loaded.
   */
  private loadOffsets(): void {
    const topic = this.topics.get(OFFSETS_TOPIC);
    if (topic === undefined) return;
    for (const partition of topic.partitions) {
      const name = `${OFFSETS_TOPIC}-${partition.partitionIndex}`;
      partition.log.replayBatches(partition.logStartOffset, partition.logEndOffset, (records) => {
        forEachBatch(records, (position) => this.loadOffsetsBatch(name, records, position), { allowPartialTail: true });
      }, (error) => {
        reportDamage(this.logger, 'OFFSETS_DAMAGE_SKIPPED', `group metadata and committed offsets stored in ${name} before offset ${error.resumeOffset} in the damaged bytes were not loaded: ${error.message}`, {
          path: error.path, startPosition: error.startPosition, endPosition: error.endPosition, resumeOffset: error.resumeOffset,
        });
      });
    }
  }

  private loadOffsetsBatch(name: string, records: Buffer, position: number): void {
    let batch: ReturnType<typeof decodeBatch>;
    try {
      batch = decodeBatch(records, position);
      if (batch.isControl) return;
      for (const record of batch.records()) this.loadOffsetRecord(record.key, record.value);
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      this.skippedOffsetRecords += 1;
      reportDamage(this.logger, 'OFFSETS_DAMAGE_SKIPPED', `skipped an unreadable batch of ${name}: ${error.message}`, { partition: name });
    }
  }

  /** Applies one `__consumer_offsets` record; one we cannot parse is skipped (counted), not fatal. */
  private loadOffsetRecord(key: Buffer | null, value: Buffer | null): void {
    if (key === null) return;
    try {
      this.applyOffsetRecord(key, value);
    } catch (error) {
      if (!(error instanceof BrokerError)) throw error;
      this.skippedOffsetRecords += 1;
    }
  }

  private applyOffsetRecord(key: Buffer, value: Buffer | null): void {
    const decoded = decodeOffsetsTopicKey(key);
    if (decoded.kind === 'group') {
      this.coordinator.loadGroup(decoded.groupId, value === null ? null : decodeGroupMetadataValue(value));
      return;
    }
    this.coordinator.loadOffset(decoded.groupId, decoded.topic, decoded.partition, value === null ? null : decodeOffsetCommitValue(value));
  }

  // ---------------------------------------------------------------- shutdown

  /** Answers parked requests, stops timers, snapshots producer state and closes the logs cleanly. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    rollChannel.unsubscribe(this.onLogRoll);
    if (this.producerExpirationTimer !== null) this.clock.clearTimeout(this.producerExpirationTimer);
    if (this.offsetsRetentionTimer !== null) this.clock.clearTimeout(this.offsetsRetentionTimer);
    this.coordinator.close();
    for (const listener of [...this.closeListeners]) listener();
    for (const topic of this.topics.values()) {
      for (const partition of topic.partitions) partition.close();
    }
    await Promise.allSettled([...this.pending]);
    // A full disk must not stop the shutdown half way: what cannot be written is warned about,
    // and the logs are still flushed and closed. Without a clean-shutdown marker the next open
    // recovers, and producer state is rebuilt from the log, as after a crash.
    for (const topic of this.topics.values()) {
      for (const partition of topic.partitions) {
        try {
          partition.takeProducerSnapshot();
        } catch (error) {
          warnStorageFailure(error, `the producer-state snapshot of ${topic.name}-${partition.partitionIndex} could not be written at shutdown`);
        }
      }
    }
    try {
      this.logs.close();
    } catch (error) {
      warnStorageFailure(error, 'the logs are closed, but the checkpoints and the clean-shutdown marker could not be written (the next start recovers the logs)');
    }
  }

  /**
   * Stops this broker as a crash would, for fault tests and simulations: parked requests are
   * answered (retriable errors or what they have), timers and listeners stop, and nothing is
   * flushed, snapshotted or marked clean (the LogManager is abandoned: its timers stop and its
   * files close without a flush). With MemoryFileSystem, call `crash()` after this to also lose
   * the unsynced writes.
   */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    rollChannel.unsubscribe(this.onLogRoll);
    if (this.producerExpirationTimer !== null) this.clock.clearTimeout(this.producerExpirationTimer);
    if (this.offsetsRetentionTimer !== null) this.clock.clearTimeout(this.offsetsRetentionTimer);
    this.coordinator.close();
    for (const listener of [...this.closeListeners]) listener();
    for (const topic of this.topics.values()) {
      for (const partition of topic.partitions) partition.close();
    }
    this.logs.abandon();
  }

  /** Parked requests register here so close() can answer them; returns the unregister function. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Warns about a write the disk refused; anything that is not a storage failure is a bug and is rethrown. */
function warnStorageFailure(error: unknown, what: string): void {
  storageErrorCode(error);
  warn(`${what}: ${(error as Error).message}`);
}

/**
 * A topic change the disk refused (ENOSPC, EIO): KAFKA_STORAGE_ERROR, which clients retry.
 * Anything that is not a storage failure is a bug and is rethrown (by `storageErrorCode`).
 */
function storageFailure(error: unknown): TopicChange {
  return { errorCode: storageErrorCode(error), errorMessage: `The change could not be written to disk: ${(error as Error).message}` };
}

/**
 * A data dir without a topics file but with partition dirs (written by Kafka, or by Gregor before
 * the file existed) keeps its data: each `<topic>-<n>` becomes a topic with max(n)+1 partitions,
 * a new topic id and default configs (`__consumer_offsets` compacted). Runs before the logs open,
 * so they open with these configs.
 */
function adoptPartitionDirs(fs: FileSystem, dir: string, store: TopicStore, random: Random): void {
  const counts = new Map<string, number>();
  for (const name of fs.readdir(dir)) {
    const match = /^(.+)-(\d+)$/.exec(name);
    if (match === null || !fs.isDirectory(path.join(dir, name)) || topicNameProblem(match[1]) !== null) continue;
    counts.set(match[1], Math.max(counts.get(match[1]) ?? 0, Number(match[2]) + 1));
  }
  for (const [name, count] of counts) {
    store.put({
      name,
      topicId: randomTopicId(random),
      replicationFactor: 1,
      configs: name === OFFSETS_TOPIC ? { 'cleanup.policy': 'compact' } : {},
      partitions: Array.from({ length: count }, () => ({ leaderEpoch: 0 })),
    });
  }
}
