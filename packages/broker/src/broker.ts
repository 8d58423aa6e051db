/**
 * One Kafka broker in a cluster (Kafka's BrokerServer with its ReplicaManager): the data dir
 * (`meta.properties`, one log per hosted partition, `replication-offset-checkpoint`), the
 * metadata image it applies (`applyMetadata`: topics, partitions, leaders, ISR, epochs and topic
 * configs all come from it), the replicas it leads or follows, its life with the controller
 * (registration, heartbeats, fencing, controlled shutdown), the group coordinator with its offsets
 * in `__consumer_offsets`, and `handle()`, the single entry point both the TCP server and the
 * in-process client call with protocol-decoded bodies.
 *
 * Two ways to get one:
 *   - `Broker.create({ dir, controller, network, listeners, ... })` for a node of a cluster: the
 *     node's metadata loader calls `applyMetadata` for every committed batch, then `startup()`
 *     registers and resolves once the controller has unfenced this broker.
 *   - `Broker.open({ dir })`: a standalone broker, a one-broker cluster around itself (its
 *     controller is the SingleNodeController, which keeps the topics in `gregor-topics.json`).
 *
 * Single-threaded: everything runs on the event loop; handlers may park (long-poll Fetch,
 * acks=all Produce, JoinGroup, SyncGroup) but never block.
 */
import { ErrorCode, isVersionServed } from '@gregor/protocol';
import { CorruptRecordError, decodeBatch, encodeBatch, forEachBatch } from '@gregor/records';
import {
  type LogCorruptionError, LogManager, nodeFileSystem, readCleanShutdownBrokerEpoch, reportDamage, rollChannel, stderrWarningSink, systemClock,
  type Clock, type FileSystem, type LogConfig, type TimerHandle, type WarningSink,
} from '@gregor/log';
import { MetadataImage, type MetadataDelta } from '@gregor/metadata';
import { AlterPartitionManager } from './alter-partition-manager.js';
import { BrokerLifecycleManager } from './broker-lifecycle-manager.js';
import { type BrokerNetwork, ClusterChannelError, type ControllerChannel } from './channels.js';
import { BrokerConfigView } from './broker-config-view.js';
import { logConfigFor, resolveBrokerConfig, type BrokerConfig } from './config.js';
import { topicConfigValue } from './config-entries.js';
import type { Body, RequestContext } from './context.js';
import { ControllerProducerIdBlockSource } from './controller-producer-ids.js';
import { BrokerError } from './errors.js';
import { GroupCoordinator, type OffsetCommit } from './group/coordinator.js';
import {
  decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey, encodeGroupMetadataKey, encodeGroupMetadataValue,
  encodeOffsetCommitKey, encodeOffsetCommitValue, type StoredGroup,
} from './group/offsets-schema.js';
import { handlers } from './handlers/index.js';
import { partitionForGroup, type Random } from './ids.js';
import { loadOrCreateMetaProperties, type MetaProperties } from './meta-properties.js';
import { type Partition, storageErrorCode } from './partition.js';
import { BlockProducerIdAllocator, type ProducerIdAllocator, type ProducerIdBlockSource } from './producer-id-allocator.js';
import { ProducerIdBlockFile } from './producer-id-block-file.js';
import type { ClientQuotaRecord } from './topic-store.js';
import { ReplicaManager, topicConfigRecord } from './replica-manager.js';
import type { RequestAuthorizer } from './authorization.js';
import { SingleNodeController } from './single-node-controller.js';
import { METADATA_TOPIC, OFFSETS_TOPIC } from './topics.js';
import { warn } from './warnings.js';

export interface BrokerOptions {
  dir: string;
  fs?: FileSystem;
  clock?: Clock;
  /** Uniform in [0, 1); topic ids, the cluster id, member ids and the incarnation id come from it. */
  random?: Random;
  config?: Partial<BrokerConfig>;
  /**
   * Where producer id blocks come from. Default: the controller's AllocateProducerIds for a
   * cluster broker, `latest-producer-id-block` in the data dir for a standalone one.
   */
  producerIdBlockSource?: ProducerIdBlockSource;
  /**
   * Where damage found in the data directory is reported: what recovery moved aside, corrupt
   * batches met by reads, checkpoints and snapshots that could not be read (default: stderr).
   */
  logger?: WarningSink;
  /**
   * Decides which principal may do what (Kafka's authorizer, on when `authorizer.class.name` is
   * set); none: every request is allowed.
   */
  authorizer?: RequestAuthorizer;
}

