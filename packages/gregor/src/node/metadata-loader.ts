/**
 * The node's metadata loader (Kafka's MetadataLoader with its publishers and SnapshotGenerator):
 * the raft listener that turns the committed `__cluster_metadata` log into metadata images.
 *
 *   - Every committed data batch goes to the controller as it is (`handleCommit`), and is replayed
 *     into a MetadataDelta; control batches (LeaderChange, snapshot framing) only move the
 *     position.
 *   - The publishers (the broker's `applyMetadata`) get the delta and the new image. While the
 *     node catches up with the log at start, batches gather into one delta published once the
 *     loader has reached the quorum's high watermark as a leader told it (as Kafka's loader
 *     publishes only once caught up; the local log alone may be far behind), checked on each
 *     commit and each time raft tells that this watermark moved (`handleQuorumHighWatermark`);
 *     after that, every delivery of committed batches is published as one delta, in log order,
 *     never concurrently.
 *   - A loaded snapshot replaces the state: the controller gets its image (`handleLoadSnapshot`),
 *     and the next publication is a delta from the empty image to it (the broker sees every topic
 *     of the snapshot as new; topics deleted meanwhile are not in it).
 *   - `handleLeaderChange` goes to the controller and to the leader listeners (the broker learns
 *     the active controller's id).
 *   - Snapshots follow raft's SnapshotPolicy (`metadata.log.max.record.bytes.between.snapshots`,
 *     `metadata.log.max.snapshot.interval.ms`): once due, the published image's `toRecords()` is
 *     written as a snapshot at the last committed offset, so a restart loads it instead of
 *     replaying the whole log, and raft may delete the log below it.
 *
 * Callbacks run synchronously inside the raft client's event handling, one at a time.
 */
import assert from 'node:assert/strict';
import type { LeaderAndEpoch, RaftBatch, RaftClient, RaftListener, RaftLogger, SnapshotReader } from '@gregor/cluster';
import { SnapshotPolicy } from '@gregor/cluster';
import type { Clock } from '@gregor/log';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataDelta, MetadataImage, type QuorumController } from '@gregor/metadata';

/** What gets every published image: the broker's `applyMetadata`, tests, tools. */
export type MetadataPublisher = (delta: MetadataDelta, image: MetadataImage) => void;

export interface MetadataLoaderOptions {
  raft: RaftClient;
  clock: Clock;
  /** The controller of a node with the controller role. */
  controller?: QuorumController;
  logger: RaftLogger;
}

export class MetadataLoader implements RaftListener {
  private readonly raft: RaftClient;
  private readonly controller: QuorumController | undefined;
  private readonly logger: RaftLogger;
  private readonly policy: SnapshotPolicy;
  private readonly publishers: MetadataPublisher[] = [];
  private readonly leaderListeners: ((leader: LeaderAndEpoch) => void)[] = [];
  private readonly caughtUpWaiters: (() => void)[] = [];
  /** The image the publishers have. */
  private published: MetadataImage = MetadataImage.EMPTY;
  /** Records replayed since the last publication (over `published`, or over the empty image after a snapshot). */
  private pending: MetadataDelta | null = null;
  /** The last committed offset delivered, control records included, and its batch's epoch and time. */
  private lastOffset = -1;
  private lastEpoch = -1;
  private lastTimestamp = -1;
  private caughtUpOnce = false;

  constructor(options: MetadataLoaderOptions) {
    this.raft = options.raft;
    this.controller = options.controller;
    this.logger = options.logger;
    this.policy = new SnapshotPolicy(options.raft.config, options.clock);
  }

  /** The image the publishers were last given. */
  get image(): MetadataImage {
    return this.published;
  }

  /** The last committed offset delivered to this loader (-1: none), control records included. */
  get committedOffset(): number {
    return this.lastOffset;
  }

  /** True once the loader has published what was committed when it started. */
  get isCaughtUp(): boolean {
    return this.caughtUpOnce;
  }

