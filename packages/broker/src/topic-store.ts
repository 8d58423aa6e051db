/**
 * The metadata of a data dir from before the cluster metadata log: topics (names, topic ids,
 * partition counts, replication factors, per-topic configs and each partition's leader epoch), the
 * dynamic broker configs (KIP-226, by resource name: a node id, or '' for the cluster-wide
 * defaults) and the client quotas (KIP-546), in one JSON file (`gregor-topics.json`,
 * `{ "version": 1, "topics": [...], "brokerConfigs": {...}, "clientQuotas": [...] }`; the last two
 * are absent in files written before them), replaced atomically (temp file, fsync, rename). A data
 * dir without the file but with `<topic>-<n>` directories (written by Kafka, or by Gregor before
 * the file existed) is adopted: each becomes a topic with max(n)+1 partitions, the topic id its
 * `partition.metadata` names (a new one if none does) and default configs (`__consumer_offsets`
 * compacted). A change the file cannot take (a full disk) changes nothing in memory either, and
 * throws. Two readers: the one-broker cluster of a standalone broker keeps its metadata here,
 * and the migration of a data dir into a new cluster (bootstrap.ts) turns it into metadata records.
 * Single-threaded.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { BrokerError } from './errors.js';
import { randomTopicId, type Random } from './ids.js';
import { readPartitionTopicId } from './partition-metadata-file.js';
import { METADATA_TOPIC, OFFSETS_TOPIC, topicNameProblem } from './topics.js';

export const TOPICS_FILE = 'gregor-topics.json';
const TOPICS_FILE_VERSION = 1;

export interface PartitionRecord {
  leaderEpoch: number;
}

export interface TopicRecord {
  name: string;
  topicId: string;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: PartitionRecord[];
}

/** One client-quota entity (user, client-id and/or ip; a null name is the default entity) and its quotas. */
export interface ClientQuotaRecord {
  entity: { entityType: string; entityName: string | null }[];
  values: Record<string, number>;
}

export class TopicStore {
  private readonly topics = new Map<string, TopicRecord>();
  private brokerConfigs: Record<string, Record<string, string>> = {};
  private quotas: ClientQuotaRecord[] = [];
  /** False when the data dir had no topics file yet (a new dir, or one another broker wrote). */
  existed = true;

  private constructor(private readonly fs: FileSystem, readonly filePath: string) {}

