/**
 * Log compaction (cleanup.policy=compact), Kafka's cleaner reduced to its contract:
 * - a map key → latest offset is built over the closed segments (the active one is never cleaned,
 *   and its records are not in the map, as Kafka's dirty section ends before it);
 * - each closed segment is rewritten keeping, per key, only the record at the latest offset;
 *   records without a key and control batches are kept; a tombstone (null value) that is the
 *   latest for its key is dropped once its batch's max timestamp is older than
 *   `deleteRetentionMs` (Kafka's delete horizon, measured on the batch's timestamp here);
 * - kept records keep their offsets: a batch that loses records is re-encoded with the original
 *   base offset, offset deltas, timestamps, codec and producer fields; an untouched batch is copied
 *   byte for byte; a batch that loses all its records is dropped;
 * - the rewritten segment is built as `<base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`)
 *   and fsynced; the log is renamed to `<base>.log.swap` (complete from then on), the old indexes
 *   are unlinked, the swap file is renamed over `<base>.log` (an atomic replace: the old log exists
 *   until that instant) and the cleaned indexes are renamed into place. On open, `.cleaned` files
 *   are discarded, a leftover `.swap` is renamed over its log and missing indexes are rebuilt, so a
 *   crash at any step leaves either the old or the cleaned segment, never neither (the compaction
 *   property test crashes at each step). Appends go to the active segment, never compacted.
 * A pass is a `CompactionPass`: a sequence of bounded steps, each reading (and, when cleaning,
 * writing) at most about `compactionStepBytesMax` bytes, so its owner can interleave appends and
 * reads between steps: (1) the key map is built over the dirty segments, batch range by batch
 * range; (2) each segment to clean is rewritten into its `.cleaned` files range by range; (3) the
 * swap of one segment (fsync + renames) is one step. Anything that changes the closed segments
 * between steps must `abort()` the pass first, which deletes the `.cleaned` files of the segment
 * being rewritten (a swap already done stays done: it was atomic). Driven by `PartitionLog`
 * (`compactionStep()`, `compact()`), which LogManager's scheduler calls with a yield between steps.
 */
import { type BatchHeader, decodeBatch, encodeBatch, readBatchHeader, type RecordInput } from '@gregor/records';
import type { LogConfig } from './config.js';
import { LogCorruptionError } from './errors.js';
import type { FileSystem } from './fs.js';
import { CLEANED_FILE_SUFFIX, LogSegment, SWAP_FILE_SUFFIX } from './segment.js';

export interface CompactionStats {
  segmentsRewritten: number;
  recordsRemoved: number;
  /** When the oldest kept tombstone passes its horizon (a later pass would drop it), or undefined. */
  nextTombstoneExpiryMs?: number;
  /** False when `compactionKeysMax` stopped the key map before the last closed segment. */
  complete?: boolean;
  /** How many of the oldest closed segments this pass cleaned. */
  segmentsCleaned?: number;
}

export interface CompactionInput {
  fs: FileSystem;
  dir: string;
  config: LogConfig;
  nowMs: number;
  /** Closed segments, oldest first. */
  segments: readonly LogSegment[];
  /**
   * Base offset of the first segment not cleaned by an earlier pass (Kafka's cleaner checkpoint):
   * the key map is built from there on; segments before it are cleaned against that map.
   */
  firstDirtyOffset: number;
  /** Reopens a segment after its files were swapped. */
  openSegment(baseOffset: number): LogSegment;
  /** Called in a swap step: `old` (now closed) was replaced on disk; reads must use `cleaned` from now on. */
  replaceSegment(old: LogSegment, cleaned: LogSegment): void;
}

function keyOf(key: Buffer): string {
  return key.toString('latin1');
}

function decodeOrCorrupt(segment: LogSegment, bytes: Buffer, header: BatchHeader) {
  try {
    return decodeBatch(bytes, 0);
  } catch (error) {
    throw new LogCorruptionError(segment.logPath, -1, -1, `batch at offset ${header.baseOffset}: ${(error as Error).message}`);
  }
}

function reencode(header: BatchHeader, records: RecordInput[]): Buffer {
  return encodeBatch({
    records,
    baseOffset: header.baseOffset,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    compression: header.compression,
    timestampType: header.timestampType,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    isTransactional: header.isTransactional,
  });
}

type Phase = 'map' | 'clean' | 'swap' | 'done';

/**
 * One compaction pass as bounded steps. The key map (key → latest offset) covers the first dirty
 * segments whose keys fit in `compactionKeysMax` (Kafka's dedupe buffer limit; the first dirty
 * segment is always taken whole, so every pass makes progress): only those, and the already clean
 * ones before them, are cleaned, which is correct since every record removed has a newer one for
 * its key inside the mapped range; the next pass continues from there.
 */
