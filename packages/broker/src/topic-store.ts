/**
 * The broker's topic metadata: names, topic ids, partition counts, replication factors, per-topic
 * configs and each partition's leader epoch. Stored as one JSON file in the data dir
 * (`gregor-topics.json`, `{ "version": 1, "topics": [...] }`), replaced atomically (temp file,
 * fsync, rename) after each change and read at open. Replication will move this to a
 * `__cluster_metadata` log; until then this file is the single source of truth. Only the Broker
 * calls it, from the event loop.
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

export class TopicStore {
  private readonly topics = new Map<string, TopicRecord>();
  /** False when the data dir had no topics file yet (a new dir, or one another broker wrote). */
  existed = true;

  private constructor(private readonly fs: FileSystem, private readonly filePath: string) {}

  static open(fs: FileSystem, dir: string): TopicStore {
    const store = new TopicStore(fs, path.join(dir, TOPICS_FILE));
    if (!fs.exists(store.filePath)) {
      store.existed = false;
      return store;
    }
    let parsed: { version?: number; topics?: TopicRecord[] };
    try {
      parsed = JSON.parse(fs.readFile(store.filePath).toString('utf8'));
    } catch (cause) {
      throw new BrokerError('CORRUPT_TOPIC_METADATA', `${store.filePath}: ${(cause as Error).message}`);
    }
    if (parsed.version !== TOPICS_FILE_VERSION || !Array.isArray(parsed.topics)) {
      throw new BrokerError('CORRUPT_TOPIC_METADATA', `${store.filePath}: unsupported version ${parsed.version}`);
    }
    for (const topic of parsed.topics) store.topics.set(topic.name, topic);
    return store;
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name);
  }

  all(): IterableIterator<TopicRecord> {
    return this.topics.values();
  }

  put(topic: TopicRecord): void {
    this.topics.set(topic.name, topic);
    this.save();
  }

  delete(name: string): void {
    this.topics.delete(name);
    this.save();
  }

  private save(): void {
    const data = { version: TOPICS_FILE_VERSION, topics: [...this.topics.values()] };
    this.fs.writeFileAtomic(this.filePath, Buffer.from(JSON.stringify(data, null, 1)));
  }
}
