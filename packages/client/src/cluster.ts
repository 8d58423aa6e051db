/**
 * The client's view of the cluster, shared by the producer, consumer and admin of one `Client`:
 * a metadata cache (brokers, topics with ids, partition leaders) refreshed from Metadata
 * responses, and group-coordinator lookup (FindCoordinator). Every request goes through
 * `request()`, which negotiates versions on first use and raises Kafka error codes found at the
 * top of a response body as typed errors. Single-threaded JavaScript: concurrent callers share
 * in-flight refreshes.
 */
import { Api } from './api.js';
import { type Clock, systemClock } from './clock.js';
import { KafkaProtocolError, throwIfError } from './errors.js';
import type { Body, RequestOptions, Transport } from './transport.js';

export interface PartitionInfo {
  partitionId: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionInfo[];
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Kafka's consumer addresses the group coordinator as node Integer.MAX_VALUE - id (its own connection). */
export const COORDINATOR_NODE_ID_BASE = 2_147_483_647;

/** The broker id behind a node id that `coordinatorFor` answered (what a user should see). */
export function coordinatorBrokerId(coordinatorNodeId: number): number {
  return COORDINATOR_NODE_ID_BASE - coordinatorNodeId;
}

export interface ClusterOptions {
  /**
   * Let Metadata create unknown topics (when the broker allows it). `Client` passes true for producers
   * and consumers and false for the admin, as kafkajs; a Cluster made directly defaults to false.
   */
  allowAutoTopicCreation?: boolean;
  /** How long cached metadata is trusted before a refresh (default 300000 ms, Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
  /**
   * Where the producer, consumer and admin over this cluster read the time and set their timers
   * (default `systemClock`); a test passes a fake clock (clock.ts).
   */
  clock?: Clock;
}

export class Cluster {
  readonly topics = new Map<string, TopicInfo>();
  private readonly topicNamesById = new Map<string, string>();
  private readonly coordinators = new Map<string, number>();
  private readonly refreshedAtMs = new Map<string, number>();
  /** The error the last Metadata answered for a topic it did not describe (e.g. TOPIC_AUTHORIZATION_FAILED). */
  private readonly topicErrors = new Map<string, number>();
  controllerId = -1;
  clusterId: string | null = null;
  /** The brokers of the last Metadata response. */
  brokers: { nodeId: number; host: string; port: number }[] = [];
  readonly clock: Clock;

  constructor(
    readonly transport: Transport,
    private readonly options: ClusterOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Connects the transport (idempotent there); asked every time, so a closed transport is noticed. */
  connect(): Promise<void> {
    return this.transport.connect();
  }

  async request(apiKey: number, body: Body, options?: RequestOptions): Promise<Body> {
    await this.connect();
    return this.transport.request(apiKey, this.transport.apiVersion(apiKey), body, options);
  }

  /** Refreshes metadata for `topics` (all topics when omitted) and returns the response's topics. */
  async refreshMetadata(topics?: readonly string[]): Promise<TopicInfo[]> {
    const response = await this.request(Api.Metadata, {
      topics: topics === undefined ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    this.brokers = response.brokers.map((b: Body) => ({ nodeId: b.nodeId, host: b.host, port: b.port }));
    this.transport.setBrokers(this.brokers);
    this.controllerId = response.controllerId;
    this.clusterId = response.clusterId;
    const seen: TopicInfo[] = [];
    for (const topic of response.topics) {
      if (topic.errorCode !== 0) {
        this.topics.delete(topic.name);
        if (topic.name !== null) this.topicErrors.set(topic.name, topic.errorCode);
        continue;
      }
      this.topicErrors.delete(topic.name);
      const info: TopicInfo = {
        name: topic.name,
        topicId: topic.topicId ?? ZERO_UUID,
        isInternal: topic.isInternal ?? false,
        partitions: topic.partitions
          .map((p: Body) => ({ partitionId: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch ?? -1, replicas: p.replicaNodes ?? [], isr: p.isrNodes ?? [] }))
          .sort((a: PartitionInfo, b: PartitionInfo) => a.partitionId - b.partitionId),
      };
      this.topics.set(info.name, info);
      this.topicNamesById.set(info.topicId, info.name);
      this.refreshedAtMs.set(info.name, this.clock.now());
      seen.push(info);
    }
    return seen;
  }

  /**
   * Metadata of `topic`, from the cache when fresh; when the broker does not describe it, throws
   * the error it answered (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, ...).
   */
  async topicInfo(topic: string): Promise<TopicInfo> {
    const maxAge = this.options.metadataMaxAgeMs ?? 300_000;
    let info = this.topics.get(topic);
    if (info === undefined || this.clock.now() - (this.refreshedAtMs.get(topic) ?? 0) > maxAge) {
      await this.refreshMetadata([topic]);
      info = this.topics.get(topic);
    }
    if (info === undefined) throw new KafkaProtocolError(this.topicErrors.get(topic) ?? 3, topic);
    return info;
  }

  /** The error the last Metadata response answered for `topic` (UNKNOWN_TOPIC_OR_PARTITION...), or null. */
  topicError(topic: string): KafkaProtocolError | null {
    const errorCode = this.topicErrors.get(topic);
    return errorCode === undefined ? null : new KafkaProtocolError(errorCode, topic);
  }

  topicNameById(topicId: string): string | undefined {
    return this.topicNamesById.get(topicId);
  }

  leaderFor(topic: string, partition: number): number {
    const info = this.topics.get(topic)?.partitions[partition];
    if (info === undefined || info.leader < 0) throw new KafkaProtocolError(5, `${topic}-${partition}`);
    return info.leader;
  }

  /**
   * The node id to send `groupId`'s coordinator requests to (keyType 0), cached until
   * `forgetCoordinator`. As Kafka's consumer does, the coordinator gets a node id of its own
   * (COORDINATOR_NODE_ID_BASE - its id) with the same address, so group requests travel on their
   * own connection and never wait behind a long-poll Fetch to the same broker (a broker answers a
   * connection's requests in order, so a LeaveGroup would wait out the Fetch).
   */
  async coordinatorFor(groupId: string): Promise<number> {
    const cached = this.coordinators.get(groupId);
    if (cached !== undefined) return cached;
    const response = await this.request(Api.FindCoordinator, { key: groupId, keyType: 0, coordinatorKeys: [groupId] });
    let nodeId: number;
    if (Array.isArray(response.coordinators) && response.coordinators.length > 0) {
      const coordinator = response.coordinators[0];
      throwIfError(coordinator.errorCode, coordinator.errorMessage);
      nodeId = COORDINATOR_NODE_ID_BASE - coordinator.nodeId;
      this.transport.setBrokers([{ nodeId, host: coordinator.host, port: coordinator.port }]);
    } else {
      throwIfError(response.errorCode, response.errorMessage);
      nodeId = COORDINATOR_NODE_ID_BASE - response.nodeId;
      this.transport.setBrokers([{ nodeId, host: response.host, port: response.port }]);
    }
    this.coordinators.set(groupId, nodeId);
    return nodeId;
  }

  forgetCoordinator(groupId: string): void {
    this.coordinators.delete(groupId);
  }

  /** A request to the group's coordinator; NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE forget it so a retry looks again. */
  async coordinatorRequest(groupId: string, apiKey: number, body: Body): Promise<Body> {
    const nodeId = await this.coordinatorFor(groupId);
    try {
      const response = await this.request(apiKey, body, { nodeId });
      if (response.errorCode === 16 || response.errorCode === 15) this.forgetCoordinator(groupId);
      return response;
    } catch (error) {
      this.forgetCoordinator(groupId);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
