/**
 * The consumer group's embedded formats, carried as opaque bytes by JoinGroup (protocol
 * metadata: ConsumerProtocolSubscription) and SyncGroup (assignment: ConsumerProtocolAssignment).
 * Each is an int16 version, then the struct in that version (never flexible). Transcribed from
 * apache/kafka `ConsumerProtocolSubscription.json` / `ConsumerProtocolAssignment.json`. The
 * broker passes these bytes through; clients and DescribeGroups tooling read them.
 */
import { Reader, Writer } from './codec.js';
import { asDecodeError, compileStruct } from './compile.js';
import { ProtocolDecodeError } from './errors.js';
import { type Body, type BodyInput, f, s } from './spec.js';

const topicPartition = [f('topic', 'string', '0+'), f('partitions', '[]int32', '0+')] as const;

export const consumerProtocolSubscriptionFields = [
  f('topics', '[]string', '0+'),
  f('userData', 'bytes', '0+', { nullable: '0+', default: null }),
  s('ownedPartitions', '1+', topicPartition),
  f('generationId', 'int32', '2+', { default: -1 }),
  f('rackId', 'string', '3+', { nullable: '3+', default: null }),
] as const;

export const consumerProtocolAssignmentFields = [
  s('assignedPartitions', '0+', topicPartition),
  f('userData', 'bytes', '0+', { nullable: '0+', default: null }),
] as const;

/** Newest version of both formats that we know; newer versions only append fields. */
export const CONSUMER_PROTOCOL_VERSION_MAX = 3;

export type ConsumerProtocolSubscription = Body<typeof consumerProtocolSubscriptionFields>;
export type ConsumerProtocolAssignment = Body<typeof consumerProtocolAssignmentFields>;

function encodeVersioned(fields: Parameters<typeof compileStruct>[0], version: number, value: object): Buffer {
  const writer = new Writer({ inlineBytesMax: Number.MAX_SAFE_INTEGER });
  writer.int16(version);
  compileStruct(fields, version, false).write(writer, value as Record<string, unknown>);
  return writer.finish();
}

/**
 * Reads the version prefix; a version newer than ours is read as ours (Kafka does the same). If
 * the bytes end early, older layouts are tried in turn: kafkajs labels its member metadata v1
 * but writes the v0 layout, and the broker must still be able to describe such groups.
 */
function decodeVersioned(fields: Parameters<typeof compileStruct>[0], bytes: Buffer, what: string): { version: number; value: Record<string, any> } {
  let version = 0;
  let firstError: unknown;
  try {
    version = new Reader(bytes).int16();
    if (version < 0) throw new ProtocolDecodeError(`negative version ${version}`);
  } catch (error) {
    throw asDecodeError(error).withContext(what);
  }
  for (let layout = Math.min(version, CONSUMER_PROTOCOL_VERSION_MAX); layout >= 0; layout--) {
    try {
      return { version, value: compileStruct(fields, layout, false).read(new Reader(bytes, 2)) };
    } catch (error) {
      firstError ??= error;
    }
  }
  throw asDecodeError(firstError).withContext(what);
}

export function encodeConsumerProtocolSubscription(subscription: BodyInput<ConsumerProtocolSubscription>, version = CONSUMER_PROTOCOL_VERSION_MAX): Buffer {
  return encodeVersioned(consumerProtocolSubscriptionFields, version, subscription);
}

export function decodeConsumerProtocolSubscription(bytes: Buffer): { version: number; subscription: ConsumerProtocolSubscription } {
  const { version, value } = decodeVersioned(consumerProtocolSubscriptionFields, bytes, 'ConsumerProtocolSubscription');
  return { version, subscription: value as ConsumerProtocolSubscription };
}

export function encodeConsumerProtocolAssignment(assignment: BodyInput<ConsumerProtocolAssignment>, version = CONSUMER_PROTOCOL_VERSION_MAX): Buffer {
  return encodeVersioned(consumerProtocolAssignmentFields, version, assignment);
}

export function decodeConsumerProtocolAssignment(bytes: Buffer): { version: number; assignment: ConsumerProtocolAssignment } {
  const { version, value } = decodeVersioned(consumerProtocolAssignmentFields, bytes, 'ConsumerProtocolAssignment');
  return { version, assignment: value as ConsumerProtocolAssignment };
}
