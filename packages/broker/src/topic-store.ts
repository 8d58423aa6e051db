/**
 * The topic metadata of a data dir from before the cluster metadata log: names, topic ids,
 * partition counts, replication factors, per-topic configs and each partition's leader epoch, in
 * one JSON file (`gregor-topics.json`, `{ "version": 1, "topics": [...] }`) replaced atomically
 * (temp file, fsync, rename). A data dir without the file but with `<topic>-<n>` directories
 * (written by Kafka, or by Gregor before the file existed) is adopted: each becomes a topic with
 * max(n)+1 partitions, the topic id its `partition.metadata` names (a new one if none does) and
 * default configs (`__consumer_offsets` compacted).
 * Two readers: the one-broker controller of a standalone broker keeps its topics here, and the
 * migration of a data dir into a new cluster (bootstrap.ts) turns them into metadata records.
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

export class TopicStore {
  private readonly topics = new Map<string, TopicRecord>();
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

  /** Replaces every topic at once (one write). */
  replaceAll(topics: Iterable<TopicRecord>): void {
    this.topics.clear();
    for (const topic of topics) this.topics.set(topic.name, topic);
    this.save();
  }

  private save(): void {
    const data = { version: TOPICS_FILE_VERSION, topics: [...this.topics.values()] };
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
