/**
 * Kafka's embedded consumer protocol: the `metadata` a member puts in JoinGroup
 * (ConsumerProtocolSubscription, versions 0-3) and the `assignment` in SyncGroup
 * (ConsumerProtocolAssignment, versions 0-3). Both use the classic (non-flexible) encoding:
 * int16 version first, int16-length strings, int32-count arrays, int32-length bytes. Decoders
 * read the fields of the version they find and ignore trailing bytes from newer versions, as
 * Kafka does, so kafkajs and librdkafka members can share a group with ours. Pure functions.
 */
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

class Writer {
  private readonly parts: Buffer[] = [];
  int16(n: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }
  int32(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.parts.push(b);
    return this;
  }
  topicPartitions(list: TopicPartitions[]): this {
    this.int32(list.length);
    for (const { topic, partitions } of list) {
      this.string(topic).int32(partitions.length);
      for (const p of partitions) this.int32(p);
    }
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private position = 0;
  constructor(private readonly buffer: Buffer) {}
  private need(n: number): void {
    if (this.position + n > this.buffer.length) {
      throw new MalformedPayloadError(`consumer protocol payload ends at ${this.buffer.length}, needs ${this.position + n}`);
    }
  }
  isAtEnd(): boolean {
    return this.position >= this.buffer.length;
  }
  int16(): number {
    this.need(2);
    const n = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return n;
  }
  int32(): number {
    this.need(4);
    const n = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return n;
  }
  count(): number {
    const n = this.int32();
    if (n < -1 || n > this.buffer.length) throw new MalformedPayloadError(`bad array length ${n}`);
    return Math.max(n, 0);
  }
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buffer.toString('utf8', this.position, this.position + n);
    this.position += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    this.need(n);
    const b = this.buffer.subarray(this.position, this.position + n);
    this.position += n;
    return b;
  }
  topicPartitions(): TopicPartitions[] {
    const list: TopicPartitions[] = [];
    const topics = this.count();
    for (let i = 0; i < topics; i++) {
      const topic = this.string() ?? '';
      const partitions: number[] = [];
      const n = this.count();
      for (let j = 0; j < n; j++) partitions.push(this.int32());
      list.push({ topic, partitions });
    }
    return list;
  }
}

export function encodeSubscription(subscription: Subscription, version = SUBSCRIPTION_VERSION): Buffer {
  const w = new Writer().int16(version);
  w.int32(subscription.topics.length);
  for (const topic of subscription.topics) w.string(topic);
  w.bytes(subscription.userData);
  if (version >= 1) w.topicPartitions(subscription.ownedPartitions);
  if (version >= 2) w.int32(subscription.generationId);
  if (version >= 3) w.string(subscription.rackId);
  return w.build();
}

export function decodeSubscription(buffer: Buffer): Subscription & { version: number } {
  const r = new Reader(buffer);
  const version = r.int16();
  const topics: string[] = [];
  const n = r.count();
  for (let i = 0; i < n; i++) topics.push(r.string() ?? '');
  const userData = r.isAtEnd() ? null : r.bytes();
  const ownedPartitions = version >= 1 && !r.isAtEnd() ? r.topicPartitions() : [];
  const generationId = version >= 2 && !r.isAtEnd() ? r.int32() : -1;
  const rackId = version >= 3 && !r.isAtEnd() ? r.string() : null;
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

export function encodeAssignment(assignment: Assignment, version = ASSIGNMENT_VERSION): Buffer {
  return new Writer().int16(version).topicPartitions(assignment.assignedPartitions).bytes(assignment.userData).build();
}

/** An empty buffer (a member the leader gave nothing, as some clients send) is an empty assignment. */
export function decodeAssignment(buffer: Buffer | null): Assignment {
  if (buffer === null || buffer.length === 0) return { assignedPartitions: [], userData: null };
  const r = new Reader(buffer);
  r.int16();
  const assignedPartitions = r.topicPartitions();
  const userData = r.isAtEnd() ? null : r.bytes();
  return { assignedPartitions, userData };
}
