/**
 * @gregor/broker: one Kafka broker's semantics over @gregor/log — topics with ids and configs,
 * partition state (log start offset, LEO, high watermark, leader epoch, ISR), produce with acks,
 * fetch with long poll, idempotent producer state, the classic group coordinator with offsets in
 * `__consumer_offsets`, and one request handler per API key behind `Broker.handle`.
 */
export { Broker, NO_RESPONSE, type BrokerOptions, type CreateTopicRequest, type TopicChange } from './broker.js';
export { brokerConfigDefaults, resolveBrokerConfig, logConfigFor, MESSAGE_MAX_BYTES_DEFAULT, type BrokerConfig } from './config.js';
export { brokerConfigTable, brokerConfigsByName, type BrokerConfigDefinition, type DynamicUpdateMode } from './broker-config-table.js';
export { topicConfigTable, topicConfigsByName, topicConfigDocumentation, type TopicConfigDefinition, type BrokerSynonym } from './topic-config-table.js';
export { BrokerConfigView, ConfigSource, type ConfigSetting, type DynamicBrokerConfigs } from './broker-config-view.js';
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
export { javaStringHashCode, partitionForGroup, randomClusterId, randomTopicId, type Random } from './ids.js';
export { META_PROPERTIES_FILE, type MetaProperties } from './meta-properties.js';
export { Partition, type AppendOutcome } from './partition.js';
export { BlockProducerIdAllocator, PRODUCER_ID_BLOCK_SIZE, type ProducerIdAllocator, type ProducerIdBlock, type ProducerIdBlockSource } from './producer-id-allocator.js';
export { PRODUCER_ID_BLOCK_FILE, ProducerIdBlockFile, type ProducerIdBlockFileOptions } from './producer-id-block-file.js';
export { ProducerStateManager, type ProducerEntry, type BatchMetadata } from './producer-state.js';
export { TOPICS_FILE } from './topic-store.js';
export { warningChannel } from './warnings.js';
export { INTERNAL_TOPICS, OFFSETS_TOPIC, topicNameProblem, type Topic } from './topics.js';
export { parseProperties } from './properties.js';
export {
  brokerConfigFromProperties, BrokerConfigError, brokerSettings, clusterSettings, kafkaBrokerConfigNames, singleNodeProblem,
  type BrokerConfigFromProperties, type BrokerSetting, type ClusterSettings, type Listener, type QuorumVoter,
} from './config-properties.js';