  /** Reads the topics file; without one, adopts the partition dirs (written back on the next change). */
  static open(fs: FileSystem, dir: string, random: Random): TopicStore {
    const store = new TopicStore(fs, path.join(dir, TOPICS_FILE));
    if (!fs.exists(store.filePath)) {
      store.existed = false;
      for (const topic of adoptedTopics(fs, dir, random)) store.topics.set(topic.name, topic);
      return store;
    }
    let parsed: { version?: number; topics?: TopicRecord[]; brokerConfigs?: Record<string, Record<string, string>>; clientQuotas?: ClientQuotaRecord[] };
    try {
      parsed = JSON.parse(fs.readFile(store.filePath).toString('utf8'));
    } catch (cause) {
      throw new BrokerError('CORRUPT_TOPIC_METADATA', `${store.filePath}: ${(cause as Error).message}`);
    }
    if (parsed.version !== TOPICS_FILE_VERSION || !Array.isArray(parsed.topics)) {
      throw new BrokerError('CORRUPT_TOPIC_METADATA', `${store.filePath}: unsupported version ${parsed.version}`);
    }
    for (const topic of parsed.topics) store.topics.set(topic.name, topic);
    store.brokerConfigs = parsed.brokerConfigs ?? {};
    store.quotas = parsed.clientQuotas ?? [];
    return store;
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name);
  }

  all(): IterableIterator<TopicRecord> {
    return this.topics.values();
  }

  /** Stores a topic (throws, changing nothing, if the file cannot be written). */
  put(topic: TopicRecord): void {
    this.change(() => this.topics.set(topic.name, topic));
  }

  /** Forgets a topic (throws, changing nothing, if the file cannot be written). */
  delete(name: string): void {
    this.change(() => this.topics.delete(name));
  }

  /** The dynamic configs of broker resource `resourceName` (a node id, or '' for the cluster defaults). */
  brokerConfigsOf(resourceName: string): Record<string, string> {
    return { ...this.brokerConfigs[resourceName] };
  }

  putBrokerConfigs(resourceName: string, configs: Record<string, string>): void {
    this.change(() => {
      const next = { ...this.brokerConfigs };
      if (Object.keys(configs).length === 0) delete next[resourceName];
      else next[resourceName] = { ...configs };
      this.brokerConfigs = next;
    });
  }

  clientQuotas(): ClientQuotaRecord[] {
    return this.quotas.map((quota) => ({ entity: quota.entity.map((part) => ({ ...part })), values: { ...quota.values } }));
  }

  putClientQuotas(quotas: ClientQuotaRecord[]): void {
    this.change(() => {
      this.quotas = quotas.filter((quota) => Object.keys(quota.values).length > 0);
    });
  }

  /** Applies a change and writes the file; if the write fails, the change is undone and it throws. */
  private change(apply: () => void): void {
    const topics = new Map(this.topics);
    const { brokerConfigs, quotas } = this;
    apply();
    try {
      this.save();
    } catch (error) {
      this.topics.clear();
      for (const [name, topic] of topics) this.topics.set(name, topic);
      this.brokerConfigs = brokerConfigs;
      this.quotas = quotas;
      throw error;
    }
  }

  /** Every broker resource's dynamic configs, by resource name. */
  allBrokerConfigs(): Record<string, Record<string, string>> {
    return Object.fromEntries(Object.entries(this.brokerConfigs).map(([name, configs]) => [name, { ...configs }]));
  }

  /** Replaces every topic and every broker resource's dynamic configs at once (one write). */
  replaceAll(topics: Iterable<TopicRecord>, brokerConfigs: Record<string, Record<string, string>>): void {
    this.change(() => {
      this.topics.clear();
      for (const topic of topics) this.topics.set(topic.name, topic);
      this.brokerConfigs = Object.fromEntries(Object.entries(brokerConfigs).filter(([, configs]) => Object.keys(configs).length > 0));
    });
  }

  private save(): void {
    const data = { version: TOPICS_FILE_VERSION, topics: [...this.topics.values()], brokerConfigs: this.brokerConfigs, clientQuotas: this.quotas };
    this.fs.writeFileAtomic(this.filePath, Buffer.from(JSON.stringify(data, null, 1)));
  }
}

/** The topics the `<topic>-<n>` directories of `dir` stand for. */
function adoptedTopics(fs: FileSystem, dir: string, random: Random): TopicRecord[] {
  const counts = new Map<string, number>();
  if (!fs.exists(dir)) return [];
  for (const name of fs.readdir(dir)) {
    const match = /^(.+)-(\d+)$/.exec(name);
    if (match === null || match[1] === METADATA_TOPIC || !fs.isDirectory(path.join(dir, name)) || topicNameProblem(match[1]) !== null) continue;
    counts.set(match[1], Math.max(counts.get(match[1]) ?? 0, Number(match[2]) + 1));
  }
  // A directory that names its topic id (partition.metadata, written by Gregor or Kafka) keeps it.
  const recordedId = (name: string, count: number): string | null => {
    for (let index = 0; index < count; index++) {
      const id = readPartitionTopicId(fs, path.join(dir, `${name}-${index}`));
      if (id !== null) return id;
    }
    return null;
  };
  return [...counts].map(([name, count]): TopicRecord => ({
    name,
    topicId: recordedId(name, count) ?? randomTopicId(random),
    replicationFactor: 1,
    configs: name === OFFSETS_TOPIC ? { 'cleanup.policy': 'compact' } : {},
    partitions: Array.from({ length: count }, () => ({ leaderEpoch: 0 })),
  }));
}
