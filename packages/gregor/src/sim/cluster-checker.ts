/**
 * What must hold in every run of the whole-cluster simulation (issues 7 and 8), checked while it
 * runs and at its end. The quorum's properties reuse @gregor/cluster's QuorumChecker (one leader
 * per epoch, one history of committed metadata records, high watermarks that never go back); this
 * file adds the metadata image's and the data's:
 * - every image any broker holds has each partition's leader in that partition's ISR, and a
 *   partition's leader epoch and partition epoch never go back within one node lifetime;
 * - each (partition, offset) holds one record: what any replica holds below its high watermark,
 *   what a consumer reads and what a producer was acknowledged are the same record;
 * - the high watermark a consumer sees never goes back (per group member, as the current leader
 *   answers it);
 * - the consumer group's properties (committed offsets never go back, commits of a fenced
 *   generation refused, one owner per partition per generation, nothing skipped): group-checker.ts;
 * - at the end (`checkFinal`), after healing: every replica's log identical, every acknowledged
 *   record in it once at its offset, each producer's records of a partition in sequence order
 *   without gaps or duplicates (the records of `__consumer_offsets` may repeat: two OffsetCommits
 *   of the same offset in one millisecond write the same bytes twice, as in Kafka), the group
 *   read every acknowledged record, every image the same.
 * Violations are sentences, prefixed with where the run is (seed, step); the first fails the seed.
 * Single-threaded.
 */
import { QuorumChecker, type RaftBatch, type RaftListener, type SnapshotReader } from '@gregor/cluster';
import type { MetadataImage } from '@gregor/metadata';
import { GroupChecker } from './group-checker.js';

/** `topic-partition`. */
export type PartitionKey = string;

export function partitionKey(topic: string, partition: number): PartitionKey {
  return `${topic}-${partition}`;
}

/** A record value the simulated producers write: `<producer>:<partition>:<sequence>`. */
export function recordValue(producer: string, partition: number, sequence: number): string {
  return `${producer}:${partition}:${sequence}`;
}

function parseValue(value: string): { producer: string; sequence: number } | undefined {
  const parts = value.split(':');
  if (parts.length !== 3) return undefined;
  return { producer: parts[0], sequence: Number(parts[2]) };
}

export class ClusterChecker {
  readonly quorum: QuorumChecker;
  /** Each partition's committed records: offset → value, from every source that saw them committed. */
  private readonly history = new Map<PartitionKey, Map<number, string>>();
  /** Records acknowledged with acks=all: offset → value (offset -1: a duplicate answer without one). */
  readonly acknowledged = new Map<PartitionKey, Map<number, string>>();
  /** Values acknowledged, per partition, whatever their offset. */
  private readonly acknowledgedValues = new Map<PartitionKey, Set<string>>();
  /** Highest high watermark each consumer has seen per partition (`consumer/partition`). */
  private readonly consumerHighWatermarks = new Map<string, number>();
  /** The consumer group's properties. */
  readonly group: GroupChecker;
  /** Per image observer (node lifetime) and partition: the last leader epoch and partition epoch seen. */
  private readonly epochs = new Map<string, { leaderEpoch: number; partitionEpoch: number }>();
  private readonly checkedImages = new WeakSet<MetadataImage>();

  /** `where`: what names the moment of a violation beside its time (the seed and the scheduler's step). */
  constructor(now: () => number, private readonly where?: () => string) {
    this.quorum = new QuorumChecker(now);
    this.group = new GroupChecker((message) => this.violation(message));
  }

  get ok(): boolean {
    return this.quorum.ok;
  }

  get violations(): readonly string[] {
    return this.quorum.violations;
  }

  violation(message: string): void {
    this.quorum.violation(this.where === undefined ? message : `${this.where()}: ${message}`);
  }

  // ------------------------------------------------------------------ metadata

