/**
 * When the state machine above the quorum should write a snapshot (Kafka's SnapshotGenerator
 * rule): once `metadata.log.max.record.bytes.between.snapshots` bytes of committed batches were
 * applied since the last snapshot, or once `metadata.log.max.snapshot.interval.ms` passed with
 * anything applied. The state machine counts each committed batch (`onCommit`), asks `isDue`,
 * and calls `onSnapshot` after writing (or loading) one. Single-threaded; one per state machine.
 */
import type { Clock } from '@gregor/log';
import type { QuorumConfig } from './config.js';
import type { RaftBatch } from './records.js';

export class SnapshotPolicy {
  private bytesSinceSnapshot = 0;
  private lastSnapshotMs: number;

  constructor(
    private readonly config: Pick<QuorumConfig, 'metadataLogMaxRecordBytesBetweenSnapshots' | 'metadataLogMaxSnapshotIntervalMs'>,
    private readonly clock: Clock,
  ) {
    this.lastSnapshotMs = clock.now();
  }

  onCommit(batch: Pick<RaftBatch, 'sizeInBytes'>): void {
    this.bytesSinceSnapshot += batch.sizeInBytes;
  }

  onSnapshot(): void {
    this.bytesSinceSnapshot = 0;
    this.lastSnapshotMs = this.clock.now();
  }

  /** Bytes of committed batches applied since the last snapshot. */
  get pendingBytes(): number {
    return this.bytesSinceSnapshot;
  }

  get isDue(): boolean {
    if (this.bytesSinceSnapshot === 0) return false;
    if (this.bytesSinceSnapshot >= this.config.metadataLogMaxRecordBytesBetweenSnapshots) return true;
    const intervalMs = this.config.metadataLogMaxSnapshotIntervalMs;
    return intervalMs > 0 && this.clock.now() - this.lastSnapshotMs >= intervalMs;
  }
}
