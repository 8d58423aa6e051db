/**
 * One log segment: `<base>.log` (RecordBatch v2 back to back, Kafka's bytes), `<base>.index` and
 * `<base>.timeindex` (see index-file.ts), where `<base>` is the segment's base offset zero-padded to
 * 20 digits. A segment knows its size, the next offset after its last batch, its max timestamp and
 * when to add index entries; `PartitionLog` decides offsets, rolls and deletions.
 *
 * Every batch read from the file is framed before it is trusted: its length must be at least a
 * bare header, at most `maxMessageBytes`, and inside the segment, so an absurd length never causes
 * an allocation; its offsets must follow the batch before and stay below the next segment's base.
 * Damage (see damage.ts) costs only the damaged bytes: reads return what precedes it and resume at
 * the next valid batch; `recover()` copies it to `<base>.log.<position>.corrupt` and cuts it out
 * (truncating a damaged tail, rewriting the file through `<base>.log.cleaned` otherwise); index
 * entries that name no batch make the segment rebuild its indexes from the log.
 * Not safe for concurrent use; owned by one `PartitionLog`.
 */
import assert from 'node:assert';
import path from 'node:path';
import {
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  type BatchHeader,
  decodeBatch,
  isBatchCrcValid,
  readBatchHeader,
} from '@gregor/records';
import type { LogConfig } from './config.js';
import {
  type BatchBounds,
  ChunkedReader,
  claimedContents,
  collisionProblem,
  copyAside,
  copyBytes,
  type DamagedRange,
  type FoundBatch,
  headerProblem,
  resyncAfter,
} from './damage.js';
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

function scannedBatch(header: Buffer, position: number, sizeBytes: number): ScannedBatch {
  const baseOffset = Number(header.readBigInt64BE(0));
  return { position, sizeBytes, baseOffset, lastOffset: baseOffset + header.readInt32BE(23), maxTimestamp: Number(header.readBigInt64BE(35)) };
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
  /** Exclusive bound on the offsets this segment may hold: the next segment's base offset (default: none). */
  upperBoundOffset?: number;
  /** Where the segment reports damage it found in its indexes while reading (the log's warning sink). */
  warn?: (code: string, message: string, fields: Record<string, unknown>) => void;
}

/** A damaged range that recovery cut from the segment, and where its bytes were copied. */
export interface DroppedRange extends DamagedRange {
  movedTo: string;
}

/** What opening a segment found and did. */
export interface SegmentOpenResult {
  segment: LogSegment;
  /** Bytes recovery removed from the segment (all of them copied aside first). */
  truncatedBytes: number;
  dropped: DroppedRange[];
  /** Why a segment that was not due for recovery was re-checked (a bad or missing index, a tail that did not parse). */
  recheckReason?: string;
}

/** A bad batch a read found, and where reading can resume (cached per position). */
interface ReadDamage {
  endPosition: number;
  next: FoundBatch | undefined;
  /** Segment size when `next` was searched: a search that found nothing is repeated after appends. */
  searchedSizeBytes: number;
}

