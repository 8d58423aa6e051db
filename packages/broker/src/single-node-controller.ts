/**
 * The controller of a standalone broker: a one-broker cluster with no quorum, for `Broker.open`
 * (the embedded `Gregor.open({ dir })` and every test that opens one broker). It answers the
 * controller APIs the broker sends — BrokerRegistration, BrokerHeartbeat, CreateTopics,
 * DeleteTopics, CreatePartitions, AlterPartition — by writing metadata records, which it commits
 * at once: it replays them onto its image and hands the delta to the broker before answering.
 *
 * Its state lives where a single broker kept it before the cluster metadata log: topics, ids,
 * configs and leader epochs in `gregor-topics.json` (topic-store.ts), rewritten after every change
 * of a topic. The broker's registration is not kept: it registers again at every start. Being its
 * broker's only controller in the same process, it never fences it for missed heartbeats, and a
 * controlled shutdown has nowhere to move leaderships, so it lets the broker go at once.
 * Single-threaded; answers synchronously inside a resolved promise.
 */
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { MetadataDelta, MetadataImage, type MetadataRecordInput, metadataRecord } from '@gregor/metadata';
import type { FileSystem } from '@gregor/log';
import { topicMetadataRecords } from './bootstrap.js';
import type { ControllerChannel } from './channels.js';
import type { BrokerConfig } from './config.js';
import type { Body } from './context.js';
import { BrokerError } from './errors.js';
import { randomTopicId, type Random, ZERO_UUID } from './ids.js';
import { TopicStore, type TopicRecord } from './topic-store.js';
import { collidingTopicName } from './topics.js';

export type MetadataPublisher = (delta: MetadataDelta, image: MetadataImage) => void;

export interface SingleNodeControllerOptions {
  fs: FileSystem;
  dir: string;
  nodeId: number;
  random: Random;
  config: BrokerConfig;
}

export class SingleNodeController implements ControllerChannel {
  private imageValue = MetadataImage.EMPTY;
  private publisher: MetadataPublisher | null = null;
  private clusterId: string | null = null;
  /** The offset of the broker's RegisterBroker record (-1: not registered in this run). */
  private registrationOffset = -1;

  private constructor(private readonly options: SingleNodeControllerOptions, private readonly store: TopicStore) {}

  /** Reads the topics of the data dir (adopting bare partition dirs) as the starting image. */
  static open(options: SingleNodeControllerOptions): SingleNodeController {
    const store = TopicStore.open(options.fs, options.dir, options.random);
    const controller = new SingleNodeController(options, store);
    controller.replay(topicMetadataRecords([...store.all()], options.nodeId), false);
    // Adopted dirs are written down at once, so the next open finds the same topic ids.
    if (!store.existed) controller.persist();
    return controller;
  }

  get image(): MetadataImage {
    return this.imageValue;
  }

  /**
   * Connects the broker: it receives the whole current image at once (a delta from the empty
   * image, as a metadata loader publishes a snapshot), then every commit.
   */
  attach(publisher: MetadataPublisher, clusterId: string): void {
    this.publisher = publisher;
    this.clusterId = clusterId;
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    for (const record of this.imageValue.toRecords()) delta.replay(metadataRecord(record));
    publisher(delta, this.imageValue);
  }

  /** Commits `records` at once: the image moves on and the broker gets the delta. */
  commit(records: readonly MetadataRecordInput[]): void {
    this.replay(records, true);
  }

  private replay(records: readonly MetadataRecordInput[], publish: boolean): void {
    if (records.length === 0) return;
    const delta = new MetadataDelta(this.imageValue);
    for (const record of records) delta.replay(metadataRecord(record));
    this.imageValue = delta.apply();
    if (delta.createdTopicIds.size > 0 || delta.removedTopics.size > 0 || delta.changedPartitions.size > 0 || delta.changedConfigKeys.size > 0) {
      if (publish) this.persist();
    }
    if (publish) this.publisher?.(delta, this.imageValue);
  }

  /** Writes the image's topics to `gregor-topics.json`. */
  private persist(): void {
    const topics: TopicRecord[] = [];
    for (const topic of this.imageValue.topicsById.values()) {
      const indexes = [...topic.partitions.keys()].sort((a, b) => a - b);
      topics.push({
        name: topic.name,
        topicId: topic.id,
        replicationFactor: topic.partitions.get(0)?.replicas.length ?? 1,
        configs: Object.fromEntries(this.imageValue.topicConfigs(topic.name)),
        partitions: indexes.map((index) => ({ leaderEpoch: topic.partitions.get(index)?.leaderEpoch ?? 0 })),
      });
    }
    this.store.replaceAll(topics);
  }