  /** A listener that feeds one node lifetime's committed metadata records into the quorum checker. */
  metadataObserver(nodeId: number): RaftListener {
    const checker = this.quorum;
    return {
      handleCommit(batches: RaftBatch[]): void {
        for (const batch of batches) {
          if (batch.control) {
            for (const record of batch.controlRecords) {
              checker.observeCommit(nodeId, batch.baseOffset, { value: `<control:${record.type}>`, epoch: batch.epoch });
              if (record.type === 'LeaderChange') checker.observeLeader(batch.epoch, record.leaderId, `LeaderChange record at ${batch.baseOffset}`);
            }
          }
          for (const [index, value] of batch.records.entries()) checker.observeCommit(nodeId, batch.baseOffset + index, { value: value.toString('base64'), epoch: batch.epoch });
        }
      },
      handleLoadSnapshot(_reader: SnapshotReader): void {},
      handleLeaderChange(): void {},
    };
  }

  /** An image a broker holds (`observer` names the node lifetime): leaders in their ISR, epochs only growing. */
  observeImage(observer: string, image: MetadataImage): void {
    if (this.checkedImages.has(image)) return;
    this.checkedImages.add(image);
    for (const topic of image.topicsById.values()) {
      for (const [index, registration] of topic.partitions) {
        const where = `${observer}'s image at offset ${image.offset}: ${topic.name}-${index}`;
        if (registration.leader >= 0 && !registration.isr.includes(registration.leader)) {
          this.violation(`${where} has leader ${registration.leader} outside its ISR [${registration.isr.join(',')}]`);
        }
        const key = `${observer}/${topic.id}/${index}`;
        const known = this.epochs.get(key);
        if (known !== undefined && (registration.leaderEpoch < known.leaderEpoch || registration.partitionEpoch < known.partitionEpoch)) {
          this.violation(`${where} went back from leader epoch ${known.leaderEpoch} / partition epoch ${known.partitionEpoch} to ${registration.leaderEpoch} / ${registration.partitionEpoch}`);
        }
        this.epochs.set(key, { leaderEpoch: registration.leaderEpoch, partitionEpoch: registration.partitionEpoch });
      }
    }
  }

  // ------------------------------------------------------------------ data

  /** `value` is committed at (`key`, `offset`) as `source` saw it (a replica below its HW, a consumer). */
  observeCommitted(source: string, key: PartitionKey, offset: number, value: string): void {
    let records = this.history.get(key);
    if (records === undefined) {
      records = new Map();
      this.history.set(key, records);
    }
    const known = records.get(offset);
    if (known === undefined) records.set(offset, value);
    else if (known !== value) this.violation(`${source} has ${value} at ${key} offset ${offset}, where ${known} was committed`);
    const acknowledged = this.acknowledged.get(key)?.get(offset);
    if (acknowledged !== undefined && acknowledged !== value) this.violation(`${source} has ${value} at ${key} offset ${offset}, where ${acknowledged} was acknowledged`);
  }

  /** The producer was told `value` is at (`key`, `offset`) with acks=all (offset -1: a duplicate answer naming none). */
  observeAcknowledged(key: PartitionKey, offset: number, value: string): void {
    let values = this.acknowledgedValues.get(key);
    if (values === undefined) {
      values = new Set();
      this.acknowledgedValues.set(key, values);
    }
    values.add(value);
    if (offset < 0) return;
    let records = this.acknowledged.get(key);
    if (records === undefined) {
      records = new Map();
      this.acknowledged.set(key, records);
    }
    records.set(offset, value);
    const known = this.history.get(key)?.get(offset);
    if (known !== undefined && known !== value) this.violation(`${value} acknowledged at ${key} offset ${offset}, where ${known} is committed`);
  }