/** Damage records remembered per segment (reads at many damaged positions), beyond which the cache restarts. */
const READ_DAMAGE_CACHE_MAX = 1024;

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
  private readonly readDamage = new Map<number, ReadDamage>();
  /** Exclusive bound on this segment's offsets: the next segment's base while there is one. */
  private upperBoundOffset: number;

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
    this.upperBoundOffset = options.upperBoundOffset ?? Number.MAX_SAFE_INTEGER;
  }

  /** What every batch on disk must satisfy besides its own framing; follows config changes (maxMessageBytes). */
  private get bounds(): BatchBounds {
    return {
      segmentBaseOffset: this.baseOffset,
      upperBoundOffset: this.upperBoundOffset,
      batchBytesMax: this.options.config.maxMessageBytes + BATCH_OVERHEAD_BYTES,
    };
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
   * Opens an existing segment. With `recover` (unclean shutdown, past the recovery point), every
   * batch is re-checked and the indexes rebuilt; otherwise only the indexes are sanity-checked and
   * the tail past the last index entry is read, and the segment is recovered only if one of those
   * fails (`recheckReason` says which). `onBatch` sees every valid batch a recovery reads.
   */
  static open(options: SegmentOptions, recover: boolean, onBatch?: (header: BatchHeader) => void): SegmentOpenResult {
    const { fs, config, baseOffset } = options;
    const paths = LogSegment.pathsFor(options.dir, baseOffset);
    const log = fs.openFile(paths.log);
    const limits = { logSizeBytes: log.size() };
    const indexOptions = { baseOffset, maxIndexBytes: config.segmentIndexBytes, limits };
    let recheckReason: string | undefined;
    if (!recover && (!fs.exists(paths.index) || !fs.exists(paths.timeIndex))) recheckReason = 'its .index or .timeindex file is missing';
    let offsetIndex: OffsetIndex | undefined;
    let timeIndex: TimeIndex | undefined;
    if (!recover && recheckReason === undefined) {
      try {
        offsetIndex = OffsetIndex.open(fs, paths.index, indexOptions);
        timeIndex = TimeIndex.open(fs, paths.timeIndex, indexOptions);
      } catch (error) {
        if (!(error instanceof IndexCorruptError)) throw error;
        offsetIndex?.close();
        recheckReason = error.message;
      }
    }
    if (recover || recheckReason !== undefined) {
      offsetIndex = OffsetIndex.open(fs, paths.index, { ...indexOptions, truncate: true });
      timeIndex = TimeIndex.open(fs, paths.timeIndex, { ...indexOptions, truncate: true });
    }
    const segment = new LogSegment(options, log, offsetIndex as OffsetIndex, timeIndex as TimeIndex);
    segment.sizeBytes = limits.logSizeBytes;
    if (recover || recheckReason !== undefined) return { segment, ...segment.recover(onBatch), recheckReason };
    try {
      segment.loadTail();
    } catch (error) {
      // The tail does not parse, or the indexes do not match it, although the log was closed
      // cleanly: re-check the whole segment.
      if (!(error instanceof LogCorruptionError) && !(error instanceof IndexCorruptError)) throw error;
      return { segment, ...segment.recover(onBatch), recheckReason: error.message };
    }
    return { segment, truncatedBytes: 0, dropped: [] };
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

  private corrupt(start: number, end: number, reason: string, resumeOffset?: number): LogCorruptionError {
    return new LogCorruptionError(this.logPath, start, Math.min(end, this.sizeBytes), reason, { resumeOffset });
  }

  /** Checks the framing of a header at `position`; returns its size or throws LogCorruptionError. */
  private frameSize(header: Buffer, at: number, position: number, previousLastOffset: number): number {
    const problem = headerProblem(header, at, position, this.sizeBytes, previousLastOffset, this.bounds);
    if (problem !== undefined) throw this.corrupt(position, position + BATCH_HEADER_BYTES, problem);
    return header.readInt32BE(at + 8) + BATCH_OVERHEAD_BYTES;
  }

  /**
   * Visits batch headers from `position` to the end of the segment (or until `visit` returns
   * false), checking each one's framing. Reads in chunks, not one syscall per batch.
   */
  scan(position: number, visit: (batch: ScannedBatch) => boolean | undefined, chunkBytes = SCAN_CHUNK_BYTES): void {
    const reader = new ChunkedReader(this.log, this.sizeBytes, chunkBytes);
    let previousLastOffset = -1;
    while (position < this.sizeBytes) {
      const header = reader.view(position, BATCH_HEADER_BYTES);
      if (header === undefined) throw this.corrupt(position, this.sizeBytes, `${this.sizeBytes - position} bytes left, less than a batch header`);
      const sizeBytes = this.frameSize(header, 0, position, previousLastOffset);
      const batch = scannedBatch(header, position, sizeBytes);
      if (visit(batch) === false) return;
      previousLastOffset = batch.lastOffset;
      position += sizeBytes;
    }
  }

  /**
   * The first batch whose last offset is ≥ `offset`, or undefined. Starts at the offset index's
   * entry, which must name the batch found there (else the index is rebuilt from the log, with a
   * warning, and the lookup repeated); passes over damaged bytes to the next valid batch, and
   * throws LogCorruptionError only when `offset` lies in the damage.
   */
  findBatch(offset: number): ScannedBatch | undefined {
    try {
      return this.findBatchFrom(offset, true);
    } catch (error) {
      if (!(error instanceof IndexCorruptError)) throw error;
      this.rebuildIndexes(error.message);
      return this.findBatchFrom(offset, false);
    }
  }

  private findBatchFrom(offset: number, checkIndexEntry: boolean): ScannedBatch | undefined {
    const entry = this.offsetIndex.floorEntry(offset);
    let position = entry?.position ?? 0;
    let previousLastOffset = this.baseOffset - 1;
    let previous: { batch: ScannedBatch; previousLastOffset: number } | undefined;
    const bounds = this.readBounds();
    // The batch is usually within indexIntervalBytes of the index entry: read small chunks.
    const reader = new ChunkedReader(this.log, this.sizeBytes, FIND_CHUNK_BYTES);
    while (position < this.sizeBytes) {
      const header = reader.view(position, BATCH_HEADER_BYTES);
      const problem = header === undefined ? `${this.sizeBytes - position} bytes left, less than a batch header` : headerProblem(header, 0, position, this.sizeBytes, previousLastOffset, bounds);
      let batch = header !== undefined && problem === undefined ? scannedBatch(header, position, header.readInt32BE(8) + BATCH_OVERHEAD_BYTES) : undefined;
      const isEntry = entry !== undefined && position === entry.position;
      if (checkIndexEntry && isEntry && batch?.lastOffset !== entry.offset) {
        throw new IndexCorruptError(`index ${this.offsetIndex.path} names offset ${entry.offset} at position ${entry.position}, where the log has ${batch === undefined ? `no valid batch (${problem})` : `the batch ${batch.baseOffset}..${batch.lastOffset}`}`);
      }
      const collision = batch && this.overlapsNext(reader, position, batch.sizeBytes, previousLastOffset, bounds, checkIndexEntry && isEntry);
      // A batch a read found bad is passed over: its header may claim offsets it does not hold.
      if (collision || this.readDamage.has(position)) batch = undefined;
      if (batch === undefined) {
        // A damaged length in a plausible header sends a header-only scan into the middle of the
        // next batch: when the batch before fails its CRC, the damage starts there.
        if (previous !== undefined && !this.isCrcValid(previous.batch)) ({ batch: { position }, previousLastOffset } = previous);
        previous = undefined;
        const damage = this.damageAt(position, previousLastOffset, undefined, bounds);
        if (damage.next === undefined || offset < damage.next.baseOffset) throw this.corrupt(position, damage.endPosition, collision || problem || 'unreadable', damage.next?.baseOffset);
        position = damage.next.position;
        continue;
      }
      if (batch.lastOffset >= offset) return batch;
      previous = { batch, previousLastOffset };
      previousLastOffset = batch.lastOffset;
      position += batch.sizeBytes;
    }
    return undefined;
  }

  /**
   * The bounds of batches a read may return: below the next segment's base, and below this
   * segment's next offset, which appends and the open established (a damaged header may claim more).
   */
  private readBounds(): BatchBounds {
    return { ...this.bounds, upperBoundOffset: Math.min(this.bounds.upperBoundOffset, this.nextOffset) };
  }

  /** Where a bad batch at `position` ends and reading resumes (searched once per position). */
  private damageAt(position: number, previousLastOffset: number, claimedSizeBytes: number | undefined, bounds: BatchBounds): ReadDamage {
    const cached = this.readDamage.get(position);
    if (cached && (cached.next !== undefined || cached.searchedSizeBytes === this.sizeBytes)) return cached;
    if (this.readDamage.size >= READ_DAMAGE_CACHE_MAX) this.readDamage.clear();
    const next = resyncAfter(this.log, position, claimedSizeBytes, this.sizeBytes, previousLastOffset, bounds);
    const damage = { endPosition: next?.position ?? this.sizeBytes, next, searchedSizeBytes: this.sizeBytes };
    this.readDamage.set(position, damage);
    return damage;
  }

  /**
   * Rebuilds both indexes from the log's batch headers, passing over damaged bytes, after an index
   * entry was found not to match the log. The segment's next offset and max timestamp never go
   * back (appends continue from them).
   */
  private rebuildIndexes(reason: string): void {
    const { nextOffset, maxTimestamp, offsetOfMaxTimestamp } = this;
    const bounds = this.readBounds();
    this.resetIndexState();
    const reader = new ChunkedReader(this.log, this.sizeBytes, SCAN_CHUNK_BYTES);
    let previousLastOffset = this.baseOffset - 1;
    for (let position = 0; position < this.sizeBytes; ) {
      const header = reader.view(position, BATCH_HEADER_BYTES);
      const sound = header !== undefined && headerProblem(header, 0, position, this.sizeBytes, previousLastOffset, bounds) === undefined;
      const batch = sound ? scannedBatch(header, position, header.readInt32BE(8) + BATCH_OVERHEAD_BYTES) : undefined;
      // Only CRC-valid batches get index entries: a damaged length must not place the next entry.
      if (batch === undefined || this.overlapsNext(reader, position, batch.sizeBytes, previousLastOffset, bounds) !== undefined || !this.isCrcValid(batch)) {
        const next = this.damageAt(position, previousLastOffset, undefined, bounds).next;
        if (next === undefined) break;
        position = next.position;
        continue;
      }
      this.noteBatch(position, batch.sizeBytes, batch.lastOffset, batch.maxTimestamp);
      previousLastOffset = batch.lastOffset;
      position += batch.sizeBytes;
    }
    this.nextOffset = Math.max(this.nextOffset, nextOffset);
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = offsetOfMaxTimestamp;
    }
    this.options.warn?.('INDEX_REBUILT', `rebuilt the indexes of ${this.logPath} from the log: ${reason}`, { path: this.logPath });
  }

  private isCrcValid(batch: ScannedBatch): boolean {
    const bytes = Buffer.allocUnsafe(batch.sizeBytes);
    return this.log.read(bytes, 0, bytes.length, batch.position) === bytes.length && isBatchCrcValid(bytes, 0);
  }

  private resetIndexState(): void {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = undefined;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    this.readDamage.clear();
  }

  /**
   * Recomputes next offset and max timestamp from the last index entry on (clean open, truncation),
   * checking on the way that the last entry of each index names a batch the log has (IndexCorruptError otherwise).
   */
  private loadTail(): void {
    const lastTime = this.timeIndex.lastEntry;
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    this.nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.firstBatchTimestamp = undefined;
    if (this.sizeBytes === 0) {
      if (lastTime || this.offsetIndex.count > 0) throw new IndexCorruptError(`indexes of ${this.logPath} have entries for an empty log`);
      return;
    }
    this.scan(0, (batch) => {
      this.firstBatchTimestamp = batch.maxTimestamp;
      return false;
    });
    // Scan from the batch of the time index's last entry or the last offset-index entry, whichever
    // is earlier: the time entry's timestamp covers everything before it (even if a crash left the
    // two indexes with different numbers of entries), the scan covers everything after.
    const lastIndexed = this.offsetIndex.floorEntry(Number.MAX_SAFE_INTEGER);
    const timeEntryPosition = lastTime ? this.offsetIndex.lookup(lastTime.offset) : 0;
    const start = Math.min(timeEntryPosition, this.offsetIndex.lastPosition);
    let indexEntrySeen = lastIndexed === undefined;
    let timeEntrySeen = lastTime === undefined;
    // The last segment's tail sets the log end offset, where appends continue: its CRCs are checked
    // too (a few KiB), so a damaged header cannot move the log end.
    const checkCrc = this.upperBoundOffset === Number.MAX_SAFE_INTEGER;
    this.scan(start, (batch) => {
      if (checkCrc && !this.isCrcValid(batch)) throw this.corrupt(batch.position, batch.position + batch.sizeBytes, 'CRC-32C mismatch');
      if (lastIndexed !== undefined && batch.position === lastIndexed.position) indexEntrySeen = batch.lastOffset === lastIndexed.offset;
      // The time entry was written with the max timestamp up to its batch, so that batch is not newer.
      if (lastTime !== undefined && batch.baseOffset <= lastTime.offset && lastTime.offset <= batch.lastOffset) timeEntrySeen = batch.maxTimestamp <= lastTime.timestamp;
      if (batch.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = batch.maxTimestamp;
        this.offsetOfMaxTimestamp = batch.lastOffset;
      }
      this.nextOffset = batch.lastOffset + 1;
      // As if appended now: bytes from the last indexed batch on (Kafka's counter after that entry).
      if (batch.position >= this.offsetIndex.lastPosition) this.bytesSinceLastIndexEntry += batch.sizeBytes;
    });
    if (!indexEntrySeen) throw new IndexCorruptError(`the last entry of ${this.offsetIndex.path} (offset ${lastIndexed?.offset}, position ${lastIndexed?.position}) names no batch of the log`);
    if (!timeEntrySeen) throw new IndexCorruptError(`the last entry of ${this.timeIndex.path} (timestamp ${lastTime?.timestamp}, offset ${lastTime?.offset}) names no batch of the log`);
  }

  // --- recovery ----------------------------------------------------------------------------------

  /**
   * Re-reads every batch (framing, CRC, offsets increasing and within the segment's bounds) and
   * rebuilds both indexes. Each damaged range is copied aside (`<log>.<position>.corrupt`) and then
   * cut out: a damaged tail by truncating the file, damage with valid batches after it by
   * rewriting the file without it (`<base>.log.cleaned`, fsynced, renamed over the log), so every
   * valid batch keeps its offset. A crash before the cut leaves the damage to the next recovery,
   * which copies it to the same name again. Synced before returning.
   */
  recover(onBatch?: (header: BatchHeader) => void): { truncatedBytes: number; dropped: DroppedRange[] } {
    const fileSize = this.sizeBytes;
    const damaged = this.rescan(onBatch);
    if (damaged.length === 0) return { truncatedBytes: 0, dropped: [] };
    const dropped = damaged.map((range) => ({ ...range, movedTo: copyAside(this.options.fs, this.log, this.logPath, range.startPosition, range.endPosition) }));
    if (damaged.length === 1 && damaged[0].endPosition === fileSize) {
      this.log.truncate(damaged[0].startPosition);
      this.log.sync();
      this.sizeBytes = damaged[0].startPosition;
    } else {
      this.rewriteWithout(damaged);
      const left = this.rescan(undefined);
      assert(left.length === 0, `${this.logPath} still damaged after its rewrite`);
    }
    return { truncatedBytes: fileSize - this.sizeBytes, dropped };
  }

  /** One recovery pass over the whole file: indexes rebuilt from the valid batches, damaged ranges returned. */
  private rescan(onBatch: ((header: BatchHeader) => void) | undefined): DamagedRange[] {
    this.resetIndexState();
    const fileSize = this.sizeBytes;
    const reader = new ChunkedReader(this.log, fileSize, SCAN_CHUNK_BYTES);
    const damaged: DamagedRange[] = [];
    let previousLastOffset = this.baseOffset - 1;
    let position = 0;
    while (position < fileSize) {
      const header = reader.view(position, BATCH_HEADER_BYTES);
      let problem = header === undefined ? `${fileSize - position} bytes left, less than a batch header` : headerProblem(header, 0, position, fileSize, previousLastOffset, this.bounds);
      let claimedSizeBytes: number | undefined;
      if (header !== undefined && problem === undefined) {
        const sizeBytes = header.readInt32BE(8) + BATCH_OVERHEAD_BYTES;
        problem = this.overlapsNext(reader, position, sizeBytes, previousLastOffset, this.bounds);
        const batch = reader.view(position, sizeBytes) as Buffer;
        if (problem === undefined && isBatchCrcValid(batch, 0)) {
          const parsed = readBatchHeader(batch, 0);
          this.noteBatch(position, sizeBytes, parsed.lastOffset, parsed.maxTimestamp);
          onBatch?.(parsed);
          previousLastOffset = parsed.lastOffset;
          position += sizeBytes;
          continue;
        }
        problem ??= 'CRC-32C mismatch';
        claimedSizeBytes = sizeBytes;
      }
      const next = resyncAfter(this.log, position, claimedSizeBytes, fileSize, previousLastOffset, this.bounds);
      const range = { startPosition: position, endPosition: next?.position ?? fileSize };
      const claimed = claimedContents(this.log, range, this.bounds);
      damaged.push({ ...range, firstOffset: previousLastOffset + 1, lastOffset: next ? next.baseOffset - 1 : claimed.lastOffset, recordCount: claimed.recordCount, reason: problem ?? 'unreadable' });
      if (next === undefined) break;
      position = next.position;
    }
    return damaged;
  }

  /** The damage `collisionProblem` finds between the batch at `position` and the next header, via `reader`. */
  private overlapsNext(reader: ChunkedReader, position: number, sizeBytes: number, previousLastOffset: number, bounds: BatchBounds, trusted = false): string | undefined {
    const header = Buffer.from(reader.view(position, BATCH_HEADER_BYTES) as Buffer);
    const next = reader.view(position + sizeBytes, BATCH_HEADER_BYTES);
    return collisionProblem(header, 0, next, 0, position + sizeBytes, this.sizeBytes, previousLastOffset, bounds, trusted);
  }

  /** Replaces the log file by a copy without the damaged ranges (atomically: a crash leaves one or the other). */
  private rewriteWithout(damaged: readonly DamagedRange[]): void {
    const { fs } = this.options;
    const cleanedPath = `${this.logPath}${CLEANED_FILE_SUFFIX}`;
    const out = fs.openFile(cleanedPath, { create: true, truncate: true });
    let written = 0;
    try {
      let position = 0;
      for (const range of [...damaged, { startPosition: this.sizeBytes, endPosition: this.sizeBytes }]) {
        written += copyBytes(this.log, position, range.startPosition, out, written);
        position = range.endPosition;
      }
      out.sync();
    } finally {
      out.close();
    }
    this.log.close();
    fs.rename(cleanedPath, this.logPath);
    this.log = fs.openFile(this.logPath);
    this.sizeBytes = written;
  }

  // --- reads -------------------------------------------------------------------------------------

  /**
   * Whole batches starting with the one that holds `offset` (or the first after it), up to
   * `maxBytes` (the first batch even if larger, when `minOneBatch`), stopping before any batch
   * whose last offset is ≥ `maxOffset`. Each returned batch is framed and, with `verifyCrc`,
   * CRC-checked: a bad batch ends the result before it, and is a LogCorruptionError naming its
   * byte range (and where reading can resume) only when it is the first batch to return.
   * Undefined only when the segment holds no batch at or after `offset` (the caller moves on to
   * the next segment).
   */
  read(offset: number, options: SegmentReadOptions): SegmentReadResult | undefined {
    const { maxBytes, maxOffset, minOneBatch, verifyCrc, into } = options;
    const first = this.findBatch(offset);
    if (!first) return undefined;
    // Found, but over the high watermark or too large: an empty answer, never a later batch.
    if (first.lastOffset >= maxOffset || (first.sizeBytes > maxBytes && !minOneBatch)) return { records: EMPTY, firstOffset: first.baseOffset, nextOffset: first.baseOffset };
    const wanted = Math.max(Math.min(maxBytes, this.sizeBytes - first.position), first.sizeBytes);
    // One header more than is returned, when there is one, to check the last batch against the next.
    const toRead = Math.min(wanted + BATCH_HEADER_BYTES, this.sizeBytes - first.position);
    const buffer = into && into.length >= toRead ? into : Buffer.allocUnsafe(toRead);
    const length = this.log.read(buffer, 0, toRead, first.position);
    const limit = Math.min(length, wanted);
    const bounds = this.readBounds();
    let at = 0;
    let previousLastOffset = first.baseOffset - 1;
    let nextOffset = first.baseOffset;
    while (limit - at >= BATCH_HEADER_BYTES) {
      const position = first.position + at;
      const problem = headerProblem(buffer, at, position, this.sizeBytes, previousLastOffset, bounds);
      const sizeBytes = buffer.readInt32BE(at + 8) + BATCH_OVERHEAD_BYTES;
      const whole = problem === undefined && at + sizeBytes <= limit;
      // The first batch was vetted by findBatch; a later one must not collide with the header after it.
      const collision = whole && at > 0 && at + sizeBytes + BATCH_HEADER_BYTES <= length
        ? collisionProblem(buffer, at, buffer, at + sizeBytes, position + sizeBytes, this.sizeBytes, previousLastOffset, bounds)
        : undefined;
      const damaged = problem ?? collision ?? (whole && verifyCrc && !isBatchCrcValid(buffer.subarray(at, at + sizeBytes), 0) ? 'CRC-32C mismatch' : undefined);
      if (damaged !== undefined) {
        // Serve what precedes the damage; report it when nothing precedes it.
        if (at > 0) break;
        const damage = this.damageAt(position, previousLastOffset, problem === undefined ? sizeBytes : undefined, bounds);
        // The damaged header claimed offsets up to `offset`, but valid batches resume at or before it: read from there.
        if (damage.next !== undefined && damage.next.baseOffset <= offset) return this.read(offset, options);
        throw this.corrupt(position, damage.endPosition, damaged, damage.next?.baseOffset);
      }
      if (at + sizeBytes > limit) break;
      const lastOffset = Number(buffer.readBigInt64BE(at)) + buffer.readInt32BE(at + 23);
      if (lastOffset >= maxOffset) break;
      previousLastOffset = lastOffset;
      nextOffset = lastOffset + 1;
      at += sizeBytes;
    }
    return { records: buffer.subarray(0, at), firstOffset: first.baseOffset, nextOffset };
  }

  /**
   * First offset in this segment whose record timestamp is ≥ `timestamp`, or undefined. The time
   * index entry it starts from must name a batch no newer than the entry's timestamp (else the
   * indexes are rebuilt, with a warning, and the lookup repeated).
   */
  findOffsetByTimestamp(timestamp: number, startOffset: number): number | undefined {
    try {
      return this.findOffsetByTimestampFrom(timestamp, startOffset);
    } catch (error) {
      if (!(error instanceof IndexCorruptError)) throw error;
      this.rebuildIndexes(error.message);
      return this.findOffsetByTimestampFrom(timestamp, startOffset);
    }
  }

  private findOffsetByTimestampFrom(timestamp: number, startOffset: number): number | undefined {
    const below = this.timeIndex.entryBelow(timestamp);
    let position = 0;
    if (below !== undefined) {
      const batch = this.findBatch(below.offset);
      if (batch === undefined || batch.baseOffset > below.offset || batch.maxTimestamp > below.timestamp) {
        throw new IndexCorruptError(`index ${this.timeIndex.path} names timestamp ${below.timestamp} at offset ${below.offset}, which the log does not hold with that timestamp`);
      }
      position = batch.position;
    }
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
    this.readDamage.clear();
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

  /**
   * The segment becomes active: preallocate its indexes, as Kafka does. It has no successor now
   * (a truncation may have removed the one it was opened with), so its offsets are unbounded.
   */
  onBecomeActive(): void {
    this.upperBoundOffset = Number.MAX_SAFE_INTEGER;
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
