/** Shared test setup: a broker on MemoryFileSystem + FakeClock, and protocol-shaped request builders. */
import { ApiKey } from '@gregor/protocol';
import { FakeClock, MemoryFileSystem, type FileSystem } from '@gregor/log';
import { encodeBatch } from '@gregor/records';
import { Broker, type BrokerConfig, type Body } from '@gregor/broker';

export const DIR = '/data';

/** A seeded generator so ids are reproducible. */
export function seededRandom(seed = 42): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestBroker {
  broker: Broker;
  fs: FileSystem;
  clock: FakeClock;
  reopen(): Promise<Broker>;
}

export async function openTestBroker(config: Partial<BrokerConfig> = {}, fs: FileSystem = new MemoryFileSystem(), dir = DIR): Promise<TestBroker> {
  const clock = new FakeClock();
  const random = seededRandom();
  const fullConfig = { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 3, ...config };
  const result: TestBroker = {
    broker: await Broker.open({ dir, fs, clock, random, config: fullConfig }),
    fs,
    clock,
    async reopen() {
      await result.broker.close();
      result.broker = await Broker.open({ dir, fs, clock, random, config: fullConfig });
      return result.broker;
    },
  };
  return result;
}

export function batch(values: string[], options: { producerId?: number; producerEpoch?: number; baseSequence?: number; timestamp?: number } = {}): Buffer {
  return encodeBatch({
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? -1,
    baseSequence: options.baseSequence ?? -1,
    timestamp: options.timestamp ?? 1_700_000_000_000,
    records: values.map((value) => ({ key: null, value: Buffer.from(value) })),
  });
}

export async function createTopic(broker: Broker, name: string, numPartitions = 1, configs: { name: string; value: string }[] = []): Promise<Body> {
  const response = await broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }], timeoutMs: 1000, validateOnly: false });
  return (response as Body).topics[0];
}

export async function produce(broker: Broker, topic: string, partition: number, records: Buffer | null, acks = -1, version = 9): Promise<Body | null> {
  const response = await broker.handle(ApiKey.Produce, version, { transactionalId: null, acks, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  return response === null ? null : (response as Body).responses[0].partitionResponses[0];
}

export function fetchRequest(topic: string, partition: number, fetchOffset: number, options: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {}): Body {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1, partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export async function fetchPartition(broker: Broker, topic: string, partition: number, fetchOffset: number, options: Parameters<typeof fetchRequest>[3] = {}): Promise<Body> {
  const response = (await broker.handle(ApiKey.Fetch, 11, fetchRequest(topic, partition, fetchOffset, options))) as Body;
  return response.responses[0].partitions[0];
}

/**
 * Makes the standalone broker's controller elect the same leader again `times` times: each
 * election starts a new leader epoch (as a controller does after, say, a preferred election).
 */
export function bumpLeaderEpoch(broker: Broker, topic: string, partition: number, times = 1): void {
  const controller = broker.standaloneController;
  const topicId = broker.image.topic(topic)?.id;
  if (controller === null || topicId === undefined) throw new Error(`no standalone controller or no topic ${topic}`);
  for (let time = 0; time < times; time++) controller.commit([{ type: 'PartitionChange', topicId, partitionId: partition, leader: broker.nodeId }]);
}
