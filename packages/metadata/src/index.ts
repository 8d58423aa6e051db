/**
 * @gregor/metadata: the cluster's metadata as KRaft keeps it. The records of the
 * `__cluster_metadata` log in Kafka's encoding (records.ts), the immutable image every broker
 * builds from them (image.ts), the delta that replays records onto an image (delta.ts) and what a
 * delta means for one broker (local-changes.ts), and the controller that decides every change
 * (controller/: Kafka's QuorumController, its control managers and replica placer). Depends only
 * on @gregor/protocol.
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
export {
  CONTROLLER_CONFIG_DEFAULTS, type ControllerConfig, ControllerConfigError, controllerConfig,
} from './controller/config.js';
export { ControllerError } from './controller/errors.js';
export { errorResponse as controllerErrorResponse } from './controller/error-responses.js';
export type {
  ApiError, CommittedBatch, ConfigResource, ConfigValidator, ControllerClock, ControllerLog, LeaderAndEpoch, Random,
} from './controller/interfaces.js';
export { buildPartitionChange, type Election, LeaderRecoveryState, type PartitionChangeInput } from './controller/partition-change.js';
export {
  CONTROLLER_API_KEYS, type ControllerApiKey, type ControllerApis, type ControllerRequest, type ControllerResponse, QuorumController,
  type QuorumControllerOptions,
} from './controller/quorum-controller.js';
export { METADATA_VERSION_FEATURE, METADATA_VERSION_LEVEL, PRODUCER_ID_BLOCK_SIZE } from './controller/cluster-control.js';
export { ConfigOperation } from './controller/config-control.js';
export { ELIGIBLE_LEADER_REPLICAS_FEATURE, isElrEnabled } from './controller/context.js';
export { placeReplicas, type UsableBroker } from './controller/replica-placer.js';
