/**
 * @gregor/protocol: Kafka's wire protocol with every API described once as data (`messages/`),
 * codecs derived from the descriptions, request/response headers, Kafka's error codes, and a
 * frame reader with a size limit. Depends on nothing of ours.
 */
export { ApiKey, type ApiKeyName, type ApiKeyNumber } from './api-keys.js';
export {
  allSpecs,
  type ApiVersionRange,
  apiSpecs,
  codecFor,
  type DescribedApiKey,
  hasField,
  isFlexible,
  isVersionServed,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
  requestHeaderVersion,
  responseHeaderVersion,
  servedApiVersions,
  type Specs,
  specFor,
} from './apis.js';
export { INLINE_BYTES_MAX_DEFAULT, Reader, Writer, type WriterOptions, ZERO_UUID } from './codec.js';
export {
  CONSUMER_PROTOCOL_VERSION_MAX,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
  consumerProtocolAssignmentFields,
  consumerProtocolSubscriptionFields,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from './consumer-protocol.js';
export { type DataMessageOptions, decodeDataMessage, encodeDataMessage } from './data-message.js';
export { leaderChangeMessageFields, snapshotFooterRecordFields, snapshotHeaderRecordFields } from './messages/quorum.js';
export {
  AclOperation, type AclOperationCode, AclPermissionType, type AclPermissionTypeCode, CLUSTER_RESOURCE_NAME, PatternType, type PatternTypeCode, ResourceType,
  type ResourceTypeCode, WILDCARD_RESOURCE,
} from './acl-codes.js';
export { allErrorInfos, ErrorCode, type ErrorInfo, errorInfo, type KnownErrorName } from './error-codes.js';
export {
  FrameTooLargeError,
  KafkaProtocolError,
  ProtocolDecodeError,
  ProtocolEncodeError,
  ProtocolError,
  UnsupportedVersionError,
} from './errors.js';
export {
  type AnyBody,
  type DecodeOptions,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeRequestParts,
  encodeResponse,
  encodeResponseParts,
  peekCorrelationId,
  type RequestHeader,
  requestBodyAs,
} from './frame.js';
export { FRAME_BYTES_MAX_DEFAULT, FRAME_POOL_MAX_BYTES, FRAME_POOL_MIN_BYTES, FramePool, FrameReader, type FrameReaderOptions } from './frame-reader.js';
export { type Body, type BodyInput, f, type FieldOptions, type FieldSpec, type FieldType, type MessageSpec, o, parseVersions, s } from './spec.js';
export { compileStruct, type StructCodec } from './compile.js';
export type * from './message-types.js';
