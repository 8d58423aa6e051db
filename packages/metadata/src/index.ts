/**
 * @gregor/metadata: the cluster's metadata as KRaft keeps it. The records of the
 * `__cluster_metadata` log in Kafka's encoding (records.ts), the immutable image every broker
 * builds from them (image.ts), the delta that replays records onto an image (delta.ts) and what a
 * delta means for one broker (local-changes.ts). Depends only on @gregor/protocol.
 */
export { MetadataDelta, mergePartitionChange } from './delta.js';
export { MetadataError } from './errors.js';
export {
  type AclEntry, type BrokerRegistration, type ClientQuota, configResourceKey, type Endpoint, MetadataImage, type MetadataImageParts,
  type PartitionRegistration, type QuotaEntity, quotaEntityKey, type ScramCredential, type TopicImage,
} from './image.js';
export { type LocalChanges, type LocalPartition, localChanges, type RemovedLocalPartition } from './local-changes.js';
export {
  ConfigResourceType, decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord, metadataRecord, metadataRecordDescriptions,
  type MetadataRecordInput, type MetadataRecordOf, type MetadataRecordType, NO_LEADER, NO_LEADER_CHANGE,
} from './records.js';
