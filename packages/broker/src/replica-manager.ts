/**
 * The partitions this broker hosts and what it does with them (Kafka's ReplicaManager):
 *
 *   - applyDelta: every committed metadata delta, in order. For the partitions it touched that
 *     have a replica here: leader → makeLeader (and stop fetching it); follower → makeFollower,
 *     and when the leader epoch moved, a fresh start (truncation, then fetching) at the replica
 *     fetcher of the new leader; no leader → stop fetching; gone → stop and delete the log. Topic
 *     config changes reach the partitions and their logs.
 *   - one ReplicaFetcher per leader broker;
 *   - every `replica.lag.time.max.ms / 2`, maybeShrinkIsr on every partition it leads;
 *   - every `replica.high.watermark.checkpoint.interval.ms` (and at close), the high watermarks in
 *     `replication-offset-checkpoint` (Kafka's format: `0`, count, `topic partition offset` lines),
 *     read back when a partition is opened, so a restarted replica does not forget its HW; the
 *     periodic write syncs off the event loop where the file system can (as Kafka's scheduler
 *     thread does it beside its request threads), the one at close at once;
 *   - once the broker has caught up with the metadata log, the logs no partition of the image owns
 *     (topics deleted while it was down, replicas moved away, an older incarnation of a topic
 *     recognised by `partition.metadata`) are deleted.
 *
 * Single-threaded: the metadata publisher, handlers, fetchers and timers all run on the event loop.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import { isElrEnabled, localChanges, type LocalPartition, type MetadataDelta, type MetadataImage } from '@gregor/metadata';
import { formatOffsetCheckpoint, readOffsetCheckpoint, writeOffsetCheckpoint, type Clock, type FileSystem, type LogConfig, type LogManager, type TimerHandle, type TopicPartitionOffset, type WarningSink } from '@gregor/log';
import type { AlterPartitionManager } from './alter-partition-manager.js';
import type { BrokerNetwork } from './channels.js';
import type { BrokerConfig } from './config.js';
import { Partition, storageErrorCode } from './partition.js';
import { readPartitionTopicId, writePartitionTopicId } from './partition-metadata-file.js';
import { ReplicaFetcher } from './replica-fetcher.js';
import { warn } from './warnings.js';

export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';

const replicaChannel = diagnosticsChannel.channel('gregor:broker:replica');

export interface ReplicaManagerOptions {
  fs: FileSystem;
  dir: string;
  clock: Clock;
  nodeId: number;
  config: BrokerConfig;
  logs: LogManager;
  /** The log settings of a topic with these own configs (over the broker's defaults). */
  logConfigOf: (configs: Readonly<Record<string, string>>) => Partial<LogConfig>;
  /** Where damage met while loading a partition's producer state is reported. */
  logger: WarningSink;
  network: BrokerNetwork;
  alterPartitions: AlterPartitionManager;
  /** Called after this broker starts or stops leading a partition (the group coordinator listens). */
  onLeadershipChange: (partition: Partition, isLeader: boolean) => void;
  /** The partition's min.insync.replicas (its topic's, else the broker's default). */
  minInsyncReplicas: (partition: Partition) => number;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly partitionsByDir = new Map<string, Partition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly offline = new Set<string>();
  private readonly checkpointedHighWatermarks: Map<string, TopicPartitionOffset>;
  private image: MetadataImage | null = null;
  private shrinkTimer: TimerHandle | null = null;
  private checkpointTimer: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly options: ReplicaManagerOptions) {
    this.checkpointedHighWatermarks = readOffsetCheckpoint(options.fs, path.join(options.dir, REPLICATION_OFFSET_CHECKPOINT_FILE));
    this.scheduleIsrShrink();
    this.scheduleHighWatermarkCheckpoint();
  }

  partition(topic: string, partitionIndex: number): Partition | undefined {
    return this.partitions.get(`${topic}-${partitionIndex}`);
  }

  /** The partition whose log lives in `dir` (the log's roll events name directories). */
  partitionByDir(dir: string): Partition | undefined {
    return this.partitionsByDir.get(dir);
  }

  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  /** The fetcher replicating from `leaderId`, if any (tests and diagnostics). */
  fetcherFor(leaderId: number): ReplicaFetcher | undefined {
    return this.fetchers.get(leaderId);
  }

  // ---------------------------------------------------------------- metadata

  applyDelta(delta: MetadataDelta, image: MetadataImage): void {
    const previous = this.image;
    this.image = image;
    const changes = localChanges(delta, image, this.options.nodeId);
    for (const removed of changes.deletes) this.removePartition(removed.topicName, removed.partitionIndex);
    for (const entry of changes.leaders) this.guarded(entry, () => this.becomeLeader(entry, image));
    for (const entry of changes.followers) this.guarded(entry, () => this.becomeFollower(entry, image));
    // A delta that does not start from the image we applied last (a snapshot loaded as a delta
    // from the empty image) cannot list removals: whatever the new image no longer gives us goes.
    if (previous !== null && delta.base !== previous) this.removePartitionsNotIn(image);
    for (const key of delta.changedConfigKeys) {
      const [resourceType, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (resourceType === '2') this.applyTopicConfigs(name, image);
    }
  }

  /**
   * A partition whose log the disk refuses (creating it, or writing its leader-epoch checkpoint)
   * goes offline, as Kafka takes a failed log dir offline: requests for it are answered
   * KAFKA_STORAGE_ERROR until a later image brings it back and the disk takes it.
   */
  private guarded(entry: LocalPartition, change: () => void): void {
    const key = `${entry.topicName}-${entry.partitionIndex}`;
    try {
      change();
      this.offline.delete(key);
    } catch (error) {
      storageErrorCode(error);
      this.offline.add(key);
      const partition = this.partitions.get(key);
      if (partition !== undefined) {
        this.stopFetching(partition);
        partition.close();
        this.partitions.delete(key);
        this.partitionsByDir.delete(partition.log.dir);
      }
      warn(`${key} is offline: its log could not be written (${(error as Error).message})`);
    }
  }

  /** True when the disk refused this partition's log (see `guarded`). */
  isOffline(topic: string, partitionIndex: number): boolean {
    return this.offline.has(`${topic}-${partitionIndex}`);
  }

  private becomeLeader(entry: LocalPartition, image: MetadataImage): void {
    const partition = this.hostPartition(entry, image);
    this.stopFetching(partition);
    partition.makeLeader(entry.registration);
    this.publish(partition, 'leader');
    this.options.onLeadershipChange(partition, true);
  }

  private becomeFollower(entry: LocalPartition, image: MetadataImage): void {
    const partition = this.hostPartition(entry, image);
    const wasLeader = partition.isLeader;
    if (partition.makeFollower(entry.registration)) {
      this.stopFetching(partition);
      if (entry.registration.leader >= 0) this.fetcher(entry.registration.leader).addPartition(partition);
    }
    this.publish(partition, entry.registration.leader >= 0 ? 'follower' : 'offline');
    if (wasLeader) this.options.onLeadershipChange(partition, false);
  }

  /** The hosted partition for `entry`, opened (and its log created) the first time. */
  private hostPartition(entry: LocalPartition, image: MetadataImage): Partition {
    const key = `${entry.topicName}-${entry.partitionIndex}`;
    const existing = this.partitions.get(key);
    if (existing !== undefined && existing.topicId === entry.topicId) return existing;
    if (existing !== undefined) this.removePartition(entry.topicName, entry.partitionIndex);
    const { fs, logs, config } = this.options;
    const configs = topicConfigRecord(image, entry.topicName);
    let log = logs.get(entry.topicName, entry.partitionIndex);
    if (log !== undefined) {
      const recorded = readPartitionTopicId(fs, log.dir);
      if (recorded !== null && recorded !== entry.topicId) {
        // The directory belongs to an older topic of the same name: it is not ours any more.
        logs.delete(entry.topicName, entry.partitionIndex);
        log = undefined;
      } else {
        log.updateConfig(this.options.logConfigOf(configs));
      }
    }
    log ??= logs.getOrCreate(entry.topicName, entry.partitionIndex, this.options.logConfigOf(configs));
    if (readPartitionTopicId(fs, log.dir) === null) writePartitionTopicId(fs, log.dir, entry.topicId);
    const partition: Partition = new Partition({
      topic: entry.topicName,
      topicId: entry.topicId,
      partitionIndex: entry.partitionIndex,
      log,
      fs,
      dir: log.dir,
      nodeId: this.options.nodeId,
      clock: this.options.clock,
      logger: this.options.logger,
      producerBatchesRetained: config.producerBatchesRetained,
      producerSnapshotsRetained: config.producerSnapshotsRetained,
      producerIdExpirationMs: config.producerIdExpirationMs,
      replicaLagTimeMaxMs: config.replicaLagTimeMaxMs,
      recentAppendsMaxBytes: config.recentAppendsMaxBytes,
      highWatermark: this.checkpointedHighWatermarks.get(key)?.offset,
      alterPartition: (change) => this.options.alterPartitions.submit(change),
      isReplicaIsrEligible: (brokerId, brokerEpoch = -1) => {
        const broker = this.image?.brokers.get(brokerId);
        return broker !== undefined && !broker.fenced && !broker.inControlledShutdown && (brokerEpoch === -1 || brokerEpoch === broker.epoch);
      },
      highWatermarkMinIsr: (): number => (this.image !== null && isElrEnabled(this.image) ? Math.min(this.options.minInsyncReplicas(partition), partition.replicas.length) : 0),
    });
    partition.configs = configs;
    this.partitions.set(key, partition);
    this.partitionsByDir.set(log.dir, partition);
    return partition;
  }

  private applyTopicConfigs(topicName: string, image: MetadataImage): void {
    const configs = topicConfigRecord(image, topicName);
    for (const partition of this.partitions.values()) {
      if (partition.topic !== topicName) continue;
      partition.configs = configs;
      partition.log.updateConfig(this.options.logConfigOf(configs));
    }
  }

  /** Stops replicating and serving a partition and deletes its log (also a log we never hosted). */
  private removePartition(topicName: string, partitionIndex: number): void {
    const partition = this.partitions.get(`${topicName}-${partitionIndex}`);
    if (partition !== undefined) {
      this.stopFetching(partition);
      const wasLeader = partition.isLeader;
      partition.close();
      this.partitions.delete(`${topicName}-${partitionIndex}`);
      this.partitionsByDir.delete(partition.log.dir);
      if (wasLeader) this.options.onLeadershipChange(partition, false);
      this.publish(partition, 'deleted');
    }
    this.options.logs.delete(topicName, partitionIndex);
  }

  private removePartitionsNotIn(image: MetadataImage): void {
    for (const partition of [...this.partitions.values()]) {
      const registration = image.topicsById.get(partition.topicId)?.partitions.get(partition.partitionIndex);
      if (registration === undefined || !registration.replicas.includes(this.options.nodeId)) this.removePartition(partition.topic, partition.partitionIndex);
    }
  }

  /**
   * Deletes every log the image gives this broker no replica of. Call once the broker has caught
   * up with the metadata log (before that, a partial image would make live logs look stray).
   */
  deleteStrayLogs(): void {
    for (const { topic, partition } of this.options.logs.all()) {
      if (!this.partitions.has(`${topic}-${partition}`)) this.options.logs.delete(topic, partition);
    }
  }

  // ---------------------------------------------------------------- fetchers

  private fetcher(leaderId: number): ReplicaFetcher {
    let fetcher = this.fetchers.get(leaderId);
    if (fetcher === undefined) {
      const { config } = this.options;
      fetcher = new ReplicaFetcher({
        leaderId,
        brokerId: this.options.nodeId,
        network: this.options.network,
        clock: this.options.clock,
        settings: {
          replicaFetchWaitMaxMs: config.replicaFetchWaitMaxMs,
          replicaFetchMinBytes: config.replicaFetchMinBytes,
          replicaFetchMaxBytes: config.replicaFetchMaxBytes,
          replicaFetchResponseMaxBytes: config.replicaFetchResponseMaxBytes,
          replicaFetchBackoffMs: config.replicaFetchBackoffMs,
        },
        onPartitionFailed: (partition, error) => this.publish(partition, 'failed', (error as Error).message),
      });
      this.fetchers.set(leaderId, fetcher);
    }
    return fetcher;
  }

  private stopFetching(partition: Partition): void {
    for (const [leaderId, fetcher] of this.fetchers) {
      if (!fetcher.has(partition)) continue;
      fetcher.removePartition(partition);
      if (fetcher.partitionCount === 0) {
        fetcher.close();
        this.fetchers.delete(leaderId);
      }
    }
  }

  // ---------------------------------------------------------------- timers

  private scheduleIsrShrink(): void {
    const interval = Math.max(1, Math.floor(this.options.config.replicaLagTimeMaxMs / 2));
    this.shrinkTimer = this.options.clock.setTimeout(() => {
      for (const partition of this.partitions.values()) if (partition.isLeader) partition.maybeShrinkIsr();
      if (!this.closed) this.scheduleIsrShrink();
    }, interval);
  }

  private scheduleHighWatermarkCheckpoint(): void {
    this.checkpointTimer = this.options.clock.setTimeout(() => {
      const again = (): void => {
        if (!this.closed) this.scheduleHighWatermarkCheckpoint();
      };
      const background = this.options.fs.writeFileAtomicInBackground;
      if (background !== undefined) {
        // The file's two syncs are milliseconds of disk wait: off the event loop, so the produce
        // and fetch answers due meanwhile (acks=all's HW advance above all) do not wait for them.
        // An I/O error here only costs a lower HW after a restart; the next interval tries again.
        background.call(this.options.fs, this.checkpointPath, formatOffsetCheckpoint(this.highWatermarks()), () => !this.closed).catch(() => false).then(again);
        return;
      }
      try {
        this.checkpointHighWatermarks();
      } catch {
        // As above.
      }
      again();
    }, this.options.config.replicaHighWatermarkCheckpointIntervalMs);
  }

  private get checkpointPath(): string {
    return path.join(this.options.dir, REPLICATION_OFFSET_CHECKPOINT_FILE);
  }

  private highWatermarks(): TopicPartitionOffset[] {
    return [...this.partitions.values()].map((partition) => ({ topic: partition.topic, partition: partition.partitionIndex, offset: partition.highWatermark }));
  }

  checkpointHighWatermarks(): void {
    writeOffsetCheckpoint(this.options.fs, this.checkpointPath, this.highWatermarks());
  }

  private publish(partition: Partition, change: string, reason?: string): void {
    if (!replicaChannel.hasSubscribers) return;
    replicaChannel.publish({
      topic: partition.topic, partition: partition.partitionIndex, change, leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch, reason,
    });
  }

  /** Stops fetchers and timers and answers parked requests; `checkpoint` writes the HWs first. */
  close(checkpoint: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.shrinkTimer !== null) this.options.clock.clearTimeout(this.shrinkTimer);
    if (this.checkpointTimer !== null) this.options.clock.clearTimeout(this.checkpointTimer);
    for (const fetcher of this.fetchers.values()) fetcher.close();
    this.fetchers.clear();
    if (checkpoint) {
      try {
        this.checkpointHighWatermarks();
      } catch (error) {
        // A full disk must not stop a shutdown half way: the next start begins from the older HWs.
        storageErrorCode(error);
        warn(`the high watermarks could not be checkpointed at shutdown: ${(error as Error).message}`);
      }
    }
    for (const partition of this.partitions.values()) partition.close();
  }
}

/** A topic's own configs from the image, as the plain record the config helpers take. */
export function topicConfigRecord(image: MetadataImage, topicName: string): Record<string, string> {
  return Object.fromEntries(image.topicConfigs(topicName));
}
