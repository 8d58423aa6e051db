/**
 * Producer partitioners. Keyed records go where Kafka's default partitioner puts them
 * (`(murmur2(key) & 0x7fffffff) % partitions`); records without a key stick to one partition
 * until the producer seals that partition's batch (KIP-480), then move to another. kafkajs-style
 * factories (`Partitioners.DefaultPartitioner()`), and custom functions
 * `({ topic, partitionMetadata, message }) => partition` are accepted too. One producer owns each
 * partitioner instance; they are not shared.
 */
import { partitionForKey } from './murmur2.js';

export interface PartitionMetadata {
  partitionId: number;
  leader: number;
}

export interface PartitionerMessage {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  partition?: number;
}

export interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: PartitionerMessage;
}

/** kafkajs's custom partitioner shape. */
export type PartitionerFunction = (args: PartitionerArgs) => number;

export interface Partitioner {
  partition(args: PartitionerArgs, keyBytes: Buffer | null): number;
  /** The accumulator sealed (filled or sent) the batch of `partition`: a sticky partitioner moves on. */
  onBatchSealed?(topic: string, partition: number): void;
}

function toKeyBytes(key: Buffer | string | null | undefined): Buffer | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** Murmur2 for keys, KIP-480 sticky for null keys. `random` is injected so tests can replay. */
export class DefaultPartitioner implements Partitioner {
  private readonly sticky = new Map<string, number>();
  private readonly previous = new Map<string, number>();
  constructor(private readonly random: () => number = Math.random) {}

  partition({ topic, partitionMetadata }: PartitionerArgs, keyBytes: Buffer | null): number {
    const count = partitionMetadata.length;
    if (keyBytes !== null) return partitionForKey(keyBytes, count);
    const current = this.sticky.get(topic);
    if (current !== undefined && current < count) return current;
    return this.choose(topic, count, this.previous.get(topic) ?? -1);
  }

  onBatchSealed(topic: string, partition: number): void {
    const current = this.sticky.get(topic);
    if (current !== partition) return;
    this.sticky.delete(topic);
    this.previous.set(topic, partition);
  }

  /** A new random partition, different from the previous one when there is a choice. */
  private choose(topic: string, count: number, previous: number): number {
    let next = Math.floor(this.random() * count);
    if (count > 1 && next === previous) next = (next + 1) % count;
    this.sticky.set(topic, next);
    return next;
  }
}

/** Null-keyed records go to each partition in turn; keyed records still use murmur2. */
export class RoundRobinPartitioner implements Partitioner {
  private readonly next = new Map<string, number>();
  partition({ topic, partitionMetadata }: PartitionerArgs, keyBytes: Buffer | null): number {
    const count = partitionMetadata.length;
    if (keyBytes !== null) return partitionForKey(keyBytes, count);
    const n = this.next.get(topic) ?? 0;
    this.next.set(topic, (n + 1) % count);
    return n % count;
  }
}

/** Wraps a kafkajs-style custom function. */
export class CustomPartitioner implements Partitioner {
  constructor(private readonly fn: PartitionerFunction) {}
  partition(args: PartitionerArgs): number {
    return this.fn(args);
  }
}

/** What `producer({ createPartitioner })` accepts: a factory of a function or of a Partitioner. */
export type PartitionerFactory = () => PartitionerFunction | Partitioner;

export function toPartitioner(factory: PartitionerFactory | undefined, random?: () => number): Partitioner {
  if (factory === undefined) return new DefaultPartitioner(random);
  const made = factory();
  return typeof made === 'function' ? new CustomPartitioner(made) : made;
}

/** kafkajs's `Partitioners` export: factories. */
export const Partitioners = {
  DefaultPartitioner: (): Partitioner => new DefaultPartitioner(),
  JavaCompatiblePartitioner: (): Partitioner => new DefaultPartitioner(),
  RoundRobinPartitioner: (): Partitioner => new RoundRobinPartitioner(),
};

export { toKeyBytes };
