/**
 * The controller of a standalone broker (`Broker.open`): Kafka's QuorumController (@gregor/metadata)
 * over a metadata log of one voter that commits every append at once, in the broker's process.
 * It is a one-broker cluster without Raft: the broker registers, heartbeats, is unfenced, sends
 * AlterPartition and forwards admin requests to it exactly as to a remote controller, and every
 * committed batch reaches the broker as a metadata delta.
 *
 * Its state lives where a single broker kept it before the cluster metadata log:
 * `gregor-topics.json` (topic-store.ts) holds the topics (ids, configs, leader epochs), the dynamic
 * broker configs and the client quotas; it is read at open (as bootstrap records) and rewritten
 * after every committed batch that changes a topic or a config. Registrations are not kept: the
 * broker registers again at every start.
 *
 * The controller's timers do not run here (a clock whose setTimeout does nothing): its one broker
 * shares its process, so fencing it for missed heartbeats would only mean a paused process (or a
 * fake clock advanced in one jump) loses its own partitions; leader balancing has no other broker.
 * Commits are delivered on a microtask after the append, in order, never inside it.
 * Single-threaded.
 */
import { ErrorCode } from '@gregor/protocol';
import {
  CONTROLLER_API_KEYS, type ControllerApiKey, type ControllerLog, type ControllerRequest, decodeMetadataRecord, encodeMetadataRecord, MetadataDelta,
  MetadataImage, type MetadataRecordInput, metadataRecord, QuorumController,
} from '@gregor/metadata';
import type { Clock, FileSystem } from '@gregor/log';
import { brokerConfigRecords, topicMetadataRecords } from './bootstrap.js';
import { storageErrorCode } from './partition.js';
import type { BrokerConfigView } from './broker-config-view.js';
import type { ControllerChannel } from './channels.js';
import type { BrokerConfig } from './config.js';
import type { Body } from './context.js';
import { controllerConfigValidator } from './controller-config-validator.js';
import { BrokerError } from './errors.js';
import type { Random } from './ids.js';
import { type ClientQuotaRecord, TopicStore, type TopicRecord } from './topic-store.js';

export type MetadataPublisher = (delta: MetadataDelta, image: MetadataImage) => void;

export interface SingleNodeControllerOptions {
  fs: FileSystem;
  dir: string;
  nodeId: number;
  clusterId: string;
  random: Random;
  clock: Clock;
  config: BrokerConfig;
  /** The broker's config view: the controller checks config changes against the same rules. */
  configView: BrokerConfigView;
}

export class SingleNodeController implements ControllerChannel {
  private committedImage: MetadataImage;
  private readonly quorum: QuorumController;
  private next: number;
  private epoch = 1;
  private publisher: MetadataPublisher | null = null;

  private constructor(private readonly options: SingleNodeControllerOptions, private readonly store: TopicStore) {
    // The data dir's metadata, as a snapshot the controller starts from.
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    const records = [...topicMetadataRecords([...store.all()], options.nodeId), ...brokerConfigRecords(store.allBrokerConfigs())];
    for (const record of records) delta.replay(metadataRecord(record));
    this.committedImage = delta.apply();
    this.next = this.committedImage.offset + 1;
    const { config, clock } = options;
    this.quorum = new QuorumController({
      config: {
        nodeId: options.nodeId,
        clusterId: options.clusterId,
        numPartitions: config.numPartitions,
        defaultReplicationFactor: config.defaultReplicationFactor,
        deleteTopicEnable: config.deleteTopicEnable,
        uncleanLeaderElectionEnable: config.uncleanLeaderElectionEnable,
        minInsyncReplicas: config.minInsyncReplicas,
        brokerSessionTimeoutMs: config.brokerSessionTimeoutMs,
      },
      log: this.log,
      clock: { now: () => clock.now(), setTimeout: () => null, clearTimeout: () => {} },
      random: options.random,
      configValidator: controllerConfigValidator(options.configView),
    });
    this.quorum.handleLoadSnapshot(this.committedImage);
    this.quorum.handleLeaderChange({ leaderId: options.nodeId, epoch: this.epoch });
  }

  /** Reads the data dir's metadata (adopting bare partition dirs) and becomes the active controller. */
  static open(options: SingleNodeControllerOptions): SingleNodeController {
    const store = TopicStore.open(options.fs, options.dir, options.random);
    const controller = new SingleNodeController(options, store);
    // Adopted dirs are written down at once, so the next open finds the same topic ids.
    if (!store.existed) controller.persist();
    return controller;
  }

  /** The image of every committed record. */
  get image(): MetadataImage {
    return this.committedImage;
  }

  /**
   * Connects the broker: it receives the whole committed image at once (a delta from the empty
   * image, as a metadata loader publishes a snapshot), then every later commit.
   */
  attach(publisher: MetadataPublisher): void {
    this.publisher = publisher;
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    for (const record of this.committedImage.toRecords()) delta.replay(metadataRecord(record));
    publisher(delta, this.committedImage);
  }