  /** Resolves once the loader has caught up with the log (at once if it has). */
  caughtUp(): Promise<void> {
    if (this.caughtUpOnce) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  /** Adds a publisher: before the loader is registered with raft, so it sees every image from the first. */
  addPublisher(publisher: MetadataPublisher): void {
    assert.ok(this.lastOffset < 0 && this.published === MetadataImage.EMPTY, 'publishers are added before the loader receives anything');
    this.publishers.push(publisher);
  }

  onLeaderChange(listener: (leader: LeaderAndEpoch) => void): void {
    this.leaderListeners.push(listener);
  }

  // ---------------------------------------------------------------- RaftListener

  handleCommit(batches: RaftBatch[]): void {
    for (const batch of batches) {
      assert.ok(batch.baseOffset > this.lastOffset, `committed batches arrive in order: ${batch.baseOffset} after ${this.lastOffset}`);
      if (!batch.control && batch.records.length > 0) {
        this.controller?.handleCommit({ baseOffset: batch.baseOffset, epoch: batch.epoch, records: batch.records });
        const delta = (this.pending ??= new MetadataDelta(this.published));
        batch.records.forEach((value, index) => delta.replay(decodeMetadataRecord(value), batch.baseOffset + index, batch.epoch));
      }
      this.lastOffset = batch.lastOffset;
      this.lastEpoch = batch.epoch;
      this.lastTimestamp = batch.appendTimestamp;
      this.policy.onCommit(batch);
    }
    this.maybePublish();
    this.maybeSnapshot();
  }

  handleLoadSnapshot(reader: SnapshotReader): void {
    const { endOffset, epoch } = reader.snapshotId;
    const values = [...reader.values()];
    this.controller?.handleLoadSnapshot(snapshotDelta(values, endOffset, epoch).apply());
    // What the publishers get next starts from the empty image again.
    this.pending = snapshotDelta(values, endOffset, epoch);
    this.lastOffset = endOffset - 1;
    this.lastEpoch = epoch;
    this.lastTimestamp = reader.lastContainedLogTimestamp;
    this.policy.onSnapshot();
    this.logger.info('metadata snapshot loaded', { endOffset, epoch, records: values.length });
    this.maybePublish();
  }

  /** The news the loader may be waiting for at start (see maybePublish), also when no commit carries it. */
  handleQuorumHighWatermark(): void {
    this.maybePublish();
  }

  handleLeaderChange(leader: LeaderAndEpoch): void {
    this.controller?.handleLeaderChange(leader);
    for (const listener of this.leaderListeners) listener(leader);
    // A leader change can be the news that the log is caught up (a quorum of one at open).
    this.maybePublish();
  }

  // ---------------------------------------------------------------- publishing and snapshots

  private maybePublish(): void {
    if (!this.caughtUpOnce) {
      // Caught up means with the quorum, not with the local log: a restarted node's log may be far
      // behind, and publishing it would make its broker act on an old image (lead partitions it
      // no longer leads, with ISRs long changed). As Kafka, wait for the high watermark a leader
      // tells, then for the commits up to it.
      const quorumHighWatermark = this.raft.knownQuorumHighWatermark;
      if (quorumHighWatermark === undefined || this.lastOffset + 1 < quorumHighWatermark) return;
      this.caughtUpOnce = true;
    }
    const delta = this.pending;
    if (delta !== null) {
      this.pending = null;
      const image = delta.apply();
      this.published = image;
      for (const publisher of this.publishers) publisher(delta, image);
    }
    for (const waiter of this.caughtUpWaiters.splice(0)) waiter();
  }

  private maybeSnapshot(): void {
    if (!this.caughtUpOnce || this.pending !== null || !this.policy.isDue || this.lastOffset < 0) return;
    const latest = this.raft.latestSnapshotId;
    if (latest !== undefined && latest.endOffset > this.lastOffset) return;
    const writer = this.raft.createSnapshot(this.lastOffset, this.lastEpoch, this.lastTimestamp);
    if (writer !== null) {
      writer.append(this.published.toRecords().map((record) => encodeMetadataRecord(record)));
      writer.freeze();
      this.logger.info('metadata snapshot written', { endOffset: this.lastOffset + 1, epoch: this.lastEpoch });
    }
    this.policy.onSnapshot();
  }
}

/**
 * The delta from the empty image that a snapshot's records make. The image's offset must be the
 * snapshot's last contained offset, so the records get the offsets just below it (a snapshot
 * holds at most one record per offset it covers: every record of the image stands for at least
 * one record of the log).
 */
function snapshotDelta(values: readonly Buffer[], endOffset: number, epoch: number): MetadataDelta {
  assert.ok(values.length <= endOffset, `a snapshot up to offset ${endOffset - 1} holds at most ${endOffset} records, not ${values.length}`);
  const delta = new MetadataDelta(MetadataImage.EMPTY);
  values.forEach((value, index) => delta.replay(decodeMetadataRecord(value), endOffset - values.length + index, epoch));
  return delta;
}