  /** `consumer` (one client, one request at a time) saw `highWatermark` in a fetch answer of the partition's current leader. */
  observeConsumerHighWatermark(consumer: string, key: PartitionKey, highWatermark: number): void {
    const previous = this.consumerHighWatermarks.get(`${consumer}/${key}`) ?? 0;
    if (highWatermark < previous) this.violation(`${consumer} saw ${key}'s high watermark go back from ${previous} to ${highWatermark}`);
    this.consumerHighWatermarks.set(`${consumer}/${key}`, Math.max(previous, highWatermark));
  }

  // ------------------------------------------------------------------ the end

  /**
   * After healing. `logs`: every replica's log (offset → value) and high watermark, by node, per
   * partition; `consumed`: the values the group read per partition; `images`: each node's image.
   */
  checkFinal(input: {
    logs: ReadonlyMap<PartitionKey, ReadonlyMap<number, { records: ReadonlyMap<number, string>; highWatermark: number; logEndOffset: number }>>;
    consumed: ReadonlyMap<PartitionKey, ReadonlySet<string>>;
    images: ReadonlyMap<number, string>;
  }): void {
    const imageTexts = new Set(input.images.values());
    if (imageTexts.size > 1) this.violation(`the brokers' metadata images differ after healing (${[...input.images.keys()].join(', ')})`);
    for (const [key, replicas] of input.logs) {
      const entries = [...replicas.entries()];
      if (entries.length === 0) {
        this.violation(`no replica of ${key} after healing`);
        continue;
      }
      const [firstNode, first] = entries[0];
      for (const [node, replica] of entries) {
        if (replica.highWatermark !== first.highWatermark || replica.logEndOffset !== first.logEndOffset) {
          this.violation(`${key} on node ${node} ends at ${replica.logEndOffset} (HW ${replica.highWatermark}), on node ${firstNode} at ${first.logEndOffset} (HW ${first.highWatermark}) after healing`);
        }
        for (let offset = 0; offset < Math.min(replica.highWatermark, first.highWatermark); offset++) {
          if (replica.records.get(offset) !== first.records.get(offset)) {
            this.violation(`${key} offset ${offset} is ${replica.records.get(offset)} on node ${node} but ${first.records.get(offset)} on node ${firstNode}`);
            break;
          }
        }
        for (const [offset, value] of replica.records) if (offset < replica.highWatermark) this.observeCommitted(`node ${node} after healing`, key, offset, value);
      }
      const log = first.records;
      for (const [offset, value] of this.acknowledged.get(key) ?? []) {
        if (log.get(offset) !== value) this.violation(`acknowledged ${value} at ${key} offset ${offset} is ${log.get(offset) === undefined ? 'lost' : `replaced by ${log.get(offset)}`}`);
      }
      // Each producer's records of the partition: once each, in sequence order, none missing before the last.
      const seen = new Map<string, number>();
      const values = new Set<string>();
      for (const offset of [...log.keys()].sort((a, b) => a - b)) {
        if (offset >= first.highWatermark) break;
        const value = log.get(offset) as string;
        const parsed = parseValue(value);
        // Only a producer's record must be there once: the group coordinator legitimately writes
        // the same offset commit twice when two OffsetCommit requests (a retry after a timeout and
        // the original held by a paused coordinator) carry it in the same millisecond.
        if (parsed !== undefined && values.has(value)) this.violation(`${value} is twice in ${key} (again at offset ${offset})`);
        values.add(value);
        if (parsed === undefined) continue;
        const expected = (seen.get(parsed.producer) ?? -1) + 1;
        if (parsed.sequence !== expected) this.violation(`${key} offset ${offset} holds ${value} where ${parsed.producer}'s sequence ${expected} was next`);
        seen.set(parsed.producer, parsed.sequence);
      }
      for (const value of this.acknowledgedValues.get(key) ?? []) {
        if (!values.has(value)) this.violation(`acknowledged ${value} is not in ${key} below its high watermark`);
        if (!input.consumed.get(key)?.has(value)) this.violation(`the group never read acknowledged ${value} of ${key}`);
      }
    }
  }
}
