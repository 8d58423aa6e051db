/**
 * Several real brokers in one test, on MemoryFileSystem and one FakeClock:
 *   - InMemoryNetwork: the brokers' BrokerNetwork. A request goes through @gregor/protocol's
 *     encoders and decoders both ways (so a field a version does not carry is caught), then to the
 *     other broker's `handle()`. Links can be cut (both directions) and a broker isolated.
 *   - RecordsController: a controller made of metadata records the harness writes, committed at
 *     once and applied by every live broker in order. It answers what brokers send (registration,
 *     heartbeats, AlterPartition, CreateTopics, AllocateProducerIds) and lets a test fence a broker
 *     or elect a leader explicitly, the way a controller would after a session timeout.
 * `settle(ms)` advances the clock in small steps and lets every promise run in between, so fetchers,
 * long polls and timers interleave as they would in time.
 */
import { ApiKey, decodeRequest, decodeResponse, encodeRequest, encodeResponse, ErrorCode } from '@gregor/protocol';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { MetadataDelta, MetadataImage, type MetadataRecordInput, metadataRecord, type PartitionRegistration } from '@gregor/metadata';
import { type Body, Broker, type BrokerConfig, type BrokerNetwork, ClusterChannelError, type ControllerChannel } from '@gregor/broker';
import { seededRandom } from './helpers.js';

export const DIR = '/data';

function roundTripRequest(apiKey: number, apiVersion: number, body: Body): Body {
  const frame = encodeRequest({ apiKey, apiVersion, correlationId: 1, clientId: 'broker' }, body);
  return decodeRequest(frame.subarray(4)).body;
}

function roundTripResponse(apiKey: number, apiVersion: number, body: Body): Body {
  return decodeResponse(apiKey, apiVersion, encodeResponse(apiKey, apiVersion, 1, body).subarray(4)).body;
}

export class InMemoryNetwork {
  private readonly cut = new Set<string>();
  /** Sees every answered request between brokers (after the codecs), for tests that count what travels. */
  onExchange: ((from: number, to: number, apiKey: number, request: Body, response: Body) => void) | null = null;

  constructor(private readonly brokers: () => ReadonlyMap<number, Broker>) {}

