/**
 * One log segment: `<base>.log` (RecordBatch v2 back to back, Kafka's bytes), `<base>.index` and
 * `<base>.timeindex` (see index-file.ts), where `<base>` is the segment's base offset zero-padded to
 * 20 digits. A segment knows its size, the next offset after its last batch, its max timestamp and
 * when to add index entries; `PartitionLog` decides offsets, rolls and deletions.
 *
 * Every batch read from the file is framed before it is trusted: its length must be at least a
 * bare header, at most `maxMessageBytes`, and inside the segment, so an absurd length never causes
 * an allocation. Not safe for concurrent use; owned by one `PartitionLog`.
 */
import path from 'node:path';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_OVERHEAD_BYTES,
  type BatchHeader,
  CURRENT_MAGIC,
  decodeBatch,
  isBatchCrcValid,
  readBatchHeader,
} from '@gregor/records';
import type { LogConfig } from './config.js';
import { LogCorruptionError } from './errors.js';
import type { File, FileSystem } from './fs.js';
import { IndexCorruptError, OffsetIndex, TimeIndex } from './index-file.js';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';
export const NO_TIMESTAMP = -1;

/** Bytes read at once when scanning batch headers or recovering a segment. */
const SCAN_CHUNK_BYTES = 256 * 1024;
/** Bytes read at once when looking for the batch that holds an offset, starting at an index entry. */
const FIND_CHUNK_BYTES = 4096;
const EMPTY = Buffer.alloc(0);

/**
 * Kafka's LogConfig.maxSegmentMs: a compacted log also rolls by max.compaction.lag.ms, so records
 * do not wait in the active segment (which is never compacted) past that lag.
 */
