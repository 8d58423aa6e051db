/**
 * Kafka's embedded consumer protocol: the `metadata` a member puts in JoinGroup
 * (ConsumerProtocolSubscription, versions 0-3) and the `assignment` in SyncGroup
 * (ConsumerProtocolAssignment, versions 0-3), in the client's terms. The layouts are described once,
 * in @gregor/protocol; this module only gives the client's names and error type, and reads an empty
 * assignment (which some clients send to a member that gets nothing) as no partitions.
 */
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  ProtocolError,
} from '@gregor/protocol';
import { MalformedPayloadError } from './errors.js';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  /** Version 1+: the partitions the member owns now (cooperative rebalancing, KIP-429). */
  ownedPartitions: TopicPartitions[];
  /** Version 2+: the generation in which the member owned them; -1 when unknown. */
  generationId: number;
  /** Version 3+. */
  rackId: string | null;
}

export interface Assignment {
  assignedPartitions: TopicPartitions[];
  userData: Buffer | null;
}

export const SUBSCRIPTION_VERSION = 3;
export const ASSIGNMENT_VERSION = 3;

/** Decode failures become the client's MALFORMED_PAYLOAD error. */
function readOrMalformed<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ProtocolError) throw new MalformedPayloadError(`${what}: ${error.message}`);
    throw error;
  }
}

export function encodeSubscription(subscription: Subscription, version = SUBSCRIPTION_VERSION): Buffer {
  return encodeConsumerProtocolSubscription(subscription, version);
}

export function decodeSubscription(buffer: Buffer): Subscription & { version: number } {
  const { version, subscription } = readOrMalformed('consumer protocol subscription', () => decodeConsumerProtocolSubscription(buffer));
  return { version, ...subscription };
}

export function encodeAssignment(assignment: Assignment, version = ASSIGNMENT_VERSION): Buffer {
  return encodeConsumerProtocolAssignment(assignment, version);
}

/** An empty buffer (a member the leader gave nothing, as some clients send) is an empty assignment. */
export function decodeAssignment(buffer: Buffer | null): Assignment {
  if (buffer === null || buffer.length === 0) return { assignedPartitions: [], userData: null };
  return readOrMalformed('consumer protocol assignment', () => decodeConsumerProtocolAssignment(buffer).assignment);
}