export class CompactionPass {
  readonly stats: CompactionStats = { segmentsRewritten: 0, recordsRemoved: 0 };
  private phase: Phase = 'map';
  /** Index (in `input.segments`) of the segment being read, and the byte position reached in it. */
  private segmentIndex: number;
  private position = 0;
  private readonly dirtyStart: number;
  /** End (exclusive) of the segments this pass cleans; set when the key map is complete. */
  private cleanEnd = 0;
  private readonly latest = new Map<string, number>();
  /** Keys first seen in the segment being mapped: merged only if the whole segment fits. */
  private readonly added = new Map<string, number>();
  private readonly horizonMs: number;
  private oldestKeptTombstoneMs = Number.POSITIVE_INFINITY;
  private cleaned: LogSegment | undefined;
  private removedInSegment = 0;

  constructor(private readonly input: CompactionInput) {
    const firstDirty = input.segments.findIndex((segment) => segment.baseOffset >= input.firstDirtyOffset);
    this.dirtyStart = firstDirty < 0 ? input.segments.length : firstDirty;
    this.segmentIndex = this.dirtyStart;
    this.horizonMs = input.nowMs - input.config.deleteRetentionMs;
    if (this.dirtyStart === input.segments.length) this.endMap();
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Does one bounded step; returns true once the pass is finished. */
  step(): boolean {
    if (this.phase === 'map') this.mapStep();
    else if (this.phase === 'clean') this.cleanStep();
    else if (this.phase === 'swap') this.swapStep();
    return this.done;
  }

  /** Stops the pass and deletes the `.cleaned` files being written (best effort: open discards them too). */
  abort(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.stats.complete = false;
    this.discardCleaned();
  }

  /** The batches from `position` in the current segment up to the step budget, read with one read. */
  private nextRange(): { segment: LogSegment; bytes: Buffer; headers: BatchHeader[] } {
    const segment = this.input.segments[this.segmentIndex];
    const budget = Math.max(1, this.input.config.compactionStepBytesMax);
    const start = this.position;
    let end = start;
    segment.scan(start, (batch) => {
      if (end > start && end - start + batch.sizeBytes > budget) return false;
      end = batch.position + batch.sizeBytes;
      return end - start < budget;
    });
    const bytes = segment.readBytes(start, end - start);
    if (bytes.length !== end - start) throw new LogCorruptionError(segment.logPath, start, end, 'short read while compacting');
    const headers: BatchHeader[] = [];
    for (let at = 0; at < bytes.length; ) {
      const header = readBatchHeader(bytes, at);
      headers.push(header);
      at += header.sizeBytes;
    }
    this.position = end;
    return { segment, bytes, headers };
  }

  private mapStep(): void {
    const segment = this.input.segments[this.segmentIndex];
    const keysMax = this.input.config.compactionKeysMax;
    const mustTakeWhole = this.segmentIndex === this.dirtyStart;
    if (this.position < segment.sizeBytes) {
      const { bytes, headers } = this.nextRange();
      let at = 0;
      for (const header of headers) {
        const batch = bytes.subarray(at, at + header.sizeBytes);
        at += header.sizeBytes;
        if (header.isControl) continue;
        decodeOrCorrupt(segment, batch, header).forEachRecord((record) => {
          if (record.keyLength < 0) return;
          const key = keyOf(record.data.subarray(record.keyStart, record.keyStart + record.keyLength));
          if (this.latest.has(key)) this.latest.set(key, record.offset);
          else this.added.set(key, record.offset);
        });
        if (!mustTakeWhole && this.latest.size + this.added.size > keysMax) {
          // This segment does not fit: the map covers the segments before it.
          this.added.clear();
          this.endMap();
          return;
        }
      }
      if (this.position < segment.sizeBytes) return;
    }
    for (const [key, offset] of this.added) this.latest.set(key, offset);
    this.added.clear();
    this.segmentIndex++;
    this.position = 0;
    if (this.segmentIndex === this.input.segments.length) this.endMap();
  }

  private endMap(): void {
    this.cleanEnd = this.segmentIndex;
    this.stats.complete = this.cleanEnd === this.input.segments.length;
    this.stats.segmentsCleaned = this.cleanEnd;
    this.segmentIndex = 0;
    this.position = 0;
    this.phase = 'clean';
    if (this.cleanEnd === 0) this.finish();
  }

  private cleanStep(): void {
    const segment = this.input.segments[this.segmentIndex];
    if (!this.cleaned) {
      const { fs, dir, config, nowMs } = this.input;
      this.cleaned = LogSegment.create({ fs, dir, baseOffset: segment.baseOffset, config, nowMs }, CLEANED_FILE_SUFFIX);
      this.removedInSegment = 0;
    }
    if (this.position < segment.sizeBytes) this.cleanRange();
    if (this.position < segment.sizeBytes) return;
    if (this.removedInSegment > 0) {
      this.phase = 'swap';
      return;
    }
    // Nothing to remove: the segment stays as it is.
    this.discardCleaned();
    this.nextSegmentToClean();
  }

  private cleanRange(): void {
    const { segment, bytes, headers } = this.nextRange();
    const out: Buffer[] = [];
    const outHeaders: BatchHeader[] = [];
    let at = 0;
    for (const header of headers) {
      const batch = bytes.subarray(at, at + header.sizeBytes);
      at += header.sizeBytes;
      const kept = header.isControl ? batch : this.cleanBatch(segment, batch, header);
      if (!kept) continue;
      out.push(kept);
      outHeaders.push(kept === batch ? header : readBatchHeader(kept, 0));
    }
    if (out.length > 0) this.cleaned?.append(Buffer.concat(out), outHeaders);
  }

  /** The batch with only the records to keep: itself when untouched, re-encoded, or undefined when empty. */
  private cleanBatch(segment: LogSegment, batch: Buffer, header: BatchHeader): Buffer | undefined {
    const kept: RecordInput[] = [];
    let total = 0;
    for (const record of decodeOrCorrupt(segment, batch, header).records()) {
      total++;
      if (record.key !== null) {
        const latestOffset = this.latest.get(keyOf(record.key));
        if (latestOffset !== undefined && latestOffset > record.offset) continue;
        if (record.value === null && header.maxTimestamp < this.horizonMs) continue;
        if (record.value === null) this.oldestKeptTombstoneMs = Math.min(this.oldestKeptTombstoneMs, header.maxTimestamp);
      }
      kept.push({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp, offsetDelta: record.offset - header.baseOffset });
    }
    this.removedInSegment += total - kept.length;
    if (kept.length === total) return batch;
    return kept.length > 0 ? reencode(header, kept) : undefined;
  }

  /** Makes the cleaned files durable and swaps them in (see the header for the crash-safe order). */
  private swapStep(): void {
    const { fs, dir } = this.input;
    const segment = this.input.segments[this.segmentIndex];
    const cleaned = this.cleaned as LogSegment;
    cleaned.onBecomeInactive();
    cleaned.flush();
    cleaned.closeFiles();
    this.cleaned = undefined;
    const cleanedPaths = LogSegment.pathsFor(dir, segment.baseOffset, CLEANED_FILE_SUFFIX);
    const finalPaths = LogSegment.pathsFor(dir, segment.baseOffset);
    segment.closeFiles();
    // From here the swap file is complete: recovery renames it over the log if we stop part-way.
    fs.rename(cleanedPaths.log, finalPaths.log + SWAP_FILE_SUFFIX);
    fs.unlink(finalPaths.index);
    fs.unlink(finalPaths.timeIndex);
    fs.rename(finalPaths.log + SWAP_FILE_SUFFIX, finalPaths.log);
    fs.rename(cleanedPaths.index, finalPaths.index);
    fs.rename(cleanedPaths.timeIndex, finalPaths.timeIndex);
    this.input.replaceSegment(segment, this.input.openSegment(segment.baseOffset));
    this.stats.segmentsRewritten++;
    this.stats.recordsRemoved += this.removedInSegment;
    this.phase = 'clean';
    this.nextSegmentToClean();
  }

  private nextSegmentToClean(): void {
    this.segmentIndex++;
    this.position = 0;
    if (this.segmentIndex >= this.cleanEnd) this.finish();
  }

  private finish(): void {
    this.phase = 'done';
    if (this.oldestKeptTombstoneMs !== Number.POSITIVE_INFINITY) this.stats.nextTombstoneExpiryMs = this.oldestKeptTombstoneMs + this.input.config.deleteRetentionMs + 1;
  }

  private discardCleaned(): void {
    const cleaned = this.cleaned;
    if (!cleaned) return;
    this.cleaned = undefined;
    const { fs, dir } = this.input;
    try {
      cleaned.closeFiles();
    } catch {
      // Already closed by a failed swap step; the files are what matters.
    }
    const paths = LogSegment.pathsFor(dir, cleaned.baseOffset, CLEANED_FILE_SUFFIX);
    for (const file of [paths.log, paths.index, paths.timeIndex]) {
      try {
        if (fs.exists(file)) fs.unlink(file);
      } catch {
        // Best effort: open discards every `.cleaned` file, so a leftover is harmless.
      }
    }
  }
}
