/**
 * The producer-state snapshots of one partition: `<offset>.snapshot` files beside the segments
 * (Kafka's layout: the 20-digit offset the snapshot was taken at, the ProducerStateManager's
 * snapshot format inside), and rebuilding the state from the newest snapshot at or below the log
 * end offset plus the batches after it (Kafka's loadProducerState). Leaders and followers alike
 * rebuild from their own log, so a follower that becomes leader deduplicates retries the old leader
 * accepted. Single-threaded; owned by one Partition.
 */
import path from 'node:path';
import { forEachBatch, readBatchHeader, type BatchHeader } from '@gregor/records';
import { type Clock, type FileSystem, type PartitionLog, reportDamage, stderrWarningSink, type WarningSink } from '@gregor/log';
import type { ProducerStateManager } from './producer-state.js';

export const SNAPSHOT_SUFFIX = '.snapshot';

export interface ProducerSnapshotsOptions {
  fs: FileSystem;
  /** The partition's directory. */
  dir: string;
  log: PartitionLog;
  state: ProducerStateManager;
  clock: Clock;
  /** Snapshots kept (Kafka keeps the two latest). */
  retained: number;
  /** `producer.id.expiration.ms`: producers in a snapshot older than this are not loaded. */
  producerIdExpirationMs: number;
  /** Where damaged snapshots and log damage met while replaying are reported (default: stderr). */
  logger?: WarningSink;
  /** `<topic>-<partition>`, for the reports. */
  name: string;
}

export class ProducerSnapshots {
  constructor(private readonly options: ProducerSnapshotsOptions) {}

  fileName(offset: number): string {
    return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
  }

  offsets(): number[] {
    const { fs, dir } = this.options;
    if (!fs.exists(dir)) return [];
    return fs.readdir(dir)
      .filter((name) => name.endsWith(SNAPSHOT_SUFFIX) && /^\d{20}\.snapshot$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
  }

  /** Writes `<LEO>.snapshot` and keeps only the newest `retained` snapshots. */
  take(): void {
    const { fs, dir, log, state, retained } = this.options;
    fs.writeFileAtomic(path.join(dir, this.fileName(log.logEndOffset)), state.encodeSnapshot());
    const offsets = this.offsets();
    for (const old of offsets.slice(0, Math.max(0, offsets.length - retained))) fs.unlink(path.join(dir, this.fileName(old)));
  }

  /** Deletes every snapshot (the log was emptied and restarted elsewhere). */
  deleteAll(): void {
    for (const offset of this.offsets()) this.options.fs.unlink(path.join(this.options.dir, this.fileName(offset)));
  }

  /**
   * Kafka's loadProducerState: the newest snapshot at or below the LEO (newer ones belong to a
   * truncated tail and are deleted), then every batch after it replayed from the log. A corrupt
   * snapshot is skipped for an older one, and with none the whole log is replayed.
   */
  load(): void {
    const { fs, dir, log, state, clock } = this.options;
    state.clear();
    const logEndOffset = log.logEndOffset;
    let replayFrom = log.logStartOffset;
    for (const offset of this.offsets().reverse()) {
      const filePath = path.join(dir, this.fileName(offset));
      if (offset > logEndOffset) {
        fs.unlink(filePath);
        continue;
      }
      try {
        state.loadSnapshot(fs.readFile(filePath), filePath, clock.now(), this.options.producerIdExpirationMs);
        replayFrom = Math.max(offset, log.logStartOffset);
        break;
      } catch (error) {
        state.clear();
        reportDamage(this.logger, 'PRODUCER_SNAPSHOT_UNREADABLE', `skipped the producer-state snapshot ${filePath}: ${(error as Error).message}; replaying the log from an older one`, { path: filePath });
      }
    }
    this.replay(replayFrom, logEndOffset);
  }

  private get logger(): WarningSink {
    return this.options.logger ?? stderrWarningSink;
  }

  /**
   * Rebuilds producer state from the batch headers in [fromOffset, toOffset). Damaged batches are
   * passed over (the log reports them): their producers' sequence state may be missing, so a
   * retry of exactly those batches could be appended again.
   */
  private replay(fromOffset: number, toOffset: number): void {
    const { log, state, clock } = this.options;
    // A replayed producer counts as seen now: the log does not say when its batches arrived.
    const now = clock.now();
    log.replayBatches(fromOffset, toOffset, (records) => {
      forEachBatch(records, (position) => {
        const header: BatchHeader = readBatchHeader(records, position);
        if (header.lastOffset >= fromOffset && !header.isControl) state.update(header, header.baseOffset, now);
      }, { allowPartialTail: true });
    }, (error) => {
      reportDamage(this.logger, 'PRODUCER_STATE_INCOMPLETE', `producer state of ${this.options.name} skips the damaged batches before offset ${error.resumeOffset}: ${error.message}`, { path: error.path, resumeOffset: error.resumeOffset });
    });
  }
}