  send(apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    try {
      return Promise.resolve(this.answer(apiKey, apiVersion, body));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private answer(apiKey: number, apiVersion: number, body: Body): Body {
    switch (apiKey) {
      case ApiKey.BrokerRegistration: return this.registerBroker(body);
      case ApiKey.BrokerHeartbeat: return this.heartbeat(body);
      case ApiKey.CreateTopics: return this.createTopics(body);
      case ApiKey.DeleteTopics: return this.deleteTopics(apiVersion, body);
      case ApiKey.CreatePartitions: return this.createPartitions(body);
      case ApiKey.AlterPartition: return this.alterPartition(body);
      default:
        throw new BrokerError('UNSUPPORTED_VERSION', `The single-node controller does not serve API key ${apiKey}`, ErrorCode.UNSUPPORTED_VERSION);
    }
  }

  // ---------------------------------------------------------------- the broker

  private registerBroker(body: Body): Body {
    const answer = (errorCode: number, brokerEpoch = -1): Body => ({ throttleTimeMs: 0, errorCode, brokerEpoch });
    if (body.brokerId !== this.options.nodeId) return answer(ErrorCode.INVALID_REQUEST);
    if (body.clusterId !== this.clusterId) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID);
    const brokerEpoch = this.imageValue.offset + 1;
    this.commit([{
      type: 'RegisterBroker',
      brokerId: body.brokerId,
      incarnationId: body.incarnationId,
      brokerEpoch,
      endPoints: (body.listeners ?? []).map((listener: Body) => ({ name: listener.name, host: listener.host, port: listener.port, securityProtocol: listener.securityProtocol })),
      features: [],
      rack: body.rack ?? null,
      fenced: true,
      inControlledShutdown: false,
    }]);
    this.registrationOffset = brokerEpoch;
    return answer(ErrorCode.NONE, brokerEpoch);
  }

  private heartbeat(body: Body): Body {
    const registration = this.imageValue.brokers.get(body.brokerId);
    const answer = (errorCode: number): Body => ({
      throttleTimeMs: 0, errorCode, isCaughtUp: body.currentMetadataOffset >= this.registrationOffset,
      isFenced: this.imageValue.brokers.get(body.brokerId)?.fenced ?? true, shouldShutDown: body.wantShutDown === true,
    });
    if (registration === undefined) return answer(ErrorCode.BROKER_ID_NOT_REGISTERED);
    if (registration.epoch !== body.brokerEpoch) return answer(ErrorCode.STALE_BROKER_EPOCH);
    const caughtUp = body.currentMetadataOffset >= this.registrationOffset;
    if (registration.fenced && body.wantFence === false && caughtUp) this.commit([{ type: 'UnfenceBroker', id: registration.id, epoch: registration.epoch }]);
    return answer(ErrorCode.NONE);
  }

  // ---------------------------------------------------------------- topics

  private createTopics(body: Body): Body {
    const { config } = this.options;
    const topics = (body.topics ?? []).map((request: Body) => {
      const fail = (errorCode: number, errorMessage: string): Body => ({
        name: request.name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: ErrorCode.NONE, numPartitions: -1, replicationFactor: -1, configs: [],
      });
      if (this.imageValue.topic(request.name) !== undefined) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${request.name}' already exists.`);
      const collision = collidingTopicName(request.name, this.imageValue.topicsByName.keys());
      if (collision !== undefined) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${request.name}' collides with existing topic: ${collision}`);
      if ((request.assignments?.length ?? 0) > 0) return fail(ErrorCode.INVALID_REQUEST, 'Manual partition assignments are not supported on a single broker; use numPartitions');
      const numPartitions = request.numPartitions === -1 ? config.numPartitions : request.numPartitions;
      if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > config.topicPartitionsMax) {
        return fail(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be between 1 and ${config.topicPartitionsMax}, got ${request.numPartitions}.`);
      }
      const replicationFactor = request.replicationFactor === -1 ? config.defaultReplicationFactor : request.replicationFactor;
      if (replicationFactor !== 1) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${request.replicationFactor} larger than available brokers: 1.`);
      const topicId = body.validateOnly === true ? ZERO_UUID : randomTopicId(this.options.random);
      if (body.validateOnly !== true) {
        const configs: Record<string, string> = {};
        for (const entry of request.configs ?? []) if (entry.value !== null) configs[entry.name] = entry.value;
        const partitions = Array.from({ length: numPartitions }, () => ({ leaderEpoch: 0 }));
        this.commit(topicMetadataRecords([{ name: request.name, topicId, replicationFactor, configs, partitions }], this.options.nodeId));
      }
      return { name: request.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null, topicConfigErrorCode: ErrorCode.NONE, numPartitions, replicationFactor, configs: [] };
    });
    return { throttleTimeMs: 0, topics };
  }

  private deleteTopics(apiVersion: number, body: Body): Body {
    const requests: { name: string | null; topicId: string }[] = apiVersion >= 6
      ? (body.topics ?? []).map((topic: Body) => ({ name: topic.name ?? null, topicId: topic.topicId ?? ZERO_UUID }))
      : (body.topicNames ?? []).map((name: string) => ({ name, topicId: ZERO_UUID }));
    const responses = requests.map((request) => {
      const topic = request.name !== null && request.name !== '' ? this.imageValue.topic(request.name) : this.imageValue.topicsById.get(request.topicId);
      const answer = (errorCode: number, errorMessage: string | null = null): Body => ({ name: topic?.name ?? request.name, topicId: topic?.id ?? request.topicId, errorCode, errorMessage });
      if (topic === undefined) return answer(request.name === null || request.name === '' ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (!this.options.config.deleteTopicEnable) return answer(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
      this.commit([{ type: 'RemoveTopic', topicId: topic.id }]);
      return answer(ErrorCode.NONE);
    });
    return { throttleTimeMs: 0, responses };
  }

  private createPartitions(body: Body): Body {
    const { config } = this.options;
    const results = (body.topics ?? []).map((request: Body) => {
      const answer = (errorCode: number, errorMessage: string | null = null): Body => ({ name: request.name, errorCode, errorMessage });
      const topic = this.imageValue.topic(request.name);
      if (topic === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${request.name}' does not exist.`);
      const current = topic.partitions.size;
      if (request.count < current) return answer(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${request.count}.`);
      if (request.count === current) return answer(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
      if (request.count > config.topicPartitionsMax) return answer(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be at most ${config.topicPartitionsMax}.`);
      if (Array.isArray(request.assignments) && request.assignments.length > 0) return answer(ErrorCode.INVALID_REQUEST, 'Manual partition assignments are not supported on a single broker');
      if (body.validateOnly === true) return answer(ErrorCode.NONE);
      const records: MetadataRecordInput[] = [];
      for (let partitionId = current; partitionId < request.count; partitionId++) {
        records.push({
          type: 'Partition', partitionId, topicId: topic.id, replicas: [this.options.nodeId], isr: [this.options.nodeId],
          removingReplicas: [], addingReplicas: [], leader: this.options.nodeId, leaderEpoch: 0, partitionEpoch: 0,
        });
      }
      this.commit(records);
      return answer(ErrorCode.NONE);
    });
    return { throttleTimeMs: 0, results };
  }

  /** AlterPartition with one broker: the only ISR is the leader itself, checked like any other. */
  private alterPartition(body: Body): Body {
    const topics = (body.topics ?? []).map((topicRequest: Body) => {
      const topic = this.imageValue.topicsById.get(topicRequest.topicId);
      return {
        topicName: topicRequest.topicName ?? topic?.name ?? '',
        topicId: topicRequest.topicId,
        partitions: (topicRequest.partitions ?? []).map((request: Body) => {
          const current = topic?.partitions.get(request.partitionIndex);
          const answer = (errorCode: number): Body => ({
            partitionIndex: request.partitionIndex, errorCode, leaderId: current?.leader ?? -1, leaderEpoch: current?.leaderEpoch ?? -1,
            isr: [...(current?.isr ?? [])], leaderRecoveryState: 0, partitionEpoch: current?.partitionEpoch ?? -1,
          });
          if (topic === undefined || current === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          if (request.leaderEpoch !== current.leaderEpoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
          if (request.partitionEpoch !== current.partitionEpoch) return answer(ErrorCode.INVALID_UPDATE_VERSION);
          const isr: number[] = request.newIsrWithEpochs?.map((entry: Body) => entry.brokerId) ?? request.newIsr ?? [];
          if (isr.some((id) => id !== this.options.nodeId)) return answer(ErrorCode.INELIGIBLE_REPLICA);
          this.commit([{ type: 'PartitionChange', partitionId: request.partitionIndex, topicId: topic.id, isr }]);
          const updated = this.imageValue.topicsById.get(topic.id)?.partitions.get(request.partitionIndex);
          return { ...answer(ErrorCode.NONE), isr: [...(updated?.isr ?? isr)], partitionEpoch: updated?.partitionEpoch ?? -1 };
        }),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics };
  }
}
