/**
 * KRaft's metadata records, described as data with @gregor/protocol's field notation and encoded
 * exactly as Kafka encodes them in the `__cluster_metadata` log: each record value is
 *
 *   frameVersion uvarint (= 1) | type uvarint (the record's apiKey) | version uvarint | body
 *
 * where the body is the record's fields in the flexible (compact, tagged-field) encoding. Facts
 * from apache/kafka `metadata/src/main/resources/common/metadata/*.json` (field names camelCased).
 * Only the records Gregor writes or reads are described. Pure functions; no state.
 */
import { type Body, type BodyInput, compileStruct, f, type FieldSpec, ProtocolDecodeError, Reader, s, Writer } from '@gregor/protocol';
import { MetadataError } from './errors.js';

const FRAME_VERSION = 1;

interface RecordDescription<F extends readonly FieldSpec[]> {
  readonly apiKey: number;
  /** Versions this code can read. */
  readonly versions: readonly [number, number];
  /** The version this code writes. */
  readonly writeVersion: number;
  readonly fields: F;
}

function record<const F extends readonly FieldSpec[]>(apiKey: number, versions: readonly [number, number], writeVersion: number, fields: F): RecordDescription<F> {
  return { apiKey, versions, writeVersion, fields };
}

const endpointFields = [
  f('name', 'string', '0+'),
  f('host', 'string', '0+'),
  f('port', 'uint16', '0+'),
  f('securityProtocol', 'int16', '0+'),
] as const;

const featureRangeFields = [f('name', 'string', '0+'), f('minSupportedVersion', 'int16', '0+'), f('maxSupportedVersion', 'int16', '0+')] as const;

/** Every record Gregor knows, by its name without the `Record` suffix. */
export const metadataRecordDescriptions = {
  RegisterBroker: record(0, [0, 1], 1, [
    f('brokerId', 'int32', '0+'),
    f('isMigratingZkBroker', 'bool', '2+', { default: false }),
    f('incarnationId', 'uuid', '0+'),
    f('brokerEpoch', 'int64', '0+'),
    s('endPoints', '0+', endpointFields),
    s('features', '0+', featureRangeFields),
    f('rack', 'string', '0+', { nullable: '0+', default: null }),
    f('fenced', 'bool', '0+', { default: true }),
    f('inControlledShutdown', 'bool', '1+', { default: false }),
  ]),
  UnregisterBroker: record(1, [0, 0], 0, [f('brokerId', 'int32', '0+'), f('brokerEpoch', 'int64', '0+')]),
  Topic: record(2, [0, 0], 0, [f('name', 'string', '0+'), f('topicId', 'uuid', '0+')]),
  Partition: record(3, [0, 0], 0, [
    f('partitionId', 'int32', '0+', { default: -1 }),
    f('topicId', 'uuid', '0+'),
    f('replicas', '[]int32', '0+'),
    f('isr', '[]int32', '0+'),
    f('removingReplicas', '[]int32', '0+'),
    f('addingReplicas', '[]int32', '0+'),
    f('leader', 'int32', '0+', { default: -1 }),
    f('leaderRecoveryState', 'int8', '0+', { default: 0, tag: 0 }),
    f('leaderEpoch', 'int32', '0+', { default: -1 }),
    f('partitionEpoch', 'int32', '0+', { default: -1 }),
    // KIP-966's fields; Kafka's schema has them from version 2, after version 1's per-replica log
    // directories, which Gregor (one log directory per node) does not write. Tagged, so a reader
    // of version 0 that does not know them skips them. Null: none.
    f('eligibleLeaderReplicas', '[]int32', '0+', { nullable: '0+', default: null, tag: 1 }),
    f('lastKnownElr', '[]int32', '0+', { nullable: '0+', default: null, tag: 2 }),
  ]),
  Config: record(4, [0, 0], 0, [
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
    f('name', 'string', '0+'),
    f('value', 'string', '0+', { nullable: '0+', default: null }),
  ]),
  PartitionChange: record(5, [0, 0], 0, [
    f('partitionId', 'int32', '0+', { default: -1 }),
    f('topicId', 'uuid', '0+'),
    f('isr', '[]int32', '0+', { nullable: '0+', default: null, tag: 0 }),
    f('leader', 'int32', '0+', { default: -2, tag: 1 }),
    f('replicas', '[]int32', '0+', { nullable: '0+', default: null, tag: 2 }),
    f('removingReplicas', '[]int32', '0+', { nullable: '0+', default: null, tag: 3 }),
    f('addingReplicas', '[]int32', '0+', { nullable: '0+', default: null, tag: 4 }),
    f('leaderRecoveryState', 'int8', '0+', { default: -1, tag: 5 }),
    // KIP-966 (Kafka's version 1 of this record): null when unchanged.
    f('eligibleLeaderReplicas', '[]int32', '0+', { nullable: '0+', default: null, tag: 6 }),
    f('lastKnownElr', '[]int32', '0+', { nullable: '0+', default: null, tag: 7 }),
  ]),
  FenceBroker: record(7, [0, 0], 0, [f('id', 'int32', '0+'), f('epoch', 'int64', '0+')]),
  UnfenceBroker: record(8, [0, 0], 0, [f('id', 'int32', '0+'), f('epoch', 'int64', '0+')]),
  RemoveTopic: record(9, [0, 0], 0, [f('topicId', 'uuid', '0+')]),
  UserScramCredential: record(11, [0, 0], 0, [
    f('name', 'string', '0+'),
    f('mechanism', 'int8', '0+'),
    f('salt', 'bytes', '0+'),
    f('storedKey', 'bytes', '0+'),
    f('serverKey', 'bytes', '0+'),
    f('iterations', 'int32', '0+'),
  ]),
  FeatureLevel: record(12, [0, 0], 0, [f('name', 'string', '0+'), f('featureLevel', 'int16', '0+')]),
  ClientQuota: record(14, [0, 0], 0, [
    s('entity', '0+', [f('entityType', 'string', '0+'), f('entityName', 'string', '0+', { nullable: '0+', default: null })]),
    f('key', 'string', '0+'),
    f('value', 'float64', '0+'),
    f('remove', 'bool', '0+'),
  ]),
  ProducerIds: record(15, [0, 0], 0, [
    f('brokerId', 'int32', '0+'),
    f('brokerEpoch', 'int64', '0+', { default: -1 }),
    f('nextProducerId', 'int64', '0+'),
  ]),
  BrokerRegistrationChange: record(17, [0, 1], 1, [
    f('brokerId', 'int32', '0+'),
    f('brokerEpoch', 'int64', '0+'),
    f('fenced', 'int8', '0+', { default: 0, tag: 0 }),
    f('inControlledShutdown', 'int8', '1+', { default: 0, tag: 1 }),
  ]),
  AccessControlEntry: record(18, [0, 0], 0, [
    f('id', 'uuid', '0+'),
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
    f('patternType', 'int8', '0+'),
    f('principal', 'string', '0+'),
    f('host', 'string', '0+'),
    f('operation', 'int8', '0+'),
    f('permissionType', 'int8', '0+'),
  ]),
  RemoveAccessControlEntry: record(19, [0, 0], 0, [f('id', 'uuid', '0+')]),
  NoOp: record(20, [0, 0], 0, []),
  RemoveUserScramCredential: record(22, [0, 0], 0, [f('name', 'string', '0+'), f('mechanism', 'int8', '0+')]),
} as const;

