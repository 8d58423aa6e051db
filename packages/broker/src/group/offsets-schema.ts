/**
 * The record formats of `__consumer_offsets`, Kafka's own (big-endian, non-flexible versions):
 *   OffsetCommitKey v1 (key versions 0 and 1 share it): version i16, group string, topic string,
 *     partition i32.
 *   OffsetCommitValue v3: version i16 = 3, offset i64, leaderEpoch i32, metadata string,
 *     commitTimestamp i64. Versions 0-2 are read too (v1 adds expireTimestamp i64, v0/v2 lack
 *     leaderEpoch). A null value is a tombstone.
 *   GroupMetadataKey v2: version i16 = 2, group string.
 *   GroupMetadataValue v3: version i16 = 3, protocolType string, generation i32, protocol
 *     nullable string, leader nullable string, currentStateTimestamp i64, members [i32 count] of
 *     memberId string, groupInstanceId nullable string, clientId string, clientHost string,
 *     rebalanceTimeout i32, sessionTimeout i32, subscription bytes (i32 length), assignment bytes.
 *     Versions 0-2 are read too (v0 lacks rebalanceTimeout, v0-1 currentStateTimestamp, v0-2
 *     groupInstanceId). A null value is a tombstone (the group was deleted).
 * Strings are i16 length + UTF-8 (-1: null). Pure functions; the broker's offset store calls them.
 */
import { ErrorCode } from '@gregor/protocol';
import { BrokerError } from '../errors.js';
import type { CommittedOffset } from './group.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const GROUP_METADATA_KEY_VERSION = 2;
export const GROUP_METADATA_VALUE_VERSION = 3;

/** What GroupMetadataValue holds about a group after a rebalance completed (or it emptied). */
export interface StoredGroup {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export type OffsetsTopicKey =
  | { kind: 'offset'; groupId: string; topic: string; partition: number }
  | { kind: 'group'; groupId: string };

export function encodeOffsetCommitKey(groupId: string, topic: string, partition: number): Buffer {
  const group = Buffer.from(groupId);
  const topicBytes = Buffer.from(topic);
  const key = Buffer.alloc(2 + 2 + group.length + 2 + topicBytes.length + 4);
  let position = key.writeInt16BE(OFFSET_COMMIT_KEY_VERSION, 0);
  position = writeString(key, position, group);
  position = writeString(key, position, topicBytes);
  key.writeInt32BE(partition, position);
  return key;
}

export function encodeOffsetCommitValue(value: CommittedOffset): Buffer {
  const metadata = Buffer.from(value.metadata);
  const buffer = Buffer.alloc(2 + 8 + 4 + 2 + metadata.length + 8);
  let position = buffer.writeInt16BE(OFFSET_COMMIT_VALUE_VERSION, 0);
  position = buffer.writeBigInt64BE(BigInt(value.offset), position);
  position = buffer.writeInt32BE(value.leaderEpoch, position);
  position = writeString(buffer, position, metadata);
  buffer.writeBigInt64BE(BigInt(value.commitTimestamp), position);
  return buffer;
}

export function encodeGroupMetadataKey(groupId: string): Buffer {
  const group = Buffer.from(groupId);
  const key = Buffer.alloc(2 + 2 + group.length);
  writeString(key, key.writeInt16BE(GROUP_METADATA_KEY_VERSION, 0), group);
  return key;
}

export function encodeGroupMetadataValue(group: StoredGroup): Buffer {
  const parts: Buffer[] = [];
  const int16 = (value: number): void => { const b = Buffer.alloc(2); b.writeInt16BE(value); parts.push(b); };
  const int32 = (value: number): void => { const b = Buffer.alloc(4); b.writeInt32BE(value); parts.push(b); };
  const int64 = (value: number): void => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(value)); parts.push(b); };
  const string = (value: string | null): void => {
    if (value === null) {
      int16(-1);
      return;
    }
    const bytes = Buffer.from(value);
    int16(bytes.length);
    parts.push(bytes);
  };
  const bytes = (value: Buffer): void => { int32(value.length); parts.push(value); };
  int16(GROUP_METADATA_VALUE_VERSION);
  string(group.protocolType);
  int32(group.generation);
  string(group.protocol);
  string(group.leader);
  int64(group.currentStateTimestamp);
  int32(group.members.length);
  for (const member of group.members) {
    string(member.memberId);
    string(member.groupInstanceId);
    string(member.clientId);
    string(member.clientHost);
    int32(member.rebalanceTimeoutMs);
    int32(member.sessionTimeoutMs);
    bytes(member.subscription);
    bytes(member.assignment);
  }
  return Buffer.concat(parts);
}

