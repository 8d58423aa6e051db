/**
 * Turning a data dir from before the cluster metadata log into metadata records (the migration
 * CLUSTER.md describes). A node whose metadata log is empty calls `migrateDataDir` on its data dir,
 * submits the records to its controller as bootstrap records (Kafka writes bootstrap records the
 * same way at the first start of a cluster), and once they are committed calls `complete()`, which
 * renames `gregor-topics.json` to `gregor-topics.json.migrated` so the next start does not submit
 * them again and the old file stays for inspection.
 *
 * Every topic keeps its topic id, configs and partitions; this node becomes the only replica and
 * the leader of each partition, at the leader epoch the file recorded, so the leader-epoch
 * checkpoints in the partition dirs stay consistent with the metadata. Dynamic broker configs the
 * file kept become Config records too. Pure apart from reading
 * the dir and the rename in `complete()`.
 */
import type { FileSystem } from '@gregor/log';
import { ConfigResourceType, type MetadataRecordInput } from '@gregor/metadata';
import type { Random } from './ids.js';
import { TopicStore, type TopicRecord } from './topic-store.js';

export const MIGRATED_SUFFIX = '.migrated';

export interface DataDirMigration {
  /** The topics found (from `gregor-topics.json`, or adopted from bare `<topic>-<n>` dirs). */
  topics: TopicRecord[];
  /** Topic, Partition and Config records that recreate them and the dynamic broker configs. Empty for an empty dir. */
  records: MetadataRecordInput[];
  /** Renames the topics file (if there was one) once the records are committed. */
  complete(): void;
}

export function migrateDataDir(options: { fs: FileSystem; dir: string; nodeId: number; random: Random }): DataDirMigration {
  const store = TopicStore.open(options.fs, options.dir, options.random);
  const topics = [...store.all()];
  return {
    topics,
    records: [...topicMetadataRecords(topics, options.nodeId), ...brokerConfigRecords(store.allBrokerConfigs())],
    complete() {
      if (store.existed && options.fs.exists(store.filePath)) options.fs.rename(store.filePath, `${store.filePath}${MIGRATED_SUFFIX}`);
    },
  };
}

/** The metadata records of `topics`, with `nodeId` the only replica and leader of every partition. */
export function topicMetadataRecords(topics: readonly TopicRecord[], nodeId: number): MetadataRecordInput[] {
  const records: MetadataRecordInput[] = [];
  for (const topic of topics) {
    records.push({ type: 'Topic', name: topic.name, topicId: topic.topicId });
    topic.partitions.forEach((partition, partitionId) => {
      records.push({
        type: 'Partition',
        partitionId,
        topicId: topic.topicId,
        replicas: [nodeId],
        isr: [nodeId],
        removingReplicas: [],
        addingReplicas: [],
        leader: nodeId,
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: 0,
      });
    });
    for (const [name, value] of Object.entries(topic.configs)) {
      records.push({ type: 'Config', resourceType: ConfigResourceType.TOPIC, resourceName: topic.name, name, value });
    }
  }
  return records;
}

/** Config records of dynamic broker configs, by resource name (a node id, or '' for the cluster default). */
export function brokerConfigRecords(brokerConfigs: Readonly<Record<string, Readonly<Record<string, string>>>>): MetadataRecordInput[] {
  const records: MetadataRecordInput[] = [];
  for (const [resourceName, configs] of Object.entries(brokerConfigs)) {
    for (const [name, value] of Object.entries(configs)) records.push({ type: 'Config', resourceType: ConfigResourceType.BROKER, resourceName, name, value });
  }
  return records;
}
