/**
 * What one delta means for one broker (Kafka's TopicsDelta.localChanges): the partitions it now
 * leads, those it now follows (including ones with no leader at all), and those it must delete
 * because their topic is gone or it is no longer a replica. Only partitions the delta touched are
 * listed, so a broker applying every delta in order sees every change exactly once.
 */
import type { MetadataDelta } from './delta.js';
import type { MetadataImage, PartitionRegistration } from './image.js';

export interface LocalPartition {
  topicName: string;
  topicId: string;
  partitionIndex: number;
  /** The registration in the new image. */
  registration: PartitionRegistration;
  /** The registration before this delta (undefined for a new partition). */
  previous: PartitionRegistration | undefined;
}

export interface RemovedLocalPartition {
  topicName: string;
  topicId: string;
  partitionIndex: number;
  /** True when the whole topic was deleted (not only this replica moved away). */
  topicDeleted: boolean;
}

export interface LocalChanges {
  leaders: LocalPartition[];
  followers: LocalPartition[];
  deletes: RemovedLocalPartition[];
}

export function localChanges(delta: MetadataDelta, image: MetadataImage, brokerId: number): LocalChanges {
  const changes: LocalChanges = { leaders: [], followers: [], deletes: [] };
  for (const [topicId, topic] of delta.removedTopics) {
    for (const [partitionIndex, registration] of topic.partitions) {
      if (registration.replicas.includes(brokerId)) changes.deletes.push({ topicName: topic.name, topicId, partitionIndex, topicDeleted: true });
    }
  }
  for (const [topicId, partitionIndexes] of delta.changedPartitions) {
    const topic = image.topicsById.get(topicId);
    if (topic === undefined) continue;
    const before = delta.base.topicsById.get(topicId);
    for (const partitionIndex of partitionIndexes) {
      const registration = topic.partitions.get(partitionIndex);
      if (registration === undefined) continue;
      const previous = before?.partitions.get(partitionIndex);
      const entry: LocalPartition = { topicName: topic.name, topicId, partitionIndex, registration, previous };
      if (registration.leader === brokerId) changes.leaders.push(entry);
      else if (registration.replicas.includes(brokerId)) changes.followers.push(entry);
      else if (previous?.replicas.includes(brokerId) === true) {
        changes.deletes.push({ topicName: topic.name, topicId, partitionIndex, topicDeleted: false });
      }
    }
  }
  return changes;
}
