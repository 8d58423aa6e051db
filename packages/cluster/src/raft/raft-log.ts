/**
 * The replicated log of the quorum (Kafka's `ReplicatedLog` / `KafkaMetadataLog`): the partition
 * `__cluster_metadata-0` stored with `@gregor/log`'s PartitionLog, plus its snapshots. It answers
 * the questions Raft asks of a log: its end offset and last epoch, where a follower's log diverges
 * from this one (`validateOffsetAndEpoch`, from the leader-epoch cache), and it keeps the log and
 * the snapshots consistent: the log start offset is always the end of a kept snapshot (or 0), and
 * the prefix below the newest snapshot may be deleted by retention.
 *
 * Layout: `<dir>/__cluster_metadata-0/` holds the segments, `leader-epoch-checkpoint`,
 * `quorum-state` and the `<endOffset>-<epoch>.checkpoint` snapshots. Synchronous I/O; owned by one
 * RaftClient, not safe for concurrent use.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { type AppendResult, type Clock, type FileSystem, PartitionLog, type ReadResult } from '@gregor/log';
import { readBatchHeader } from '@gregor/records';
import type { QuorumConfig } from './config.js';
import { InvalidSnapshotError } from './errors.js';
import { METADATA_PARTITION, METADATA_TOPIC } from './records.js';
import {
  compareSnapshotIds,
  deleteSnapshot,
  FetchedSnapshotWriter,
  listSnapshots,
  readSnapshot,
  readSnapshotRange,
  type SnapshotId,
  type SnapshotReader,
  SnapshotWriter,
} from './snapshots.js';

export interface OffsetAndEpoch {
  offset: number;
  epoch: number;
}

/** Kafka's `ValidOffsetAndEpoch`: a follower's fetch position is valid, diverges, or is behind the log start. */
export type FetchPositionCheck =
  | { kind: 'valid' }
  | { kind: 'diverging'; endOffset: number; epoch: number }
  | { kind: 'snapshot'; snapshotId: SnapshotId };

export interface RaftLogOptions {
  fs: FileSystem;
  /** The metadata log directory (Kafka's `metadata.log.dir`); the partition directory is made below it. */
  dir: string;
  clock: Clock;
  config: QuorumConfig;
}

export class RaftLog {
  readonly partitionDir: string;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly config: QuorumConfig;
  private readonly log: PartitionLog;
  /** Frozen snapshots, oldest first. */
  private snapshots: SnapshotId[];

  private constructor(options: RaftLogOptions) {
    this.fs = options.fs;
    this.clock = options.clock;
    this.config = options.config;
    this.partitionDir = path.join(options.dir, `${METADATA_TOPIC}-${METADATA_PARTITION}`);
    this.fs.mkdir(this.partitionDir);
    this.snapshots = listSnapshots(this.fs, this.partitionDir);
    this.log = PartitionLog.open({
      fs: this.fs,
      dir: this.partitionDir,
      clock: this.clock,
      // The log start is the end of the oldest kept snapshot: the prefix below it may be gone.
      logStartOffset: this.snapshots[0]?.endOffset ?? 0,
      config: {
        segmentBytes: this.config.metadataLogSegmentBytes,
        segmentMs: this.config.metadataLogSegmentMs,
        maxMessageBytes: this.config.controllerQuorumBatchMaxBytes,
        // Retention is ours (only below a snapshot) and flushes are explicit.
        retentionMs: -1,
        retentionBytes: -1,
        cleanupPolicy: 'delete',
      },
    });
    this.truncateToLatestSnapshot();
  }

