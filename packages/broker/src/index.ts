/**
 * @gregor/broker: one Kafka broker of a cluster over @gregor/log — the partitions its metadata
 * image gives it, led or followed (replica fetchers, ISR, high watermark, leader epochs and
 * truncation), produce with acks, fetch with long poll, idempotent producer state, the classic
 * group coordinator with offsets in `__consumer_offsets`, its life with the controller, and one
 * request handler per API key behind `Broker.handle`. `Broker.open` is a standalone one-broker
 * cluster; `Broker.create` a broker for a node to wire.
 */
export { Broker, NO_RESPONSE, type BrokerOptions, type ClusterBrokerOptions, type ListenerEndpoint } from './broker.js';
export { AlterPartitionManager, type IsrChange, type IsrChangeOutcome } from './alter-partition-manager.js';
export { migrateDataDir, MIGRATED_SUFFIX, topicMetadataRecords, type DataDirMigration } from './bootstrap.js';
export { BrokerLifecycleManager, type BrokerState } from './broker-lifecycle-manager.js';
export { type BrokerNetwork, ClusterChannelError, type ControllerChannel } from './channels.js';
export { ControllerProducerIdBlockSource } from './controller-producer-ids.js';
export { PARTITION_METADATA_FILE, readPartitionTopicId } from './partition-metadata-file.js';
export { ReplicaFetcher } from './replica-fetcher.js';
export { REPLICATION_OFFSET_CHECKPOINT_FILE, ReplicaManager } from './replica-manager.js';
export { Replica } from './replica.js';
export { SingleNodeController, type MetadataPublisher } from './single-node-controller.js';
export { brokerConfigDefaults, resolveBrokerConfig, logConfigFor, MESSAGE_MAX_BYTES_DEFAULT, type BrokerConfig } from './config.js';
export { brokerConfigTable, brokerConfigsByName, type BrokerConfigDefinition, type DynamicUpdateMode } from './broker-config-table.js';
export { topicConfigTable, topicConfigsByName, topicConfigDocumentation, type TopicConfigDefinition, type BrokerSynonym } from './topic-config-table.js';
export { BrokerConfigView, ConfigSource, type ConfigSetting, type DynamicBrokerConfigs } from './broker-config-view.js';
export { controllerConfigValidator } from './controller-config-validator.js';
export { CONFIG_TYPE_IDS, ConfigValueError, javaDoubleToString, LONG_MAX, normalizeConfigValue, type ConfigType, type ConfigValidator } from './config-types.js';
export { brokerConfigDocumentation, describeBrokerConfig, describeTopicConfig, topicConfigValue, type ConfigEntry } from './config-entries.js';
export type { Body, RequestContext } from './context.js';
export { BrokerError } from './errors.js';
export { GroupCoordinator, type GroupDescription, type JoinGroupRequest, type SyncGroupRequest, type OffsetStore } from './group/coordinator.js';
export { Group, type GroupState, type JoinResult, type SyncResult, type CommittedOffset } from './group/group.js';
export {
  decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey, encodeGroupMetadataKey, encodeGroupMetadataValue,
  encodeOffsetCommitKey, encodeOffsetCommitValue, type OffsetsTopicKey, type StoredGroup, type StoredMember,
} from './group/offsets-schema.js';
export { handledApiKeys } from './handlers/index.js';
export { javaStringHashCode, partitionForGroup, randomClusterId, randomTopicId, uuidFromBase64, uuidToBase64, type Random } from './ids.js';
export { META_PROPERTIES_FILE, type MetaProperties } from './meta-properties.js';
export { NO_LEADER, Partition, type AppendOutcome } from './partition.js';
export { BlockProducerIdAllocator, PRODUCER_ID_BLOCK_SIZE, type ProducerIdAllocator, type ProducerIdBlock, type ProducerIdBlockSource } from './producer-id-allocator.js';
export { PRODUCER_ID_BLOCK_FILE, ProducerIdBlockFile, type ProducerIdBlockFileOptions } from './producer-id-block-file.js';
export { ProducerStateManager, type ProducerEntry, type BatchMetadata } from './producer-state.js';
export { TOPICS_FILE, type TopicRecord } from './topic-store.js';
export { warningChannel } from './warnings.js';
export { INTERNAL_TOPICS, METADATA_TOPIC, OFFSETS_TOPIC, topicNameProblem } from './topics.js';
export { parseProperties } from './properties.js';
export {
  brokerConfigFromProperties, BrokerConfigError, brokerSettings, clusterSettings, kafkaBrokerConfigNames, singleNodeProblem,
  type BrokerConfigFromProperties, type BrokerSetting, type ClusterSettings, type Listener, type QuorumVoter,
} from './config-properties.js';