export interface ClusterBrokerOptions extends BrokerOptions {
  /** Requests to the active controller (registration, heartbeats, AlterPartition, forwarded admin requests). */
  controller: ControllerChannel;
  /** Requests to other brokers by id (replica fetchers). */
  network: BrokerNetwork;
  /**
   * The client listeners this broker registers with the controller, as clients should reach them
   * (Kafka's advertised.listeners). Default one `PLAINTEXT` endpoint at localhost:9092.
   */
  listeners?: ListenerEndpoint[];
  /** The cluster id the node agreed on; `meta.properties` is created with it, or must hold it. */
  clusterId?: string;
  /** `broker.rack`. */
  rack?: string | null;
}

/**
 * What `handle()` resolves to for a request that gets no response (Produce with acks=0): the
 * server sends nothing back and the in-process client resolves its call without a body.
 */
export const NO_RESPONSE = null;

const SECURITY_PROTOCOL_PLAINTEXT = 0;

/** One client listener as registered: Kafka's endpoint (name, host, port, security protocol id). */
export interface ListenerEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: number;
}

/** The network of a standalone broker: there is no other broker to talk to. */
const NO_NETWORK: BrokerNetwork = {
  send: (brokerId) => Promise.reject(new ClusterChannelError('BROKER_UNREACHABLE', `a standalone broker has no network (broker ${brokerId})`)),
};

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
  /** Who may do what; undefined: everything is allowed (no `authorizer.class.name`). */
  readonly authorizer: RequestAuthorizer | undefined;
  readonly meta: MetaProperties;
  readonly coordinator: GroupCoordinator;
  readonly controllerChannel: ControllerChannel;
  readonly network: BrokerNetwork;
  readonly lifecycle: BrokerLifecycleManager;
  /** Hands out the producer ids of InitProducerId, in blocks reserved before use. */
  readonly producerIds: ProducerIdAllocator;
  /** The controller of a standalone broker (`Broker.open`); null in a cluster. */
  standaloneController: SingleNodeController | null = null;
  /** The client listeners this broker registers and names in Metadata answers. */
  readonly listeners: ListenerEndpoint[];
  /** The last metadata image applied. */
  image: MetadataImage = MetadataImage.EMPTY;
  /**
   * The active controller's node id as the node knows it (-1: unknown), for Metadata and
   * DescribeCluster answers; the node sets it when the quorum elects a leader.
   */
  activeControllerId = -1;
  /** Long-poll fetches parked now (bounded by `fetchWaitersMax`). */
  fetchWaiters = 0;
  /** `__consumer_offsets` records found unreadable at load (an unknown version, a cut record). */
  skippedOffsetRecords = 0;
  private readonly alterPartitions: AlterPartitionManager;
  private clientQuotaList: ClientQuotaRecord[] = [];
  private logs: LogManager | null = null;
  private replicas: ReplicaManager | null = null;
  private closed = false;
  /**
   * False until the controller has unfenced this broker. Until then the leaderships in its image
   * may be its previous incarnation's (it restarted before the controller fenced that one, with a
   * log that may have lost its unflushed tail), so its group coordinator loads nothing and writes
   * nothing: a coordinator that expired the loaded members' sessions would append GroupMetadata to
   * `__consumer_offsets` at offsets the other replicas hold other records at, in the same leader
   * epoch, which no truncation can detect (seed 26 of the whole-cluster simulation).
   */
  private unfenced = false;
  private strayLogsDeleted = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly closeListeners = new Set<() => void>();
  private readonly metadataListeners = new Set<() => void>();
  private producerExpirationTimer: TimerHandle | null = null;
  private offsetsRetentionTimer: TimerHandle | null = null;

  private constructor(options: ClusterBrokerOptions & { config: BrokerConfig; fs: FileSystem; clock: Clock; random: Random }, meta: MetaProperties, standalone: boolean) {
    this.config = options.config;
    // Dynamic broker configs come with the metadata image (applyMetadata) and update both.
    this.configView = new BrokerConfigView(this.config, Object.freeze({ ...this.config }));
    this.fs = options.fs;
    this.clock = options.clock;
    this.random = options.random;
    this.dir = options.dir;
    this.logger = options.logger ?? stderrWarningSink;
    this.authorizer = options.authorizer;
    this.meta = meta;
    this.controllerChannel = options.controller;
    this.network = options.network;
    this.listeners = (options.listeners ?? [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: SECURITY_PROTOCOL_PLAINTEXT }]).map((endpoint) => ({ ...endpoint }));
    this.lifecycle = new BrokerLifecycleManager({
      channel: this.controllerChannel,
      clock: this.clock,
      random: this.random,
      nodeId: this.config.nodeId,
      clusterId: meta.clusterId,
      rack: options.rack ?? null,
      listeners: () => this.listeners,
      metadataOffset: () => this.image.offset,
      heartbeatIntervalMs: this.config.brokerHeartbeatIntervalMs,
      sessionTimeoutMs: this.config.brokerSessionTimeoutMs,
      previousBrokerEpoch: readCleanShutdownBrokerEpoch(this.fs, this.dir),
    });
    this.alterPartitions = new AlterPartitionManager({
      channel: this.controllerChannel,
      clock: this.clock,
      brokerId: this.config.nodeId,
      brokerEpoch: () => this.lifecycle.brokerEpoch,
      retryBackoffMs: 50,
    });
    const defaultBlockSource = standalone
      ? new ProducerIdBlockFile({ fs: this.fs, dir: this.dir, nodeId: this.config.nodeId, highestKnownProducerId: () => this.highestKnownProducerId(), onWarning: warn })
      : new ControllerProducerIdBlockSource(this.controllerChannel, this.config.nodeId, () => this.lifecycle.brokerEpoch);
    this.producerIds = new BlockProducerIdAllocator(options.producerIdBlockSource ?? defaultBlockSource);
    this.coordinator = new GroupCoordinator(this.clock, this.random, this.config, {
      storeOffsets: (groupId, commits) => this.storeOffsets(groupId, commits),
      storeGroup: (groupId, group) => this.storeGroup(groupId, group),
      storeTombstones: (groupId, offsets, group) => this.storeTombstones(groupId, offsets, group),
      partitionExists: (topic, partition) => this.image.partition(topic, partition) !== undefined,
      partitionFor: (groupId) => this.offsetsPartitionFor(groupId),
    });
  }

  /**
   * A broker of a cluster, not started: the node calls `applyMetadata` as its metadata loader
   * commits batches (the first call once the loader has caught up with the log, as Kafka's
   * MetadataLoader publishes), and `startup()` to register. Opens `meta.properties` (refusing
   * another node id or cluster id); the logs open with the first image.
   */
  static create(options: ClusterBrokerOptions): Broker {
    return Broker.construct(options, false);
  }

  private static construct(options: ClusterBrokerOptions, standalone: boolean): Broker {
    const config = resolveBrokerConfig(options.config);
    const fs = options.fs ?? nodeFileSystem;
    const clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    fs.mkdir(options.dir);
    const meta = loadOrCreateMetaProperties(fs, options.dir, config.nodeId, random, options.clusterId);
    return new Broker({ ...options, config, fs, clock, random }, meta, standalone);
  }

  /**
   * A standalone broker: a one-broker cluster around itself, with the SingleNodeController as its
   * controller and the topics of `gregor-topics.json` (or of the data dir's partition dirs) as
   * its metadata. Resolves once it is registered, unfenced and leads every partition.
   */
  static async open(options: BrokerOptions): Promise<Broker> {
    const config = resolveBrokerConfig(options.config);
    const fs = options.fs ?? nodeFileSystem;
    const random = options.random ?? Math.random;
    let controller: SingleNodeController | null = null;
    const channel: ControllerChannel = {
      send: (apiKey, apiVersion, body) => (controller === null ? Promise.reject(new ClusterChannelError('CONTROLLER_UNREACHABLE', 'not attached')) : controller.send(apiKey, apiVersion, body)),
    };
    const clock = options.clock ?? systemClock;
    const broker = Broker.construct({ ...options, fs, clock, random, config, controller: channel, network: NO_NETWORK }, true);
    try {
      controller = SingleNodeController.open({
        fs, dir: options.dir, nodeId: config.nodeId, clusterId: broker.clusterId, random, clock, config: broker.config, configView: broker.configView,
      });
      broker.standaloneController = controller;
      controller.attach((delta, image) => broker.applyMetadata(delta, image));
      await broker.startup();
    } catch (error) {
      // Nothing was served yet: stop the timers and close what was opened, then report why.
      broker.kill();
      throw error;
    }
    return broker;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.meta.clusterId;
  }

  /** The first client listener's host and port (what a standalone broker advertises). */
  get advertisedHost(): string {
    return this.listeners[0].host;
  }

  get advertisedPort(): number {
    return this.listeners[0].port;
  }

  /**
   * The server calls this after binding, so Metadata and FindCoordinator name the real address.
   * In a cluster, call it before `startup()`: the registration carries the listeners.
   */
  setAdvertisedListener(host: string, port: number, name = this.listeners[0].name): void {
    const existing = this.listeners.find((endpoint) => endpoint.name === name);
    if (existing !== undefined) {
      existing.host = host;
      existing.port = port;
    } else {
      this.listeners.push({ name, host, port, securityProtocol: SECURITY_PROTOCOL_PLAINTEXT });
    }
  }

  /**
   * Registers with the controller and resolves once it has unfenced this broker (Kafka's
   * BrokerServer startup: wait for the initial catch-up with the metadata log, then become ready
   * to be unfenced, then wait for the unfencing). Rejects if the broker is closed meanwhile.
   */
  async startup(): Promise<void> {
    this.lifecycle.start();
    await this.lifecycle.initialCatchUp.promise;
    if (!this.strayLogsDeleted && this.replicas !== null) {
      this.strayLogsDeleted = true;
      this.replicas.deleteStrayLogs();
    }
    this.lifecycle.setReadyToUnfence();
    await this.lifecycle.initialUnfence.promise;
    this.unfenced = true;
    // The leaderships of `__consumer_offsets` this broker holds now are the current controller's.
    for (const partition of this.replicas?.all() ?? []) if (partition.topic === OFFSETS_TOPIC && partition.isLeader) this.onLeadershipChange(partition, true);
  }

  // ---------------------------------------------------------------- metadata

  /**
   * Applies one committed metadata delta (Kafka's BrokerMetadataPublisher → ReplicaManager.applyDelta).
   * Called by the metadata loader for every committed batch, in log order, never concurrently.
   */
  applyMetadata(delta: MetadataDelta, image: MetadataImage): void {
    if (this.closed) return;
    this.image = image;
    const brokerConfigsChanged = delta.changedConfigKeys.has(`4:${this.nodeId}`) || delta.changedConfigKeys.has('4:');
    if (brokerConfigsChanged) {
      this.configView.applyDynamic({ perBroker: Object.fromEntries(image.brokerConfigs(this.nodeId)), clusterDefault: Object.fromEntries(image.brokerConfigs('')) });
    }
    const replicas = this.ensureReplicaManager();
    replicas.applyDelta(delta, image);
    // Topic defaults come from broker configs: every log follows a change of them.
    if (brokerConfigsChanged) for (const partition of replicas.all()) partition.log.updateConfig(this.logConfigOf(partition.configs));
    for (const topic of delta.removedTopics.values()) this.removeOffsetsOfDeletedTopic(topic.name);
    for (const listener of [...this.metadataListeners]) listener();
  }

  private ensureReplicaManager(): ReplicaManager {
    if (this.replicas !== null) return this.replicas;
    // The logs open with the first image, so each opens with its topic's configs.
    this.logs = LogManager.open({
      fs: this.fs,
      dir: this.dir,
      clock: this.clock,
      random: this.random,
      config: this.logConfigOf({}),
      configFor: (topic) => this.logConfigOf(topicConfigRecord(this.image, topic)),
      foreignTopics: new Set([METADATA_TOPIC]),
      managerConfig: {
        cleanerBackoffMs: this.config.logCleanerBackoffMs,
        retentionCheckIntervalMs: this.config.logRetentionCheckIntervalMs,
        recoveryPointCheckpointIntervalMs: this.config.logFlushOffsetCheckpointIntervalMs,
      },
      logger: this.logger,
    });
    this.replicas = new ReplicaManager({
      fs: this.fs,
      dir: this.dir,
      clock: this.clock,
      nodeId: this.nodeId,
      config: this.config,
      logs: this.logs,
      logConfigOf: (configs) => this.logConfigOf(configs),
      logger: this.logger,
      network: this.network,
      alterPartitions: this.alterPartitions,
      onLeadershipChange: (partition, isLeader) => this.onLeadershipChange(partition, isLeader),
      minInsyncReplicas: (partition) => Number(this.topicConfig(partition, 'min.insync.replicas')),
    });
    rollChannel.subscribe(this.onLogRoll);
    this.scheduleProducerExpiration();
    this.scheduleOffsetsRetention();
    return this.replicas;
  }

  /**
   * Resolves true once `condition(image)` holds after an applied image (at once if it holds
   * now), or false after `timeoutMs` or when the broker closes. Forwarded admin requests wait
   * here for their results to reach this broker.
   */
  waitForMetadata(condition: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (condition(this.image)) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        this.metadataListeners.delete(check);
        unsubscribeClose();
        this.clock.clearTimeout(timer);
        resolve(result);
      };
      const check = (): void => {
        if (condition(this.image)) finish(true);
      };
      const timer = this.clock.setTimeout(() => finish(false), Math.max(0, timeoutMs));
      const unsubscribeClose = this.onClose(() => finish(false));
      this.metadataListeners.add(check);
    });
  }

  /** The replica manager (null before the first metadata image). */
  get replicaManager(): ReplicaManager | null {
    return this.replicas;
  }

  /** The partition replica hosted here (leader or follower), if any. */
  partition(topic: string, partitionIndex: number): Partition | undefined {
    return this.replicas?.partition(topic, partitionIndex);
  }

  /**
   * Kafka's getPartitionOrError: the hosted replica, or KAFKA_STORAGE_ERROR when its log is offline
   * here, or NOT_LEADER_OR_FOLLOWER when the partition exists elsewhere in the cluster, or
   * UNKNOWN_TOPIC_OR_PARTITION.
   */
  hostedPartition(topic: string, partitionIndex: number): Partition | number {
    const partition = this.partition(topic, partitionIndex);
    if (partition !== undefined) return partition;
    if (this.replicas?.isOffline(topic, partitionIndex) === true) return ErrorCode.KAFKA_STORAGE_ERROR;
    return this.image.partition(topic, partitionIndex) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  /** A topic config's effective value (a Kafka string) for a hosted partition: its topic's setting, else its broker default. */
  topicConfig(partition: Partition, name: string): string {
    return topicConfigValue(name, partition.configs, this.configView);
  }

  /** The log settings of a topic with these own configs, over the broker's (dynamic) defaults. */
  logConfigOf(configs: Readonly<Record<string, string>>): Partial<LogConfig> {
    return logConfigFor((name) => topicConfigValue(name, configs, this.configView));
  }

  /** The client quotas (stored and described; not enforced). */
  get clientQuotas(): ClientQuotaRecord[] {
    return this.standaloneController?.clientQuotas() ?? this.clientQuotaList.map((quota) => ({ entity: quota.entity.map((part) => ({ ...part })), values: { ...quota.values } }));
  }

  /**
   * Replaces the client quotas: NONE, or KAFKA_STORAGE_ERROR (nothing changed) when the disk
   * refuses. A standalone broker keeps them in its data dir; a broker of a cluster keeps them in
   * memory only (the controller has no AlterClientQuotas yet).
   */
  setClientQuotas(quotas: ClientQuotaRecord[]): number {
    if (this.standaloneController === null) {
      this.clientQuotaList = quotas.filter((quota) => Object.keys(quota.values).length > 0);
      return ErrorCode.NONE;
    }
    try {
      this.standaloneController.putClientQuotas(quotas);
    } catch (error) {
      return storageErrorCode(error);
    }
    return ErrorCode.NONE;
  }

  /** The dynamic configs of broker resource `resourceName` (a node id, or '' for the cluster defaults), from the image. */
  dynamicBrokerConfigs(resourceName: string): Record<string, string> {
    return Object.fromEntries(this.image.brokerConfigs(resourceName === '' ? '' : Number(resourceName)));
  }

  /** Endpoints of unfenced brokers on `listenerName`, this broker's own from its live listeners. */
  liveBrokers(listenerName: string): { nodeId: number; host: string; port: number; rack: string | null }[] {
    const brokers = [];
    for (const registration of [...this.image.brokers.values()].sort((a, b) => a.id - b.id)) {
      if (registration.fenced) continue;
      const endpoints = registration.id === this.nodeId ? this.listeners : registration.endpoints;
      const endpoint = endpoints.find((candidate) => candidate.name === listenerName);
      if (endpoint !== undefined) brokers.push({ nodeId: registration.id, host: endpoint.host, port: endpoint.port, rack: registration.rack });
    }
    return brokers;
  }

  /** The listener a request came in on (the first client listener for in-process calls). */
  listenerName(context: RequestContext): string {
    return context.listenerName ?? this.listeners[0].name;
  }

  /** Kafka's KRaft answer for controllerId: the active controller if it is a live broker, else some live broker. */
  controllerIdFor(listenerName: string): number {
    const live = this.liveBrokers(listenerName);
    if (live.some((broker) => broker.nodeId === this.activeControllerId)) return this.activeControllerId;
    return live[0]?.nodeId ?? -1;
  }

  /** The highest producer id any hosted partition remembers (-1: none). */
  private highestKnownProducerId(): number {
    let highest = -1;
    for (const partition of this.replicas?.all() ?? []) highest = Math.max(highest, partition.producerState.highestProducerId());
    return highest;
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

  // ---------------------------------------------------------------- producer state

  /**
   * Kafka takes a producer-state snapshot when a segment rolls. The log publishes the roll inside
   * append, before the new batches are written and before their producer state is committed, so
   * the snapshot named after the new segment's base offset holds exactly the state below it.
   */
  private readonly onLogRoll = (message: unknown): void => {
    const { dir, baseOffset } = message as { dir: string; baseOffset: number };
    const partition = this.replicas?.partitionByDir(dir);
    if (partition !== undefined && baseOffset === partition.logEndOffset) partition.takeProducerSnapshot();
  };

  /** Periodically forgets idle producers (bounded producer state, as Kafka). */
  private scheduleProducerExpiration(): void {
    this.producerExpirationTimer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      for (const partition of this.replicas?.all() ?? []) partition.producerState.removeExpired(now, this.config.producerIdExpirationMs);
      if (!this.closed) this.scheduleProducerExpiration();
    }, this.config.producerIdExpirationCheckIntervalMs);
  }

  // ---------------------------------------------------------------- __consumer_offsets

  /**
   * A leadership change of a `__consumer_offsets` partition: leading it loads its groups into the
   * coordinator (once: a new leader epoch or ISR of the same leader changes nothing), losing it
   * unloads them (Kafka's GroupCoordinator.onElection / onResignation). Not before the broker is
   * unfenced (`unfenced`): `startup` elects what it leads then.
   */
  private onLeadershipChange(partition: Partition, isLeader: boolean): void {
    if (partition.topic !== OFFSETS_TOPIC) return;
    if (!isLeader) {
      this.coordinator.onResignation(partition.partitionIndex);
      return;
    }
    if (!this.unfenced) return;
    const loading = this.coordinator.onElection(partition.partitionIndex, (isCurrent) => this.loadOffsetsPartition(partition, isCurrent));
    loading?.catch((error: unknown) => {
      // The partition stays unowned (NOT_COORDINATOR); the next leadership change loads it again.
      if (!this.closed) this.logger.warn(`loading ${OFFSETS_TOPIC}-${partition.partitionIndex} into the group coordinator failed: ${(error as Error).message}`, { code: 'OFFSETS_LOAD_FAILED' });
    });
  }

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

  /**
   * Kafka's onPartitionsDeleted: groups forget the committed offsets of a deleted topic, and the
   * coordinator of each group writes their tombstones so they do not come back at the next load.
   */
  private removeOffsetsOfDeletedTopic(topic: string): void {
    for (const [groupId, partitions] of this.coordinator.removeOffsetsOfTopic(topic)) {
      try {
        this.appendToOffsetsTopic(groupId, partitions.map((partitionIndex) => ({ key: encodeOffsetCommitKey(groupId, topic, partitionIndex), value: null })));
      } catch {
        // Not this group's coordinator, or the append failed: the offsets reappear at the next
        // load of the group, for a topic that no longer exists, and expire with the group.
      }
    }
  }

  offsetsPartitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.image.topic(OFFSETS_TOPIC)?.partitions.size ?? this.config.offsetsTopicNumPartitions);
  }

  /**
   * Kafka's storeOffsets: the commits are appended to the group's partition and resolve once its
   * high watermark passed them (`offsets.commit.timeout.ms` at most), so an acknowledged commit
   * is on every ISR replica and survives the loss of the coordinator's broker.
   */
  private async storeOffsets(groupId: string, commits: readonly OffsetCommit[]): Promise<void> {
    const appended = this.appendToOffsetsTopic(groupId, commits.map((commit) => ({
      key: encodeOffsetCommitKey(groupId, commit.topic, commit.partition),
      value: encodeOffsetCommitValue(commit),
    })));
    await this.waitForOffsetsReplication(groupId, appended);
  }

  /** Resolves once the group's `__consumer_offsets` partition's HW reached `endOffset`; throws its error otherwise. */
  private async waitForOffsetsReplication(groupId: string, { partition, endOffset }: { partition: Partition; endOffset: number }): Promise<void> {
    const errorCode = await partition.waitForReplication(endOffset, Number(this.topicConfig(partition, 'min.insync.replicas')), this.config.offsetsCommitTimeoutMs);
    if (errorCode !== ErrorCode.NONE) throw new BrokerError('OFFSET_COMMIT_FAILED', `records of group ${groupId} were appended to ${OFFSETS_TOPIC}-${partition.partitionIndex} but not replicated (error ${errorCode})`, errorCode);
  }

  /** Kafka's storeGroup: appended at once, resolved once the partition's HW passed it (`offsets.commit.timeout.ms`). */
  private async storeGroup(groupId: string, group: StoredGroup | null): Promise<void> {
    const appended = this.appendToOffsetsTopic(groupId, [{ key: encodeGroupMetadataKey(groupId), value: group === null ? null : encodeGroupMetadataValue(group) }]);
    await this.waitForOffsetsReplication(groupId, appended);
  }

  /**
   * Tombstones of a group's offsets (and of the group itself when `group`), for DeleteGroups and
   * OffsetDelete: appended at once (so records keep the order of the calls), resolved once the
   * partition's HW passed them, as Kafka's coordinator answers those requests only once their
   * records are committed.
   */
  private storeTombstones(groupId: string, offsets: readonly { topic: string; partition: number }[], group: boolean): Promise<void> {
    const records: { key: Buffer; value: Buffer | null }[] = offsets.map(({ topic, partition }) => ({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null }));
    if (group) records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    if (records.length === 0) return Promise.resolve();
    // Appended (or refused, thrown) before this returns, so the coordinator changes its state only after a successful append.
    const appended = this.appendToOffsetsTopic(groupId, records);
    return this.waitForOffsetsReplication(groupId, appended);
  }


  /**
   * One batch of records to the group's `__consumer_offsets` partition, as Kafka's appendForGroup
   * with acks=all: refused (thrown) when the partition's ISR is below its min.insync.replicas.
   * Returns the partition and the offset after the batch; offset commits, group metadata and the
   * tombstones of DeleteGroups and OffsetDelete wait for the high watermark to reach it; the
   * tombstones of expiration and of deleted topics answer nobody, so nothing waits for them.
   */
  appendToOffsetsTopic(groupId: string, records: { key: Buffer; value: Buffer | null }[]): { partition: Partition; endOffset: number } {
    const partition = this.partition(OFFSETS_TOPIC, this.offsetsPartitionFor(groupId));
    if (partition === undefined || !partition.isLeader) throw new BrokerError('NOT_COORDINATOR', `This broker does not lead the __consumer_offsets partition of group ${groupId}`, ErrorCode.NOT_COORDINATOR);
    const timestamp = this.clock.now();
    const batch = encodeBatch({ timestamp, records: records.map((record) => ({ ...record, timestamp })) });
    const outcome = partition.appendRecordsToLeader(batch, { requiredAcks: -1, maxMessageBytes: Number.MAX_SAFE_INTEGER, minInsyncReplicas: Number(this.topicConfig(partition, 'min.insync.replicas')), decompressedBytesMax: this.config.producedBatchDecompressedBytesMax });
    if (!('lastOffset' in outcome)) throw new BrokerError('OFFSET_COMMIT_FAILED', `__consumer_offsets append failed with ${outcome.errorCode}`, outcome.errorCode);
    return { partition, endOffset: outcome.lastOffset + 1 };
  }

  /**
   * Replays one `__consumer_offsets` partition into the coordinator (Kafka loads on election), up
   * to its log end, `offsets.load.buffer.size` bytes per chunk, then waits for its high watermark
   * to reach that end (waitForHighWatermark). A log that fits in one chunk and is all committed is
   * loaded at once (nothing returned); otherwise a promise is returned: the event loop runs
   * between chunks (a timer of 0 ms on the injected clock), and the load stops early once
   * `isCurrent()` is false (the partition was resigned meanwhile).
   * Damage does not stop the broker: damaged batches are passed over (the log moves or reports
   * them) and what they held is reported lost; every commit outside them is loaded.
   */
  private loadOffsetsPartition(partition: Partition, isCurrent: () => boolean): Promise<void> | void {
    const name = `${OFFSETS_TOPIC}-${partition.partitionIndex}`;
    const visit = (records: Buffer) => forEachBatch(records, (position) => this.loadOffsetsBatch(name, records, position), { allowPartialTail: true });
    const onDamage = (error: LogCorruptionError) => {
      reportDamage(this.logger, 'OFFSETS_DAMAGE_SKIPPED', `group metadata and committed offsets stored in ${name} before offset ${error.resumeOffset} in the damaged bytes were not loaded: ${error.message}`, {
        path: error.path, startPosition: error.startPosition, endPosition: error.endPosition, resumeOffset: error.resumeOffset,
      });
    };
    let offset = partition.logStartOffset;
    /** One chunk; true once the load has reached the log end. */
    const chunk = (): boolean => {
      offset = partition.log.replayChunk(offset, partition.logEndOffset, this.config.offsetsLoadBufferSize, visit, onDamage);
      return offset >= partition.logEndOffset;
    };
    if (chunk() && partition.highWatermark >= offset) return;
    return (async () => {
      while (offset < partition.logEndOffset) {
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 0));
        if (!isCurrent() || chunk()) break;
      }
      if (isCurrent()) await this.waitForHighWatermark(partition, offset);
    })();
  }

  /**
   * Resolves once the partition's HW reached `offset`, or once this broker no longer leads it (the
   * load then ends unowned). A new leader loads its whole log, and the tail above its HW may be
   * records a deposed coordinator wrote that were never replicated: a generation handed out by
   * JoinGroup, commits never acknowledged. Served before they are committed, such a tail could be
   * cut by the next election and a generation or an offset the group was told would go back (a
   * new leader cuts nothing the quorum committed, so waiting makes everything served durable).
   * Kafka's coordinator runtime holds its answers until the HW passes what it loaded and wrote.
   */
  private waitForHighWatermark(partition: Partition, offset: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (partition.highWatermark < offset && partition.isLeader) return;
        stop();
        resolve();
      };
      const stop = partition.onChange(check);
      check();
    });
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
      const decoded = decodeOffsetsTopicKey(key);
      if (decoded.kind === 'group') this.coordinator.loadGroup(decoded.groupId, value === null ? null : decodeGroupMetadataValue(value));
      else this.coordinator.loadOffset(decoded.groupId, decoded.topic, decoded.partition, value === null ? null : decodeOffsetCommitValue(value));
    } catch (error) {
      if (!(error instanceof BrokerError)) throw error;
      this.skippedOffsetRecords += 1;
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Kafka's BrokerServer.shutdown: a controlled shutdown first (the controller moves this
   * broker's leaderships away while it still serves, bounded by `controlledShutdownTimeoutMs`,
   * or until `abandonControlledShutdown` resolves;
   * not for a standalone broker, which has nowhere to move them),
   * then parked requests are answered, timers stop, producer state is snapshotted, the high
   * watermarks are checkpointed and the logs close cleanly.
   */
  async close(options: { controlledShutdownTimeoutMs?: number; abandonControlledShutdown?: Promise<void> } = {}): Promise<void> {
    if (this.closed) return;
    // A standalone broker has no other broker to move its leaderships to: it just stops.
    if (this.config.controlledShutdownEnable && this.standaloneController === null && this.lifecycle.state !== 'NOT_RUNNING') {
      const timeoutMs = options.controlledShutdownTimeoutMs ?? 30_000;
      let timer: TimerHandle | null = null;
      await Promise.race([
        this.lifecycle.beginControlledShutdown(),
        new Promise<void>((resolve) => { timer = this.clock.setTimeout(resolve, timeoutMs); }),
        // The node knows when no controller can answer any more (its quorum lost its majority).
        ...(options.abandonControlledShutdown === undefined ? [] : [options.abandonControlledShutdown]),
      ]);
      if (timer !== null) this.clock.clearTimeout(timer);
    }
    if (this.closed) return;
    this.stop();
    // Partitions answer their parked acks=all requests as they close, so pending requests can end.
    this.replicas?.close(true);
    await Promise.allSettled([...this.pending]);
    // A full disk must not stop the shutdown half way: what cannot be written is warned about,
    // and the logs are still flushed and closed. Without a clean-shutdown marker the next open
    // recovers, and producer state is rebuilt from the log, as after a crash.
    for (const partition of this.replicas?.all() ?? []) {
      try {
        partition.takeProducerSnapshot();
      } catch (error) {
        warnStorageFailure(error, `the producer-state snapshot of ${partition.topic}-${partition.partitionIndex} could not be written at shutdown`);
      }
    }
    try {
      this.logs?.close({ brokerEpoch: this.lifecycle.brokerEpoch });
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
    this.stop();
    this.replicas?.close(false);
    this.logs?.abandon();
  }

  private stop(): void {
    this.closed = true;
    this.lifecycle.close();
    this.alterPartitions.close();
    rollChannel.unsubscribe(this.onLogRoll);
    if (this.producerExpirationTimer !== null) this.clock.clearTimeout(this.producerExpirationTimer);
    if (this.offsetsRetentionTimer !== null) this.clock.clearTimeout(this.offsetsRetentionTimer);
    this.coordinator.close();
    for (const listener of [...this.closeListeners]) listener();
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
