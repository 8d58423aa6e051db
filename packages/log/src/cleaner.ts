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
 * Synchronous; called by `PartitionLog.compact()` (LogManager's scheduler).
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
}

/** Calls `visit(bytes, header)` for each batch of a segment (one read per batch). */
function forEachSegmentBatch(segment: LogSegment, visit: (bytes: Buffer, header: BatchHeader) => void): void {
  const batches: { position: number; sizeBytes: number }[] = [];
  segment.scan(0, (batch) => {
    batches.push({ position: batch.position, sizeBytes: batch.sizeBytes });
  });
  for (const { position, sizeBytes } of batches) {
    const bytes = segment.readBytes(position, sizeBytes);
    visit(bytes, readBatchHeader(bytes, 0));
  }
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

/**
 * Key → latest offset over the first segments whose keys fit in `keysMax` (Kafka's dedupe buffer
 * limit; the first segment is always taken whole, so the bound is the larger of the limit and one
 * segment's keys). Returns how many segments the map covers: only those (and the already clean
 * ones before them) are cleaned this pass, which is correct since every record removed has a newer
 * one for its key inside the covered range; the next pass continues from there.
 */
function buildOffsetMap(segments: readonly LogSegment[], keysMax: number): { latest: Map<string, number>; segmentsCovered: number } {
  const latest = new Map<string, number>();
  let segmentsCovered = 0;
  for (const segment of segments) {
    const added = new Map<string, number>();
    forEachSegmentBatch(segment, (bytes, header) => {
      if (header.isControl) return;
      decodeOrCorrupt(segment, bytes, header).forEachRecord((record) => {
        if (record.keyLength < 0 || (segmentsCovered > 0 && latest.size + added.size > keysMax)) return;
        const key = keyOf(record.data.subarray(record.keyStart, record.keyStart + record.keyLength));
        if (latest.has(key)) latest.set(key, record.offset);
        else added.set(key, record.offset);
      });
    });
    // The first dirty segment is always taken whole, so every pass makes progress.
    if (segmentsCovered > 0 && latest.size + added.size > keysMax) break;
    for (const [key, offset] of added) latest.set(key, offset);
    segmentsCovered++;
  }
  return { latest, segmentsCovered };
}

/** The cleaned batches of one segment, or undefined when nothing would change. */
interface CleanState {
  latest: Map<string, number>;
  horizonMs: number;
  /** Smallest batch timestamp among kept tombstones. */
  oldestKeptTombstoneMs: number;
}

function cleanSegment(segment: LogSegment, state: CleanState): { batches: Buffer[]; removed: number } | undefined {
  const { latest, horizonMs } = state;
  const batches: Buffer[] = [];
  let removed = 0;
  forEachSegmentBatch(segment, (bytes, header) => {
    if (header.isControl) {
      batches.push(bytes);
      return;
    }
    const kept: RecordInput[] = [];
    let total = 0;
    for (const record of decodeOrCorrupt(segment, bytes, header).records()) {
      total++;
      if (record.key !== null) {
        const latestOffset = latest.get(keyOf(record.key));
        if (latestOffset !== undefined && latestOffset > record.offset) continue;
        if (record.value === null && header.maxTimestamp < horizonMs) continue;
        if (record.value === null) state.oldestKeptTombstoneMs = Math.min(state.oldestKeptTombstoneMs, header.maxTimestamp);
      }
      kept.push({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp, offsetDelta: record.offset - header.baseOffset });
    }
    removed += total - kept.length;
    if (kept.length === total) batches.push(bytes);
    else if (kept.length > 0) batches.push(reencode(header, kept));
  });
  return removed === 0 ? undefined : { batches, removed };
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

/** Writes the cleaned files and swaps them in; returns the reopened segment. */
function swapIn(input: CompactionInput, segment: LogSegment, batches: Buffer[]): LogSegment {
  const { fs, dir, config, nowMs } = input;
  const cleaned = LogSegment.create({ fs, dir, baseOffset: segment.baseOffset, config, nowMs }, CLEANED_FILE_SUFFIX);
  if (batches.length > 0) {
    const buffer = Buffer.concat(batches);
    const headers: BatchHeader[] = [];
    for (let position = 0; position < buffer.length; ) {
      const header = readBatchHeader(buffer, position);
      headers.push(header);
      position += header.sizeBytes;
    }
    cleaned.append(buffer, headers);
  }
  cleaned.onBecomeInactive();
  cleaned.flush();
  cleaned.closeFiles();
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
  return input.openSegment(segment.baseOffset);
}

/** Compacts `input.segments`; returns stats and the replaced segments by their index in the input. */
export function compactSegments(input: CompactionInput): { stats: CompactionStats; replaced: Map<number, LogSegment> } {
  const firstDirty = input.segments.findIndex((segment) => segment.baseOffset >= input.firstDirtyOffset);
  const dirtyStart = firstDirty < 0 ? input.segments.length : firstDirty;
  const { latest, segmentsCovered } = buildOffsetMap(input.segments.slice(dirtyStart), input.config.compactionKeysMax);
  const cleanEnd = dirtyStart + segmentsCovered;
  const state: CleanState = {
    latest,
    horizonMs: input.nowMs - input.config.deleteRetentionMs,
    oldestKeptTombstoneMs: Number.POSITIVE_INFINITY,
  };
  const stats: CompactionStats = { segmentsRewritten: 0, recordsRemoved: 0, complete: cleanEnd === input.segments.length, segmentsCleaned: cleanEnd };
  const replaced = new Map<number, LogSegment>();
  input.segments.slice(0, cleanEnd).forEach((segment, index) => {
    const cleaned = cleanSegment(segment, state);
    if (!cleaned) return;
    replaced.set(index, swapIn(input, segment, cleaned.batches));
    stats.segmentsRewritten++;
    stats.recordsRemoved += cleaned.removed;
  });
  if (state.oldestKeptTombstoneMs !== Number.POSITIVE_INFINITY) stats.nextTombstoneExpiryMs = state.oldestKeptTombstoneMs + input.config.deleteRetentionMs + 1;
  return { stats, replaced };
}