  async send(apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    if (!CONTROLLER_API_KEYS.has(apiKey)) {
      throw new BrokerError('UNSUPPORTED_VERSION', `The controller does not answer API key ${apiKey}`, ErrorCode.UNSUPPORTED_VERSION);
    }
    const key = apiKey as ControllerApiKey;
    const failuresBefore = this.storageFailures;
    const response = (await this.quorum.handle(key, apiVersion, body as ControllerRequest<typeof key>)) as Body;
    // The controller answers NOT_CONTROLLER when its batch could not commit; here that means the
    // data dir refused the metadata (a full disk), which Kafka's brokers answer KAFKA_STORAGE_ERROR.
    return this.storageFailures === failuresBefore ? response : replaceErrorCode(response, ErrorCode.NOT_CONTROLLER, ErrorCode.KAFKA_STORAGE_ERROR);
  }

  /**
   * Commits `records` as if another controller had written them (for tests: a leader election the
   * controller would not make on its own). The controller steps down, the batch commits in a new
   * epoch, and it becomes active again in the next one.
   */
  commit(records: readonly MetadataRecordInput[]): void {
    this.quorum.handleLeaderChange({ leaderId: -1, epoch: this.epoch });
    this.epoch += 1;
    const values = records.map((record) => encodeMetadataRecord(record));
    const baseOffset = this.next;
    this.next += values.length;
    let failure: unknown = null;
    this.undelivered.push({ baseOffset, epoch: this.epoch, values, resolve: () => {}, reject: (error) => { failure = error; } });
    this.drain();
    if (failure !== null) throw failure;
    this.epoch += 1;
    this.quorum.handleLeaderChange({ leaderId: this.options.nodeId, epoch: this.epoch });
  }

  clientQuotas(): ClientQuotaRecord[] {
    return this.store.clientQuotas();
  }

  putClientQuotas(quotas: ClientQuotaRecord[]): void {
    this.store.putClientQuotas(quotas);
  }

  /** Appended batches not delivered yet, in offset order. */
  private readonly undelivered: { baseOffset: number; epoch: number; values: readonly Buffer[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Batches the data dir refused so far. */
  private storageFailures = 0;

  /** The one-voter metadata log: every append commits on the next microtask. */
  private readonly log: ControllerLog = {
    nextOffset: () => this.next,
    append: (epoch, records) => {
      const baseOffset = this.next;
      this.next += records.length;
      const committed = new Promise<void>((resolve, reject) => {
        this.undelivered.push({ baseOffset, epoch, values: [...records], resolve, reject });
      });
      queueMicrotask(() => this.drain());
      return { baseOffset, committed };
    },
  };

  /**
   * Delivers every appended batch, oldest first. A batch the data dir refuses does not commit,
   * nor does anything appended after it (it was decided on top of it): they fail, the controller
   * steps down (answering NOT_CONTROLLER) and becomes active again in a new epoch, from the
   * committed image.
   */
  private drain(): void {
    for (let batch = this.undelivered.shift(); batch !== undefined; batch = this.undelivered.shift()) {
      try {
        this.deliver(batch.baseOffset, batch.epoch, batch.values);
      } catch (error) {
        storageErrorCode(error);
        this.storageFailures += 1;
        const failed = [batch, ...this.undelivered.splice(0)];
        this.next = batch.baseOffset;
        this.epoch += 1;
        this.quorum.handleLeaderChange({ leaderId: this.options.nodeId, epoch: this.epoch });
        for (const entry of failed) entry.reject(error);
        return;
      }
      batch.resolve();
    }
  }

  /**
   * Commits one batch: to disk first (the commit point: throws, changing nothing, when the data
   * dir refuses it), then the image, the controller's committed state and the broker.
   */
  private deliver(baseOffset: number, epoch: number, values: readonly Buffer[]): void {
    const delta = new MetadataDelta(this.committedImage);
    values.forEach((value, index) => delta.replay(decodeMetadataRecord(value), baseOffset + index, epoch));
    const image = delta.apply();
    if (delta.createdTopicIds.size > 0 || delta.removedTopics.size > 0 || delta.changedPartitions.size > 0 || delta.changedConfigKeys.size > 0) this.persist(image);
    this.committedImage = image;
    this.quorum.handleCommit({ baseOffset, epoch, records: values });
    this.publisher?.(delta, image);
  }

  /** Writes the image's topics and dynamic broker configs to `gregor-topics.json`. */
  private persist(image = this.committedImage): void {
    const topics: TopicRecord[] = [];
    for (const topic of image.topicsById.values()) {
      const indexes = [...topic.partitions.keys()].sort((a, b) => a - b);
      topics.push({
        name: topic.name,
        topicId: topic.id,
        replicationFactor: topic.partitions.get(0)?.replicas.length ?? 1,
        configs: Object.fromEntries(image.topicConfigs(topic.name)),
        partitions: indexes.map((index) => ({ leaderEpoch: topic.partitions.get(index)?.leaderEpoch ?? 0 })),
      });
    }
    const brokerConfigs: Record<string, Record<string, string>> = {};
    for (const [key, values] of image.configs) {
      if (key.startsWith('4:')) brokerConfigs[key.slice(2)] = Object.fromEntries(values);
    }
    this.store.replaceAll(topics, brokerConfigs);
  }
}

/** The body with every `errorCode` equal to `from` replaced by `to`, at any depth. */
function replaceErrorCode(body: Body, from: number, to: number): Body {
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, key === 'errorCode' && field === from ? to : replace(field)]));
  };
  return replace(body) as Body;
}