type Descriptions = typeof metadataRecordDescriptions;
export type MetadataRecordType = keyof Descriptions;

/** One decoded record: `type` names it, the other fields are the record's own. */
export type MetadataRecordOf<T extends MetadataRecordType> = T extends MetadataRecordType ? { type: T } & Body<Descriptions[T]['fields']> : never;
export type MetadataRecord = MetadataRecordOf<MetadataRecordType>;
/** What `metadataRecord` and the encoder accept: fields left out take their defaults. */
export type MetadataRecordInput<T extends MetadataRecordType = MetadataRecordType> = { [K in T]: { type: K } & BodyInput<Body<Descriptions[K]['fields']>> }[T];

const typesByApiKey = new Map<number, MetadataRecordType>(
  (Object.keys(metadataRecordDescriptions) as MetadataRecordType[]).map((type) => [metadataRecordDescriptions[type].apiKey, type]),
);

/** A whole record from the fields given (the rest take their defaults, as the decoder would give them). */
export function metadataRecord<T extends MetadataRecordType>(input: MetadataRecordInput<T>): MetadataRecordOf<T> {
  const description = metadataRecordDescriptions[input.type as T];
  const defaults = compileStruct(description.fields, description.writeVersion, true).defaults();
  return { ...defaults, ...input } as unknown as MetadataRecordOf<T>;
}

/** The record value Kafka writes to `__cluster_metadata` for `input`. */
export function encodeMetadataRecord(input: MetadataRecordInput): Buffer {
  const description = metadataRecordDescriptions[input.type];
  const writer = new Writer();
  writer.uvarint(FRAME_VERSION);
  writer.uvarint(description.apiKey);
  writer.uvarint(description.writeVersion);
  compileStruct(description.fields, description.writeVersion, true).write(writer, input);
  return writer.finish();
}

/** Decodes one record value; unknown types, versions or bad bytes are a MetadataError. */
export function decodeMetadataRecord(value: Buffer): MetadataRecord {
  const reader = new Reader(value);
  try {
    const frameVersion = reader.uvarint();
    if (frameVersion !== FRAME_VERSION) throw new MetadataError('CORRUPT_METADATA_RECORD', `unknown metadata record frame version ${frameVersion}`);
    const apiKey = reader.uvarint();
    const version = reader.uvarint();
    const type = typesByApiKey.get(apiKey);
    if (type === undefined) throw new MetadataError('UNKNOWN_METADATA_RECORD', `unknown metadata record type ${apiKey}`);
    const description = metadataRecordDescriptions[type];
    if (version < description.versions[0] || version > description.versions[1]) {
      throw new MetadataError('UNKNOWN_METADATA_RECORD', `${type}Record version ${version} is not supported`);
    }
    const body = compileStruct(description.fields, version, true).read(reader);
    if (reader.remaining() !== 0) throw new MetadataError('CORRUPT_METADATA_RECORD', `${reader.remaining()} bytes of garbage after ${type}Record`);
    return { type, ...body } as MetadataRecord;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) throw new MetadataError('CORRUPT_METADATA_RECORD', `unreadable metadata record: ${error.message}`);
    throw error;
  }
}

/** Kafka's ConfigResource.Type values used in ConfigRecord.resourceType. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

/** PartitionChangeRecord.leader: -2 means the leader did not change, -1 that there is none. */
export const NO_LEADER_CHANGE = -2;
export const NO_LEADER = -1;
