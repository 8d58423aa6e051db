/**
 * The leader-epoch cache of one partition and its file `leader-epoch-checkpoint` (Kafka's text
 * format: `0`, count, then `epoch startOffset` lines, epochs and start offsets strictly
 * increasing). Each entry says: from `startOffset` on, batches were written by the leader of
 * `epoch`. Followers use `endOffsetFor` to find where their log diverges (KIP-101/279).
 * Every change is written to the file at once (atomically). Owned by one `PartitionLog`.
 */
import { formatCheckpoint, parseCheckpoint, parseCheckpointInteger } from './checkpoint.js';
import { CheckpointFormatError } from './errors.js';
import type { FileSystem } from './fs.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private epochs: EpochEntry[];

  private constructor(private readonly fs: FileSystem, readonly path: string, epochs: EpochEntry[]) {
    this.epochs = epochs;
  }

  /** Reads the checkpoint at `path` (missing file: empty cache). */
  static open(fs: FileSystem, path: string): LeaderEpochCache {
    if (!fs.exists(path)) return new LeaderEpochCache(fs, path, []);
    const entries = parseCheckpoint(path, fs.readFile(path).toString('utf8'), 2).map(([epoch, startOffset]) => ({
      epoch: parseCheckpointInteger(path, epoch),
      startOffset: parseCheckpointInteger(path, startOffset),
    }));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].epoch <= entries[i - 1].epoch || entries[i].startOffset < entries[i - 1].startOffset) {
        throw new CheckpointFormatError(path, `entry ${i} does not increase`);
      }
    }
    return new LeaderEpochCache(fs, path, entries);
  }

  entries(): EpochEntry[] {
    return this.epochs.map((entry) => ({ ...entry }));
  }

  get latestEpoch(): number {
    return this.epochs.length === 0 ? UNDEFINED_EPOCH : this.epochs[this.epochs.length - 1].epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. A newer epoch removes entries it contradicts
   * (same or higher epoch, same or higher start offset), as Kafka's LeaderEpochFileCache.assign;
   * an epoch older than the latest is ignored.
   */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0) return;
    const latest = this.epochs[this.epochs.length - 1];
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    if (latest && epoch < latest.epoch) return;
    this.epochs = this.epochs.filter((entry) => entry.epoch < epoch && entry.startOffset < startOffset);
    this.epochs.push({ epoch, startOffset });
    this.write();
  }

  /**
   * The largest epoch ≤ `requestedEpoch` and the end offset of that epoch (start of the next
   * epoch, or `logEndOffset` for the latest), Kafka's OffsetForLeaderEpoch answer. Unknown →
   * `{ epoch: -1, endOffset: -1 }`.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH || this.epochs.length === 0) return undefinedAnswer;
    if (requestedEpoch === this.latestEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.epochs.find((entry) => entry.epoch > requestedEpoch);
    if (!higher) return undefinedAnswer;
    const floor = [...this.epochs].reverse().find((entry) => entry.epoch <= requestedEpoch);
    return { epoch: floor ? floor.epoch : requestedEpoch, endOffset: higher.startOffset };
  }

  /** Removes entries starting at or after `endOffset` (the log was truncated to `endOffset`). */
  truncateFromEnd(endOffset: number): void {
    const kept = this.epochs.filter((entry) => entry.startOffset < endOffset);
    if (kept.length === this.epochs.length) return;
    this.epochs = kept;
    this.write();
  }

  /**
   * Removes entries wholly before `startOffset` (log start moved); the last entry at or before it
   * is kept with its start moved to `startOffset`, so the epoch of the first remaining batch stays known.
   */
  truncateFromStart(startOffset: number): void {
    let lastBefore = -1;
    for (let i = 0; i < this.epochs.length && this.epochs[i].startOffset <= startOffset; i++) lastBefore = i;
    if (lastBefore < 0 || (lastBefore === 0 && this.epochs[0].startOffset === startOffset)) return;
    const moved = { epoch: this.epochs[lastBefore].epoch, startOffset };
    this.epochs = [moved, ...this.epochs.slice(lastBefore + 1)];
    this.write();
  }

  clear(): void {
    this.epochs = [];
    this.write();
  }

  private write(): void {
    this.fs.writeFileAtomic(this.path, formatCheckpoint(this.epochs.map((entry) => `${entry.epoch} ${entry.startOffset}`)));
  }
}