  channelFor(from: number): BrokerNetwork {
    return {
      send: async (to, apiKey, apiVersion, body) => {
        // A network hop: the request arrives after the sender's current task, never inside it.
        await new Promise((resolve) => setImmediate(resolve));
        const target = this.brokers().get(to);
        if (target === undefined || target.isClosed || this.cut.has(`${from}->${to}`)) throw new ClusterChannelError('BROKER_UNREACHABLE', `broker ${to} is unreachable from ${from}`);
        const request = roundTripRequest(apiKey, apiVersion, body);
        const response = await target.handle(apiKey, apiVersion, request, { clientId: `broker-${from}` });
        // A link cut while the request was parked loses the answer.
        if (response === null || this.cut.has(`${to}->${from}`)) throw new ClusterChannelError('BROKER_UNREACHABLE', `no answer from broker ${to}`);
        const answer = roundTripResponse(apiKey, apiVersion, response);
        this.onExchange?.(from, to, apiKey, request, answer);
        return answer;
      },
    };
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}->${b}`);
    this.cut.add(`${b}->${a}`);
  }

  healLink(a: number, b: number): void {
    this.cut.delete(`${a}->${b}`);
    this.cut.delete(`${b}->${a}`);
  }
}

/** A controller that is a list of metadata records, committed at once. */
export class RecordsController {
  image = MetadataImage.EMPTY;
  private readonly registrationOffsets = new Map<number, number>();
  private readonly unreachable = new Set<number>();
  private nextProducerIdBlock = 0;

  constructor(private readonly liveBrokers: () => Broker[], private readonly random: () => number) {}

  commit(records: readonly MetadataRecordInput[]): void {
    if (records.length === 0) return;
    const delta = new MetadataDelta(this.image);
    for (const record of records) delta.replay(metadataRecord(record));
    this.image = delta.apply();
    for (const broker of this.liveBrokers()) broker.applyMetadata(delta, this.image);
  }

  /** The whole image as one delta from the empty image, for a broker that starts. */
  publishAll(broker: Broker): void {
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    for (const record of this.image.toRecords()) delta.replay(metadataRecord(record));
    broker.applyMetadata(delta, this.image);
  }

  channelFor(brokerId: number): ControllerChannel {
    return {
      send: async (apiKey, apiVersion, body) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.unreachable.has(brokerId)) throw new ClusterChannelError('CONTROLLER_UNREACHABLE', `broker ${brokerId} cannot reach the controller`);
        return roundTripResponse(apiKey, apiVersion, this.answer(apiKey, roundTripRequest(apiKey, apiVersion, body)));
      },
    };
  }

  setReachable(brokerId: number, reachable: boolean): void {
    if (reachable) this.unreachable.delete(brokerId);
    else this.unreachable.add(brokerId);
  }

  private answer(apiKey: number, body: Body): Body {
    switch (apiKey) {
      case ApiKey.BrokerRegistration: {
        this.registrationRequests.push(body);
        const brokerEpoch = this.image.offset + 1;
        this.commit([{
          type: 'RegisterBroker', brokerId: body.brokerId, incarnationId: body.incarnationId, brokerEpoch,
          endPoints: body.listeners.map((listener: Body) => ({ ...listener })), features: [], rack: body.rack, fenced: true, inControlledShutdown: false,
        }]);
        this.registrationOffsets.set(body.brokerId, brokerEpoch);
        return { throttleTimeMs: 0, errorCode: 0, brokerEpoch };
      }
      case ApiKey.BrokerHeartbeat: return this.heartbeat(body);
      case ApiKey.AlterPartition: return this.alterPartition(body);
      case ApiKey.CreateTopics: return this.createTopics(body);
      case ApiKey.AllocateProducerIds: {
        const start = this.nextProducerIdBlock;
        this.nextProducerIdBlock += 1000;
        this.commit([{ type: 'ProducerIds', brokerId: body.brokerId, brokerEpoch: body.brokerEpoch, nextProducerId: this.nextProducerIdBlock }]);
        return { throttleTimeMs: 0, errorCode: 0, producerIdStart: start, producerIdLen: 1000 };
      }
      default: throw new Error(`the records controller does not answer API ${apiKey}`);
    }
  }

  private heartbeat(body: Body): Body {
    const registration = this.image.brokers.get(body.brokerId);
    const caughtUp = body.currentMetadataOffset >= (this.registrationOffsets.get(body.brokerId) ?? Number.MAX_SAFE_INTEGER);
    const answer = (errorCode: number, shouldShutDown = false): Body => ({
      throttleTimeMs: 0, errorCode, isCaughtUp: caughtUp, isFenced: this.image.brokers.get(body.brokerId)?.fenced ?? true, shouldShutDown,
    });
    if (registration === undefined) return answer(ErrorCode.BROKER_ID_NOT_REGISTERED);
    if (registration.epoch !== body.brokerEpoch) return answer(ErrorCode.STALE_BROKER_EPOCH);
    if (body.wantShutDown === true) {
      // A controlled shutdown: leaderships move away at once; the broker may go when it leads nothing.
      this.fence(body.brokerId);
      return answer(ErrorCode.NONE, true);
    }
    if (registration.fenced && body.wantFence === false && caughtUp) this.unfence(body.brokerId);
    return answer(ErrorCode.NONE);
  }

  /** Every BrokerRegistration request the controller received, in order. */
  readonly registrationRequests: Body[] = [];

  /** Every AlterPartition request the controller received, in order (for tests of what leaders send). */
  readonly alterPartitionRequests: Body[] = [];

  private alterPartition(body: Body): Body {
    this.alterPartitionRequests.push(body);
    const topics = body.topics.map((topicRequest: Body) => ({
      topicId: topicRequest.topicId,
      partitions: topicRequest.partitions.map((request: Body) => {
        const current = this.image.topicsById.get(topicRequest.topicId)?.partitions.get(request.partitionIndex);
        const answer = (errorCode: number, registration = current): Body => ({
          partitionIndex: request.partitionIndex, errorCode, leaderId: registration?.leader ?? -1, leaderEpoch: registration?.leaderEpoch ?? -1,
          isr: [...(registration?.isr ?? [])], leaderRecoveryState: 0, partitionEpoch: registration?.partitionEpoch ?? -1,
        });
        if (current === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (body.brokerId !== current.leader || request.leaderEpoch !== current.leaderEpoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
        if (request.partitionEpoch !== current.partitionEpoch) return answer(ErrorCode.INVALID_UPDATE_VERSION);
        const isr: number[] = request.newIsrWithEpochs.map((entry: Body) => entry.brokerId);
        if (isr.some((id) => !this.image.isUnfenced(id))) return answer(ErrorCode.INELIGIBLE_REPLICA);
        // As Kafka's ReplicationControlManager: a member vouched for with another epoch than its registration's has registered again since.
        if (request.newIsrWithEpochs.some((entry: Body) => entry.brokerEpoch !== -1 && entry.brokerEpoch !== this.image.brokers.get(entry.brokerId)?.epoch)) return answer(ErrorCode.INELIGIBLE_REPLICA);
        this.commit([{ type: 'PartitionChange', topicId: topicRequest.topicId, partitionId: request.partitionIndex, isr }]);
        return answer(ErrorCode.NONE, this.image.topicsById.get(topicRequest.topicId)?.partitions.get(request.partitionIndex));
      }),
    }));
    return { throttleTimeMs: 0, errorCode: 0, topics };
  }

  /** Replicas spread as Kafka's default placement does, without racks: round robin from a rotating start. */
  private createTopics(body: Body): Body {
    const topics = body.topics.map((request: Body) => {
      const brokers = this.image.unfencedBrokerIds();
      const fail = (errorCode: number): Body => ({ name: request.name, topicId: '00000000-0000-0000-0000-000000000000', errorCode, errorMessage: null, numPartitions: -1, replicationFactor: -1, configs: [] });
      if (this.image.topic(request.name) !== undefined) return fail(ErrorCode.TOPIC_ALREADY_EXISTS);
      const replicationFactor = request.replicationFactor === -1 ? 1 : request.replicationFactor;
      if (replicationFactor > brokers.length) return fail(ErrorCode.INVALID_REPLICATION_FACTOR);
      const numPartitions = request.numPartitions === -1 ? 1 : request.numPartitions;
      const assignments = Array.from({ length: numPartitions }, (_, partition) => Array.from({ length: replicationFactor }, (_, replica) => brokers[(partition + replica) % brokers.length]));
      const topicId = this.createTopic(request.name, assignments, Object.fromEntries((request.configs ?? []).map((config: Body) => [config.name, config.value])));
      return { name: request.name, topicId, errorCode: 0, errorMessage: null, numPartitions, replicationFactor, configs: [] };
    });
    return { throttleTimeMs: 0, topics };
  }

  // ---------------------------------------------------------------- what a test does as the controller

  /** Creates a topic with explicit replicas per partition (the first of each is the leader). */
  createTopic(name: string, assignments: number[][], configs: Record<string, string> = {}): string {
    const bytes = Buffer.alloc(16);
    for (let index = 0; index < 16; index++) bytes[index] = Math.floor(this.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    const topicId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const records: MetadataRecordInput[] = [{ type: 'Topic', name, topicId }];
    assignments.forEach((replicas, partitionId) => {
      records.push({ type: 'Partition', partitionId, topicId, replicas, isr: replicas, removingReplicas: [], addingReplicas: [], leader: replicas[0], leaderEpoch: 0, partitionEpoch: 0 });
    });
    for (const [key, value] of Object.entries(configs)) records.push({ type: 'Config', resourceType: 2, resourceName: name, name: key, value });
    this.commit(records);
    return topicId;
  }

  /**
   * What the controller does when a broker's session expires (or it shuts down): fenced, out of
   * every ISR (an ISR never becomes empty: a last member stays, leaderless), and each partition it
   * led gets a new leader from the ISR, or none.
   */
  fence(brokerId: number): void {
    const registration = this.image.brokers.get(brokerId);
    if (registration === undefined || registration.fenced) return;
    const records: MetadataRecordInput[] = [{ type: 'FenceBroker', id: brokerId, epoch: registration.epoch }];
    for (const topic of this.image.topicsById.values()) {
      for (const [partitionId, partition] of topic.partitions) {
        if (!partition.isr.includes(brokerId) && partition.leader !== brokerId) continue;
        const isr = partition.isr.length > 1 ? partition.isr.filter((id) => id !== brokerId) : [...partition.isr];
        const change: MetadataRecordInput = { type: 'PartitionChange', topicId: topic.id, partitionId, isr };
        if (partition.leader === brokerId) change.leader = isr.find((id) => id !== brokerId && this.image.isUnfenced(id)) ?? -1;
        records.push(change);
      }
    }
    this.commit(records);
  }

  /** A broker back from the dead: leaderless partitions whose ISR holds it elect it. */
  private unfence(brokerId: number): void {
    const registration = this.image.brokers.get(brokerId);
    if (registration === undefined) return;
    const records: MetadataRecordInput[] = [{ type: 'UnfenceBroker', id: brokerId, epoch: registration.epoch }];
    for (const topic of this.image.topicsById.values()) {
      for (const [partitionId, partition] of topic.partitions) {
        if (partition.leader === -1 && partition.isr.includes(brokerId)) records.push({ type: 'PartitionChange', topicId: topic.id, partitionId, leader: brokerId });
      }
    }
    this.commit(records);
  }

  /** Elects `leader` (which must be in the ISR) for a partition: a new leader epoch. */
  electLeader(topic: string, partitionId: number, leader: number): void {
    const topicId = this.image.topic(topic)?.id;
    if (topicId === undefined) throw new Error(`no topic ${topic}`);
    this.commit([{ type: 'PartitionChange', topicId, partitionId, leader }]);
  }

  partition(topic: string, partitionId: number): PartitionRegistration {
    const registration = this.image.partition(topic, partitionId);
    if (registration === undefined) throw new Error(`no partition ${topic}-${partitionId}`);
    return registration;
  }
}

export class TestCluster {
  readonly clock = new FakeClock();
  readonly brokers = new Map<number, Broker>();
  readonly fileSystems = new Map<number, MemoryFileSystem>();
  readonly network = new InMemoryNetwork(() => this.brokers);
  readonly controller: RecordsController;

  private constructor(private readonly config: Partial<BrokerConfig>) {
    this.controller = new RecordsController(() => [...this.brokers.values()].filter((broker) => !broker.isClosed), seededRandom(99));
  }

  static async start(count: number, config: Partial<BrokerConfig> = {}): Promise<TestCluster> {
    const cluster = new TestCluster({
      groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 3, replicaLagTimeMaxMs: 10_000, replicaFetchBackoffMs: 100, ...config,
    });
    for (let id = 0; id < count; id++) await cluster.startBroker(id);
    return cluster;
  }

  /** Starts (or restarts) broker `id` on its file system, and waits until the controller has unfenced it. */
  async startBroker(id: number): Promise<Broker> {
    let fs = this.fileSystems.get(id);
    if (fs === undefined) {
      fs = new MemoryFileSystem({ seed: id + 1 });
      this.fileSystems.set(id, fs);
    }
    const broker = Broker.create({
      dir: DIR, fs, clock: this.clock, random: seededRandom(id * 7919 + this.brokers.size + 1), config: { ...this.config, nodeId: id },
      controller: this.controller.channelFor(id), network: this.network.channelFor(id), clusterId: 'gregor-test-cluster-00',
      listeners: [{ name: 'PLAINTEXT', host: `broker-${id}`, port: 9092, securityProtocol: 0 }],
    });
    this.brokers.set(id, broker);
    this.controller.publishAll(broker);
    const started = broker.startup();
    await this.settleUntil(started);
    return broker;
  }

  broker(id: number): Broker {
    const broker = this.brokers.get(id);
    if (broker === undefined || broker.isClosed) throw new Error(`broker ${id} is not running`);
    return broker;
  }

  /** Stops broker `id` as a crash does (with `powerLoss`, losing its unsynced writes too), and fences it. */
  kill(id: number, options: { powerLoss?: boolean } = {}): void {
    this.broker(id).kill();
    if (options.powerLoss === true) this.fileSystems.get(id)?.crash();
    this.controller.fence(id);
  }

  /** Lets every pending promise run (fetchers, handlers, timers already due). */
  async flush(rounds = 5): Promise<void> {
    for (let round = 0; round < rounds; round++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Advances the clock by `ms` in steps of `stepMs`, letting everything run in between. */
  async settle(ms: number, stepMs = 10): Promise<void> {
    await this.flush();
    for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - elapsed));
      await this.flush();
    }
  }

  /** Settles until `promise` resolves (at most `limitMs` of clock), then returns its value. */
  async settleUntil<T>(promise: Promise<T>, limitMs = 60_000, stepMs = 10): Promise<T> {
    let done = false;
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    promise.then((result) => { done = true; value = result; }, (error: unknown) => { done = true; failed = true; failure = error; });
    await this.flush();
    for (let elapsed = 0; !done && elapsed < limitMs; elapsed += stepMs) {
      this.clock.advance(stepMs);
      await this.flush();
    }
    if (!done) throw new Error(`not settled within ${limitMs} ms of the fake clock`);
    if (failed) throw failure;
    return value as T;
  }

  async close(): Promise<void> {
    for (const broker of this.brokers.values()) if (!broker.isClosed) broker.kill();
  }
}