export function maxSegmentMs(config: LogConfig): number {
  return config.cleanupPolicy.includes('compact') && config.maxCompactionLagMs > 0 ? Math.min(config.maxCompactionLagMs, config.segmentMs) : config.segmentMs;
}

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** Header fields of one batch found by a scan, with its position in the segment. */
export interface ScannedBatch {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface SegmentReadResult {
  records: Buffer;
  firstOffset: number;
  /** The offset after the last returned batch. */
  nextOffset: number;
}

export interface SegmentReadOptions {
  maxBytes: number;
  /** Exclusive: no batch whose last offset is at or past it. */
  maxOffset: number;
  minOneBatch: boolean;
  verifyCrc: boolean;
  /** Read into this buffer when it is large enough (the result is a view of it). */
  into?: Buffer;
}

export interface SegmentOptions {
  fs: FileSystem;
  dir: string;
  baseOffset: number;
  config: LogConfig;
  /** When the segment was created (rolling by `segmentMs` when it holds no batch yet). */
  nowMs: number;
  /** How much earlier than segmentMs this segment rolls (Kafka's rollJitterMs, drawn per segment). Default 0. */
  rollJitterMs?: number;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly logPath: string;
  sizeBytes = 0;
  /** Offset after the last batch (base offset when empty). */
  nextOffset: number;
  maxTimestamp = NO_TIMESTAMP;
  offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch (Kafka's rollingBasedTimestamp); undefined when empty. */
  firstBatchTimestamp: number | undefined;
  private readonly createdMs: number;
  private bytesSinceLastIndexEntry = 0;

  private constructor(
    private readonly options: SegmentOptions,
    private log: File,
    public offsetIndex: OffsetIndex,
    public timeIndex: TimeIndex,
  ) {
    this.baseOffset = options.baseOffset;
    this.logPath = path.join(options.dir, segmentFileName(options.baseOffset, LOG_FILE_SUFFIX));
    this.nextOffset = options.baseOffset;
    this.createdMs = options.nowMs;
  }

  static pathsFor(dir: string, baseOffset: number, extra = ''): { log: string; index: string; timeIndex: string } {
    return {
      log: path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX + extra)),
      index: path.join(dir, segmentFileName(baseOffset, INDEX_FILE_SUFFIX + extra)),
      timeIndex: path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX + extra)),
    };
  }

  /** Creates an empty segment (files truncated) at `baseOffset`. */
  static create(options: SegmentOptions, suffix = ''): LogSegment {
    const paths = LogSegment.pathsFor(options.dir, options.baseOffset, suffix);
    const log = options.fs.openFile(paths.log, { create: true, truncate: true });
    const limits = { logSizeBytes: 0 };
    const indexOptions = { baseOffset: options.baseOffset, maxIndexBytes: options.config.segmentIndexBytes, truncate: true, limits };
    const segment = new LogSegment(options, log, OffsetIndex.open(options.fs, paths.index, indexOptions), TimeIndex.open(options.fs, paths.timeIndex, indexOptions));
    return segment;
  }

  /**
   * Opens an existing segment. With `recover`, every batch is re-checked and the indexes rebuilt
   * (unclean shutdown); otherwise the indexes are sanity-checked and rebuilt only if missing or
   * corrupt. Returns the segment and the bytes recovery cut off its tail.
   */
  static open(options: SegmentOptions, recover: boolean): { segment: LogSegment; truncatedBytes: number } {
    const { fs, config, baseOffset } = options;
    const paths = LogSegment.pathsFor(options.dir, baseOffset);
    const log = fs.openFile(paths.log);
    const limits = { logSizeBytes: log.size() };
    const indexOptions = { baseOffset, maxIndexBytes: config.segmentIndexBytes, limits };
    let rebuild = recover || !fs.exists(paths.index) || !fs.exists(paths.timeIndex);
    let offsetIndex: OffsetIndex | undefined;
    let timeIndex: TimeIndex | undefined;
    if (!rebuild) {
      try {
        offsetIndex = OffsetIndex.open(fs, paths.index, indexOptions);
        timeIndex = TimeIndex.open(fs, paths.timeIndex, indexOptions);
      } catch (error) {
        if (!(error instanceof IndexCorruptError)) throw error;
        offsetIndex?.close();
        rebuild = true;
      }
    }
    if (rebuild) {
      offsetIndex = OffsetIndex.open(fs, paths.index, { ...indexOptions, truncate: true });
      timeIndex = TimeIndex.open(fs, paths.timeIndex, { ...indexOptions, truncate: true });
    }
    const segment = new LogSegment(options, log, offsetIndex as OffsetIndex, timeIndex as TimeIndex);
    segment.sizeBytes = limits.logSizeBytes;
    if (rebuild) return { segment, truncatedBytes: segment.recover() };
    try {
      segment.loadTail();
    } catch (error) {
      // The tail does not parse although the log was closed cleanly: re-check the whole segment.
      if (!(error instanceof LogCorruptionError)) throw error;
      return { segment, truncatedBytes: segment.recover() };
    }
    return { segment, truncatedBytes: 0 };
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  // --- append ------------------------------------------------------------------------------------

  /**
   * Writes `buffer` (the whole batches described by `headers`, already carrying their final
   * offsets) at the end of the segment with one positional write, then adds index entries.
   */
  append(buffer: Buffer, headers: readonly BatchHeader[]): void {
    this.log.write(buffer, 0, buffer.length, this.sizeBytes);
    let position = this.sizeBytes;
    for (const header of headers) {
      this.noteBatch(position, header.sizeBytes, header.lastOffset, header.maxTimestamp);
      position += header.sizeBytes;
    }
    this.sizeBytes = position;
  }

  /** Updates max timestamp, next offset and the indexes for a batch just written at `position`. */
  private noteBatch(position: number, sizeBytes: number, lastOffset: number, maxTimestamp: number): void {
    if (this.firstBatchTimestamp === undefined) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    // Kafka's rule: an entry for the batch that starts after more than indexIntervalBytes of log.
    if (this.bytesSinceLastIndexEntry > this.options.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeBytes;
    this.nextOffset = lastOffset + 1;
  }

  /**
   * Whether appending `bytes` ending at `lastOffset` needs a new segment first. Age is Kafka's
   * timeWaitedForRoll: the new batches' max timestamp minus the first batch's, or time since
   * creation when the segment has no timestamp yet.
   */
  shouldRoll(bytes: number, lastOffset: number, maxTimestamp: number, nowMs: number): boolean {
    if (this.isEmpty) return false;
    const { segmentBytes } = this.options.config;
    const waitedMs = this.firstBatchTimestamp !== undefined && this.firstBatchTimestamp >= 0 ? maxTimestamp - this.firstBatchTimestamp : nowMs - this.createdMs;
    return (
      this.sizeBytes + bytes > segmentBytes ||
      waitedMs > maxSegmentMs(this.options.config) - (this.options.rollJitterMs ?? 0) ||
      this.offsetIndex.isFull ||
      this.timeIndex.isFull ||
      lastOffset - this.baseOffset > 0x7fffffff ||
      this.sizeBytes + bytes > 0x7fffffff
    );
  }

  // --- scanning ----------------------------------------------------------------------------------

  private corrupt(start: number, end: number, reason: string): LogCorruptionError {
    return new LogCorruptionError(this.logPath, start, Math.min(end, this.sizeBytes), reason);
  }

  /** Checks the framing of a header at `position`; returns its size or throws LogCorruptionError. */
  private frameSize(header: Buffer, at: number, position: number, previousLastOffset: number): number {
    const batchLength = header.readInt32BE(at + 8);
    const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
    if (batchLength < BATCH_LENGTH_MIN || sizeBytes > this.options.config.maxMessageBytes + BATCH_OVERHEAD_BYTES) {
      throw this.corrupt(position, position + BATCH_HEADER_BYTES, `batchLength ${batchLength} is outside [${BATCH_LENGTH_MIN}, maxMessageBytes]`);
    }
    if (position + sizeBytes > this.sizeBytes) throw this.corrupt(position, this.sizeBytes, `batch of ${sizeBytes} bytes runs past the segment end ${this.sizeBytes}`);
    if (header[at + 16] !== CURRENT_MAGIC) throw this.corrupt(position, position + sizeBytes, `magic ${header[at + 16]} is not ${CURRENT_MAGIC}`);
    const baseOffset = Number(header.readBigInt64BE(at));
    const lastOffsetDelta = header.readInt32BE(at + 23);
    if (baseOffset <= previousLastOffset || baseOffset < this.baseOffset || lastOffsetDelta < 0) {
      throw this.corrupt(position, position + sizeBytes, `offsets ${baseOffset}+${lastOffsetDelta} do not follow ${previousLastOffset}`);
    }
    return sizeBytes;
  }

  /**
   * Visits batch headers from `position` to the end of the segment (or until `visit` returns
   * false), checking each one's framing. Reads in chunks, not one syscall per batch.
   */
  scan(position: number, visit: (batch: ScannedBatch) => boolean | undefined, chunkBytes = SCAN_CHUNK_BYTES): void {
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(BATCH_HEADER_BYTES, this.sizeBytes - position)));
    let chunkStart = position;
    let chunkLength = 0;
    let previousLastOffset = -1;
    while (position < this.sizeBytes) {
      if (position + BATCH_HEADER_BYTES > chunkStart + chunkLength) {
        chunkStart = position;
        chunkLength = this.log.read(chunk, 0, Math.min(chunk.length, this.sizeBytes - position), position);
        if (chunkLength < BATCH_HEADER_BYTES) throw this.corrupt(position, this.sizeBytes, `${this.sizeBytes - position} bytes left, less than a batch header`);
      }
      const at = position - chunkStart;
      const sizeBytes = this.frameSize(chunk, at, position, previousLastOffset);
      const baseOffset = Number(chunk.readBigInt64BE(at));
      const lastOffset = baseOffset + chunk.readInt32BE(at + 23);
      const maxTimestamp = Number(chunk.readBigInt64BE(at + 35));
      if (visit({ position, sizeBytes, baseOffset, lastOffset, maxTimestamp }) === false) return;
      previousLastOffset = lastOffset;
      position += sizeBytes;
    }
  }

  /** The first batch whose last offset is ≥ `offset`, or undefined. */
  findBatch(offset: number): ScannedBatch | undefined {
    let found: ScannedBatch | undefined;
    // The batch is usually within indexIntervalBytes of the index entry: read small chunks.
    this.scan(
      this.offsetIndex.lookup(offset),
      (batch) => {
        if (batch.lastOffset < offset) return true;
        found = batch;
        return false;
      },
      FIND_CHUNK_BYTES,
    );
    return found;
  }

  /** Recomputes next offset and max timestamp from the last index entry on (clean open, truncation). */
  private loadTail(): void {
    const lastTime = this.timeIndex.lastEntry;
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    this.nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.firstBatchTimestamp = undefined;
    if (this.sizeBytes === 0) return;
    this.scan(0, (batch) => {
      this.firstBatchTimestamp = batch.maxTimestamp;
      return false;
    });
    // Scan from the batch of the time index's last entry or the last offset-index entry, whichever
    // is earlier: the time entry's timestamp covers everything before it (even if a crash left the
    // two indexes with different numbers of entries), the scan covers everything after.
    const timeEntryPosition = lastTime ? this.offsetIndex.lookup(lastTime.offset) : 0;
    const start = Math.min(timeEntryPosition, this.offsetIndex.lastPosition);
    this.scan(start, (batch) => {
      if (batch.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = batch.maxTimestamp;
        this.offsetOfMaxTimestamp = batch.lastOffset;
      }
      this.nextOffset = batch.lastOffset + 1;
      // As if appended now: bytes from the last indexed batch on (Kafka's counter after that entry).
      if (batch.position >= this.offsetIndex.lastPosition) this.bytesSinceLastIndexEntry += batch.sizeBytes;
    });
  }

  // --- recovery ----------------------------------------------------------------------------------

  /**
   * Re-reads every batch: framing, CRC, increasing offsets; rebuilds both indexes; truncates the
   * file at the first bad batch. Returns the number of bytes cut off.
   */
  recover(): number {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = undefined;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const fileSize = this.sizeBytes;
    const validBytes = this.recoverValidPrefix(fileSize);
    if (validBytes < fileSize) this.log.truncate(validBytes);
    this.sizeBytes = validBytes;
    return fileSize - validBytes;
  }

  private recoverValidPrefix(fileSize: number): number {
    const limit = this.options.config.maxMessageBytes + BATCH_OVERHEAD_BYTES;
    let chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(fileSize, BATCH_HEADER_BYTES)));
    let chunkStart = 0;
    let chunkLength = 0;
    let position = 0;
    let previousLastOffset = this.baseOffset - 1;
    while (fileSize - position >= BATCH_HEADER_BYTES) {
      if (position + BATCH_HEADER_BYTES > chunkStart + chunkLength) {
        chunkStart = position;
        chunkLength = this.log.read(chunk, 0, Math.min(chunk.length, fileSize - position), position);
      }
      const batchLength = chunk.readInt32BE(position - chunkStart + 8);
      const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
      if (batchLength < BATCH_LENGTH_MIN || sizeBytes > limit || position + sizeBytes > fileSize) break;
      if (position + sizeBytes > chunkStart + chunkLength) {
        // The batch straddles the chunk: re-read from its start, growing the chunk (bounded by maxMessageBytes).
        if (chunk.length < sizeBytes) chunk = Buffer.allocUnsafe(sizeBytes);
        chunkStart = position;
        chunkLength = this.log.read(chunk, 0, Math.min(chunk.length, fileSize - position), position);
        if (chunkLength < sizeBytes) break;
      }
      const at = position - chunkStart;
      const batch = chunk.subarray(at, at + sizeBytes);
      if (!isBatchCrcValid(batch, 0)) break;
      const header = readBatchHeader(batch, 0);
      if (header.baseOffset <= previousLastOffset || header.lastOffsetDelta < 0 || header.lastOffset - this.baseOffset > 0x7fffffff) break;
      this.noteBatch(position, sizeBytes, header.lastOffset, header.maxTimestamp);
      previousLastOffset = header.lastOffset;
      position += sizeBytes;
    }
    return position;
  }

  // --- reads -------------------------------------------------------------------------------------

  /**
   * Whole batches starting with the one that holds `offset` (or the first after it), up to
   * `maxBytes` (the first batch even if larger, when `minOneBatch`), stopping before any batch
   * whose last offset is ≥ `maxOffset`. Each returned batch is framed and, with `verifyCrc`,
   * CRC-checked: a bad one is a LogCorruptionError naming its byte range. Undefined only when the
   * segment holds no batch at or after `offset` (the caller moves on to the next segment).
   */
  read(offset: number, options: SegmentReadOptions): SegmentReadResult | undefined {
    const { maxBytes, maxOffset, minOneBatch, verifyCrc, into } = options;
    const first = this.findBatch(offset);
    if (!first) return undefined;
    // Found, but over the high watermark or too large: an empty answer, never a later batch.
    if (first.lastOffset >= maxOffset || (first.sizeBytes > maxBytes && !minOneBatch)) return { records: EMPTY, firstOffset: first.baseOffset, nextOffset: first.baseOffset };
    const wanted = Math.max(Math.min(maxBytes, this.sizeBytes - first.position), first.sizeBytes);
    const buffer = into && into.length >= wanted ? into : Buffer.allocUnsafe(wanted);
    const length = this.log.read(buffer, 0, wanted, first.position);
    let at = 0;
    let previousLastOffset = first.baseOffset - 1;
    let nextOffset = first.baseOffset;
    while (length - at >= BATCH_HEADER_BYTES) {
      const position = first.position + at;
      const sizeBytes = this.frameSize(buffer, at, position, previousLastOffset);
      if (at + sizeBytes > length) break;
      const lastOffset = Number(buffer.readBigInt64BE(at)) + buffer.readInt32BE(at + 23);
      if (lastOffset >= maxOffset) break;
      if (verifyCrc && !isBatchCrcValid(buffer.subarray(at, at + sizeBytes), 0)) throw this.corrupt(position, position + sizeBytes, 'CRC-32C mismatch');
      previousLastOffset = lastOffset;
      nextOffset = lastOffset + 1;
      at += sizeBytes;
    }
    return { records: buffer.subarray(0, at), firstOffset: first.baseOffset, nextOffset };
  }

  /** First offset in this segment whose record timestamp is ≥ `timestamp`, or undefined. */
  findOffsetByTimestamp(timestamp: number, startOffset: number): number | undefined {
    const below = this.timeIndex.lookupBelow(timestamp);
    const position = below === undefined ? 0 : this.offsetIndex.lookup(below);
    let candidate: ScannedBatch | undefined;
    this.scan(position, (batch) => {
      if (batch.maxTimestamp < timestamp || batch.lastOffset < startOffset) return true;
      candidate = batch;
      return false;
    });
    if (!candidate) return undefined;
    const bytes = Buffer.allocUnsafe(candidate.sizeBytes);
    this.log.read(bytes, 0, bytes.length, candidate.position);
    let found: number | undefined;
    try {
      for (const record of decodeBatch(bytes, 0).records()) {
        if (record.timestamp >= timestamp && record.offset >= startOffset) {
          found = record.offset;
          break;
        }
      }
    } catch (error) {
      throw this.corrupt(candidate.position, candidate.position + candidate.sizeBytes, (error as Error).message);
    }
    return found ?? candidate.lastOffset;
  }

  /** Reads `length` bytes at `position` (compaction, dump). */
  readBytes(position: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    const read = this.log.read(buffer, 0, length, position);
    return buffer.subarray(0, read);
  }

  // --- truncation, roll, flush, close ------------------------------------------------------------

  /** Drops every batch whose last offset is ≥ `offset`; returns bytes removed. */
  truncateTo(offset: number): number {
    const batch = this.findBatch(offset);
    if (!batch) return 0;
    const removed = this.sizeBytes - batch.position;
    this.log.truncate(batch.position);
    this.sizeBytes = batch.position;
    this.offsetIndex.truncateToPosition(batch.position);
    this.timeIndex.truncateToOffset(batch.baseOffset);
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    this.loadTail();
    return removed;
  }

  /** The segment stops being active: final time-index entry (as Kafka), indexes trimmed. */
  onBecomeInactive(): void {
    if (this.maxTimestamp !== NO_TIMESTAMP) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    this.offsetIndex.trim();
    this.timeIndex.trim();
  }

  /** The segment becomes active: preallocate its indexes, as Kafka does. */
  onBecomeActive(): void {
    this.offsetIndex.preallocate();
    this.timeIndex.preallocate();
  }

  /**
   * fsyncs the log. Index entries are written to the page cache but fsynced only with
   * `syncIndexes` (roll, truncation, close): an index that lost its newest entries in a crash is
   * still correct (lookups scan a little further), and one that lost more fails the sanity check
   * and is rebuilt, so the per-flush cost is one fdatasync, not three.
   */
  flush(syncIndexes = true): void {
    this.log.sync();
    if (syncIndexes) {
      this.offsetIndex.flush();
      this.timeIndex.flush();
    } else {
      this.offsetIndex.writePending();
      this.timeIndex.writePending();
    }
  }

  close(): void {
    this.onBecomeInactive();
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.closeFiles();
  }

  closeFiles(): void {
    this.log.close();
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  /** Closes and unlinks the segment's files. */
  delete(): void {
    this.closeFiles();
    const { fs } = this.options;
    const paths = LogSegment.pathsFor(this.options.dir, this.baseOffset);
    for (const file of [paths.log, paths.index, paths.timeIndex]) if (fs.exists(file)) fs.unlink(file);
  }
}
