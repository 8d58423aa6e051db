/**
 * The broker's metadata: topics (names, topic ids, partition counts, replication factors, per-topic
 * configs and each partition's leader epoch), the dynamic broker configs (KIP-226, by resource
 * name: this broker's id, or '' for the cluster-wide defaults) and the client quotas (KIP-546).
 * Stored as one JSON file in the data dir (`gregor-topics.json`, `{ "version": 1, "topics": [...],
 * "brokerConfigs": {...}, "clientQuotas": [...] }`; the last two are absent in files written
 * before them), replaced atomically (temp file, fsync, rename) after each change and read at open.
 * A change the file cannot take (a full disk) changes nothing in memory either, and throws.
 * Replication will move this to a `__cluster_metadata` log (Kafka keeps all three there); until
 * then this file is the single source of truth. Only the Broker calls it, from the event loop.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { BrokerError } from './errors.js';

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

  private constructor(private readonly fs: FileSystem, private readonly filePath: string) {}

  static open(fs: FileSystem, dir: string): TopicStore {
    const store = new TopicStore(fs, path.join(dir, TOPICS_FILE));
    if (!fs.exists(store.filePath)) {
      store.existed = false;
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

  private save(): void {
    const data = { version: TOPICS_FILE_VERSION, topics: [...this.topics.values()], brokerConfigs: this.brokerConfigs, clientQuotas: this.quotas };
    this.fs.writeFileAtomic(this.filePath, Buffer.from(JSON.stringify(data, null, 1)));
  }
}