  static open(options: RaftLogOptions): RaftLog {
    return new RaftLog(options);
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /** Bytes of the log's segments. */
  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  /** The epoch of the last record in the log, else of the newest snapshot, else 0 (Kafka's `lastFetchedEpoch`). */
  get lastFetchedEpoch(): number {
    const latest = this.log.leaderEpochs.latestEpoch;
    if (latest >= 0 && this.logEndOffset > this.logStartOffset) return latest;
    return this.latestSnapshotId?.epoch ?? 0;
  }

  get endOffsetAndEpoch(): OffsetAndEpoch {
    return { offset: this.logEndOffset, epoch: this.lastFetchedEpoch };
  }

  get latestSnapshotId(): SnapshotId | undefined {
    const latest = this.snapshots[this.snapshots.length - 1];
    return latest ? { ...latest } : undefined;
  }

  get earliestSnapshotId(): SnapshotId | undefined {
    const earliest = this.snapshots[0];
    return earliest ? { ...earliest } : undefined;
  }

  hasSnapshot(id: SnapshotId): boolean {
    return this.snapshots.some((known) => compareSnapshotIds(known, id) === 0);
  }

  /**
   * The largest epoch ≤ `epoch` this log knows and the offset where it ends (Kafka's
   * `endOffsetForEpoch`): from the leader-epoch cache; an epoch newer than every one known ends at
   * the log end offset with the last epoch.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const found = this.log.leaderEpochs.endOffsetFor(epoch, this.logEndOffset);
    const earliest = this.earliestSnapshotId;
    if (found.epoch >= 0 && earliest && found.endOffset === earliest.endOffset && found.epoch < epoch) {
      // The epoch ended exactly at the log start: the snapshot there knows its epoch.
      return { offset: earliest.endOffset, epoch: earliest.epoch };
    }
    if (found.epoch >= 0) return { offset: found.endOffset, epoch: found.epoch };
    return this.endOffsetAndEpoch;
  }

  /**
   * Where a follower fetching at `offset` after a record of `epoch` stands against this log
   * (Kafka's `validateOffsetAndEpoch`): `valid` when its log matches this one up to `offset`;
   * `diverging` with the end of the largest epoch both share, to which it must truncate; `snapshot`
   * when what it needs is below this log's start, so it must fetch the newest snapshot.
   */
  validateOffsetAndEpoch(offset: number, epoch: number): FetchPositionCheck {
    if (this.logStartOffset === 0 && offset === 0) return { kind: 'valid' };
    const earliest = this.earliestSnapshotId;
    if (earliest && (offset < this.logStartOffset || (offset === this.logStartOffset && epoch !== earliest.epoch) || epoch < earliest.epoch)) {
      const latest = this.latestSnapshotId;
      assert.ok(latest, 'an earliest snapshot implies a latest one');
      return { kind: 'snapshot', snapshotId: latest };
    }
    const end = this.endOffsetForEpoch(epoch);
    if (end.epoch !== epoch || end.offset < offset) return { kind: 'diverging', endOffset: end.offset, epoch: end.epoch };
    return { kind: 'valid' };
  }

  /** Appends batches the leader built (offsets from the log end, `epoch` stamped and recorded). */
  appendAsLeader(batches: Buffer, epoch: number): AppendResult {
    const expectedBase = this.logEndOffset;
    const result = this.log.append(batches, { leaderEpoch: epoch, verifyCrc: false });
    assert.equal(result.baseOffset, expectedBase, 'leader appends start at the log end offset');
    return result;
  }

  /**
   * Appends batches fetched from the leader, as they are (offsets and epochs kept). The first must
   * start exactly at the log end offset: a follower fetches from there, and the leader answered
   * for that position.
   */
  appendAsFollower(batches: Buffer): AppendResult {
    const first = readBatchHeader(batches, 0);
    assert.equal(first.baseOffset, this.logEndOffset, 'fetched batches continue the log');
    return this.log.append(batches, { assignOffsets: false });
  }

  /** Whole batches from `offset` below `maxOffset` (at most about `maxBytes`, at least one batch). */
  read(offset: number, maxOffset: number, maxBytes: number): ReadResult {
    return this.log.read(offset, { maxOffset, maxBytes, minOneBatch: true });
  }

  /** fsyncs everything appended; the log end offset is durable afterwards. */
  flush(): void {
    this.log.flush();
  }

  /** Every offset below this is durable. */
  get flushedOffset(): number {
    return this.log.recoveryPoint;
  }

  /**
   * Truncates a divergent tail after the leader answered with `divergingEpoch` (Kafka's
   * `truncateToEndOffset`): to where the leader's epoch ends, or, when this log has no such epoch,
   * to the end of its own largest earlier epoch. Durable at once. Returns the new log end offset.
   */
  truncateToEndOffset(divergence: OffsetAndEpoch): number {
    let truncationOffset: number;
    if (divergence.epoch === 0) {
      truncationOffset = Math.min(divergence.offset, this.logEndOffset);
    } else {
      const local = this.endOffsetForEpoch(divergence.epoch);
      truncationOffset = local.epoch === divergence.epoch ? Math.min(local.offset, divergence.offset) : local.offset;
    }
    assert.ok(truncationOffset >= this.logStartOffset, 'never truncate below the log start (a snapshot)');
    this.log.truncateTo(truncationOffset);
    return this.logEndOffset;
  }

  // --- snapshots ---------------------------------------------------------------------------------

  /**
   * A writer for a new snapshot `id` of committed state, or null when that snapshot already exists.
   * `afterFreeze` runs once it is frozen and known to this log.
   */
  createSnapshot(id: SnapshotId, lastContainedLogTimestamp: number, afterFreeze: () => void = () => {}): SnapshotWriter | null {
    if (this.hasSnapshot(id)) return null;
    const onFrozen = (frozen: SnapshotId) => {
      this.onSnapshotFrozen(frozen);
      afterFreeze();
    };
    return new SnapshotWriter({ fs: this.fs, dir: this.partitionDir, id, clock: this.clock, batchMaxBytes: this.config.controllerQuorumBatchMaxBytes, onFrozen }, lastContainedLogTimestamp);
  }

  /** A writer for the leader's snapshot `id`, downloaded in ranges by FetchSnapshot. */
  createFetchedSnapshot(id: SnapshotId): FetchedSnapshotWriter {
    return new FetchedSnapshotWriter(this.fs, this.partitionDir, id, (frozen) => this.onSnapshotFrozen(frozen));
  }

  private onSnapshotFrozen(id: SnapshotId): void {
    if (!this.hasSnapshot(id)) this.snapshots = [...this.snapshots, { ...id }].sort(compareSnapshotIds);
  }

  readSnapshot(id: SnapshotId): SnapshotReader {
    if (!this.hasSnapshot(id)) throw new InvalidSnapshotError(`no snapshot ${id.endOffset}-${id.epoch}`);
    return readSnapshot(this.fs, this.partitionDir, id);
  }

  readSnapshotRange(id: SnapshotId, position: number, maxBytes: number): { size: number; bytes: Buffer } {
    return readSnapshotRange(this.fs, this.partitionDir, id, position, maxBytes);
  }

  /**
   * When the newest snapshot is past this log (a follower just fetched it, or crashed after fetching
   * it and before truncating), the log restarts empty at the snapshot's end (Kafka's
   * `truncateToLatestSnapshot`). Returns whether it did.
   */
  truncateToLatestSnapshot(): boolean {
    const latest = this.latestSnapshotId;
    if (!latest) return false;
    const lastEpoch = this.log.leaderEpochs.latestEpoch >= 0 && this.logEndOffset > this.logStartOffset ? this.log.leaderEpochs.latestEpoch : 0;
    if (latest.epoch > lastEpoch || (latest.epoch === lastEpoch && latest.endOffset > this.logEndOffset) || latest.endOffset > this.logEndOffset) {
      this.log.truncateFullyAndStartAt(latest.endOffset);
      this.deleteSnapshotsBefore(latest.endOffset);
      return true;
    }
    return false;
  }

  /**
   * Retention (Kafka's `KafkaMetadataLog.maybeClean`): when the log is larger than
   * `metadata.max.retention.bytes`, or its oldest segment is older than `metadata.max.retention.ms`,
   * the log start moves up to the newest snapshot (whole segments below it are deleted) and older
   * snapshots are deleted. Only committed data is ever in a snapshot, so nothing a follower may
   * still need to truncate is removed. Returns whether the log start moved.
   */
  maybeClean(): boolean {
    const latest = this.latestSnapshotId;
    if (!latest || latest.endOffset <= this.logStartOffset || latest.endOffset > this.logEndOffset) return false;
    const { metadataMaxRetentionBytes: retentionBytes, metadataMaxRetentionMs: retentionMs } = this.config;
    const overSize = retentionBytes >= 0 && this.log.sizeBytes > retentionBytes;
    const overAge = retentionMs >= 0 && this.oldestSegmentTimestamp() < this.clock.now() - retentionMs;
    if (!overSize && !overAge) return false;
    this.log.deleteRecordsBefore(latest.endOffset);
    this.deleteSnapshotsBefore(this.logStartOffset);
    return true;
  }

  /** An upper bound of the newest timestamp in the oldest segment: the first timestamp of the next one (or now). */
  private oldestSegmentTimestamp(): number {
    const bases = this.log.segmentBaseOffsets();
    if (bases.length < 2) return this.clock.now();
    const read = this.log.read(Math.max(bases[1], this.logStartOffset), { maxBytes: 1, minOneBatch: true, verifyCrc: false });
    return read.records.length > 0 ? readBatchHeader(read.records, 0).baseTimestamp : this.clock.now();
  }

  /** Deletes snapshots that end below `offset`, keeping at least the newest. */
  private deleteSnapshotsBefore(offset: number): void {
    const latest = this.snapshots[this.snapshots.length - 1];
    const keep: SnapshotId[] = [];
    for (const id of this.snapshots) {
      if (id.endOffset < offset && id !== latest) deleteSnapshot(this.fs, this.partitionDir, id);
      else keep.push(id);
    }
    this.snapshots = keep;
  }

  close(): void {
    this.log.close();
  }

  /** Closes without flushing (a crash). */
  closeWithoutFlush(): void {
    this.log.closeWithoutFlush();
  }
}