export function decodeGroupMetadataValue(value: Buffer): StoredGroup {
  const reader = new Reader(value);
  const version = reader.int16();
  if (version < 0 || version > 4) throw corrupt(`unknown GroupMetadataValue version ${version}`);
  const protocolType = reader.string();
  const generation = reader.int32();
  const protocol = reader.nullableString();
  const leader = reader.nullableString();
  const currentStateTimestamp = version >= 2 ? reader.int64() : -1;
  const count = reader.int32();
  // Each member takes at least 28 bytes, so a count the bytes cannot hold is corrupt, not a huge array.
  if (count < 0 || count * 28 > value.length) throw corrupt(`GroupMetadataValue member count ${count}`);
  const members: StoredMember[] = [];
  for (let index = 0; index < count; index++) {
    const memberId = reader.string();
    const groupInstanceId = version >= 3 ? reader.nullableString() : null;
    const clientId = reader.string();
    const clientHost = reader.string();
    const rebalanceTimeoutMs = version >= 1 ? reader.int32() : -1;
    const sessionTimeoutMs = reader.int32();
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs: rebalanceTimeoutMs < 0 ? sessionTimeoutMs : rebalanceTimeoutMs, sessionTimeoutMs, subscription: reader.bytes(), assignment: reader.bytes() });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

export function decodeOffsetsTopicKey(key: Buffer): OffsetsTopicKey {
  const reader = new Reader(key);
  const version = reader.int16();
  if (version === 0 || version === 1) return { kind: 'offset', groupId: reader.string(), topic: reader.string(), partition: reader.int32() };
  if (version === 2) return { kind: 'group', groupId: reader.string() };
  throw corrupt(`unknown __consumer_offsets key version ${version}`);
}

export function decodeOffsetCommitValue(value: Buffer): CommittedOffset {
  const reader = new Reader(value);
  const version = reader.int16();
  if (version < 0 || version > 4) throw corrupt(`unknown OffsetCommitValue version ${version}`);
  const offset = reader.int64();
  const leaderEpoch = version >= 3 ? reader.int32() : -1;
  const metadata = reader.string();
  const commitTimestamp = reader.int64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

function writeString(buffer: Buffer, position: number, bytes: Buffer): number {
  const next = buffer.writeInt16BE(bytes.length, position);
  bytes.copy(buffer, next);
  return next + bytes.length;
}

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_OFFSETS_RECORD', message, ErrorCode.CORRUPT_MESSAGE);
}

class Reader {
  private position = 0;
  constructor(private readonly buffer: Buffer) {}
  private need(bytes: number): void {
    if (this.position + bytes > this.buffer.length) throw corrupt(`record ends at ${this.buffer.length}, needs ${this.position + bytes}`);
  }
  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }
  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }
  int64(): number {
    this.need(8);
    const value = Number(this.buffer.readBigInt64BE(this.position));
    this.position += 8;
    return value;
  }
  nullableString(): string | null {
    if (this.buffer.length >= this.position + 2 && this.buffer.readInt16BE(this.position) === -1) {
      this.position += 2;
      return null;
    }
    return this.string();
  }
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    this.need(length);
    const value = Buffer.from(this.buffer.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }
  string(): string {
    const length = this.int16();
    if (length < 0) throw corrupt('null string');
    this.need(length);
    const value = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }
}
