/**
 * One partition on disk: a directory `<topic>-<partition>` of segments in Kafka's layout, plus its
 * `leader-epoch-checkpoint`. Appends go to the active (last) segment with one positional write;
 * reads return whole batches as file bytes; rolls, truncation, retention, compaction and crash
 * recovery keep the directory a valid Kafka partition at every step.
 *
 * Offsets: the log start offset (first readable offset), the log end offset (LEO, next offset to
 * assign) and the recovery point (every offset below it is fsynced). Damage found on disk never
 * spreads past the damaged bytes and is reported to the injected `WarningSink` (see damage.ts). Not safe for concurrent use:
 * one owner (the broker's partition, or a test) calls it; all I/O is synchronous.
 */
import path from 'node:path';
import {
  type BatchHeader,
  CorruptRecordError,
  isBatchCrcValid,
  patchBaseOffset,
  patchMaxTimestampForLogAppendTime,
  patchPartitionLeaderEpoch,
  readBatchHeader,
} from '@gregor/records';
import assert from 'node:assert';
import { appendChannel, recoverChannel, rollChannel } from './channels.js';
import { CompactionPass, type CompactionStats } from './cleaner.js';
import { type Clock, systemClock } from './clock.js';
import { type LogConfig, resolveLogConfig } from './config.js';
import { moveCheckpointAside, reportDamage, stderrWarningSink, type WarningSink } from './damage.js';
import {
  CheckpointFormatError,
  InvalidRecordError,
  LogClosedError,
  LogCorruptionError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  UnexpectedAppendOffsetError,
} from './errors.js';
import type { FileSystem } from './fs.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from './leader-epoch.js';
import {
  CLEANED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LogSegment,
  type SegmentOpenResult,
  type SegmentOptions,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
} from './segment.js';

/** ListOffsets' special timestamps, accepted by `offsetForTimestamp`. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface PartitionLogOptions {
  fs: FileSystem;
  /** The partition directory, `<dataDir>/<topic>-<partition>`. */
  dir: string;
  config?: Partial<LogConfig>;
  clock?: Clock;
  /** Offset below which everything is known to be fsynced (recovery-point checkpoint). Default 0. */
  recoveryPoint?: number;
  /** The log was closed cleanly (marker present): skip re-checking batches. Default false. */
  hadCleanShutdown?: boolean;
  /** Log start offset from the log-start-offset checkpoint; default the first segment's base. */
  logStartOffset?: number;
  /** Uniform in [0, 1): draws each new segment's roll jitter (segmentJitterMs). Default: no jitter. */
  random?: () => number;
  /** Where damage found on disk is reported (default: stderr); also published on `gregor:log:damage`. */
  logger?: WarningSink;
  /**
   * Called when the recovery point moved in a way a crash must not undo or overlook: after a roll
   * advanced it, after a truncation moved it back. The LogManager checkpoints it then.
   */
  onRecoveryPointMoved?: () => void;
}

export interface AppendOptions {
  /** Leader mode (default): assign offsets from the LEO. Follower mode (false): keep the batches' offsets. */
  assignOffsets?: boolean;
  /** Leader mode: stamp this epoch on every batch and record it in the leader-epoch cache. */
  leaderEpoch?: number;
  /**
   * Check each batch's CRC before writing (default true, as Kafka's broker does). A corrupt batch
   * written to the log would make crash recovery cut the log there, so only a caller that has just
   * encoded or verified the bytes itself should pass false.
   */
  verifyCrc?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** The time written into LogAppendTime batches, or -1 with CreateTime. */
  logAppendTime: number;
  recordCount: number;
}

export interface ReadOptions {
  /** Byte budget of the result (whole batches). Default 1 MiB. */
  maxBytes?: number;
  /** Exclusive upper bound (high watermark); default the LEO. */
  maxOffset?: number;
  /** Return the first batch even when it is larger than maxBytes. Default true. */
  minOneBatch?: boolean;
  /** Check each returned batch's CRC (a bad one is a LogCorruptionError). Default true. */
  verifyCrc?: boolean;
  /**
   * Read into this buffer when it holds the bytes to return, instead of allocating one: the result's
   * `records` is then a view of it, valid until the caller reuses it. For a consumer that decodes
   * and discards each read (a fresh large buffer per read costs page faults).
   */
  into?: Buffer;
}

export interface ReadResult {
  /** Whole batches, file bytes; empty when nothing is readable. */
  records: Buffer;
  /** Base offset of the first returned batch (the requested offset when empty). */
  firstOffset: number;
  /** Offset after the last returned batch (the requested offset when empty). */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

const READ_MAX_BYTES_DEFAULT = 1024 * 1024;
/** Bytes read per step by `replayBatches`. */
const REPLAY_READ_BYTES = 1024 * 1024;
/** Damaged ranges a log remembers having reported from reads (so each is logged once), beyond which it starts over. */
const REPORTED_DAMAGE_MAX = 1024;

export class PartitionLog {
  readonly dir: string;
  readonly config: LogConfig;
  readonly leaderEpochs: LeaderEpochCache;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly random: () => number;
  private segments: LogSegment[] = [];
  private startOffset = 0;
  private recoveryPointOffset = 0;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private closed = false;
  /** Base offset of the first segment no compaction pass has cleaned (Kafka's cleaner checkpoint, in memory). */
  private firstDirtyOffset = 0;
  private nextTombstoneExpiryMs = Number.POSITIVE_INFINITY;
  /** The running compaction pass and the base of the active segment when it started. */
  private pass: { steps: CompactionPass; closed: LogSegment[]; closedUpTo: number } | undefined;
  /** Compaction found damage: no more passes until the log is reopened (Kafka marks the partition uncleanable). */
  private uncleanable = false;
  private readonly logger: WarningSink;
  private readonly onRecoveryPointMoved: (() => void) | undefined;
  /** The leader-epoch checkpoint was unreadable: recovery rebuilds it from every batch. */
  private leaderEpochsLost = false;
  /** Damaged ranges already reported by a read, as `path:startPosition`. */
  private readonly reportedDamage = new Set<string>();

  private constructor(options: PartitionLogOptions) {
    this.fs = options.fs;
    this.dir = options.dir;
    this.config = resolveLogConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? (() => 0);
    this.logger = options.logger ?? stderrWarningSink;
    this.onRecoveryPointMoved = options.onRecoveryPointMoved;
    this.lastFlushMs = this.clock.now();
    this.fs.mkdir(this.dir);
    this.leaderEpochs = this.openLeaderEpochs();
  }

  /** Reports damage (or what was done about it) with this log's directory. */
  private warn(code: string, message: string, fields: Record<string, unknown> = {}): void {
    reportDamage(this.logger, code, message, { dir: this.dir, ...fields });
  }

  /** The leader-epoch cache; an unreadable checkpoint is moved aside and rebuilt by a full recovery, as Kafka. */
  private openLeaderEpochs(): LeaderEpochCache {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE);
    try {
      return LeaderEpochCache.open(this.fs, file);
    } catch (error) {
      if (!(error instanceof CheckpointFormatError)) throw error;
      const movedTo = moveCheckpointAside(this.fs, file);
      this.warn('CHECKPOINT_UNREADABLE', `${error.message}; moved it to ${movedTo}, re-reading every segment to rebuild the leader epochs`, { path: file, movedTo });
      this.leaderEpochsLost = true;
      return LeaderEpochCache.open(this.fs, file);
    }
  }

  static open(options: PartitionLogOptions): PartitionLog {
    const log = new PartitionLog(options);
    log.load(options);
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get recoveryPoint(): number {
    return this.recoveryPointOffset;
  }

  /** Total bytes of all segments' log files. */
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  /** Each segment's base offset, log file size and largest record timestamp (-1 if none), oldest first. */
  segmentSummaries(): { baseOffset: number; sizeBytes: number; maxTimestamp: number }[] {
    return this.segments.map((segment) => ({ baseOffset: segment.baseOffset, sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp }));
  }

  /** The base offset of the segment appends go to (it changes when the log rolls or is truncated). */
  get activeSegmentBaseOffset(): number {
    return this.activeSegment.baseOffset;
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  private segmentOptions(baseOffset: number, upperBoundOffset?: number): SegmentOptions {
    return {
      fs: this.fs, dir: this.dir, baseOffset, config: this.config, nowMs: this.clock.now(), rollJitterMs: this.rollJitterMs(),
      upperBoundOffset, warn: (code, message, fields) => this.warn(code, message, fields),
    };
  }

  /** Kafka's randomSegmentJitter: a whole number of ms in [0, min(segmentJitterMs, segmentMs)). */
  private rollJitterMs(): number {
    const { segmentJitterMs, segmentMs } = this.config;
    return segmentJitterMs === 0 ? 0 : Math.floor(this.random() * Math.min(segmentJitterMs, segmentMs));
  }

  /**
   * Changes settings of the open log (a topic's configs altered): checked as at open, then applied
   * in place, so the segments (which share the config object) see them at once. Rolls, retention,
   * compaction and flushes use the new values from their next run.
   */
  updateConfig(changes: Partial<LogConfig>): void {
    this.ensureOpen();
    Object.assign(this.config, resolveLogConfig({ ...this.config, ...changes }));
  }

  /** Whether `close`, `closeWithoutFlush` or `delete` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(this.dir);
  }

  // --- open and recovery -------------------------------------------------------------------------

  /**
   * Opens the segments. After a clean shutdown nothing is re-read but each segment's index tail;
   * after a crash, the segments past the recovery point are re-checked batch by batch. Damage is
   * cut from the segment it is in (copied aside first, and reported): it never costs the segments
   * after it, and every valid batch stays at its offset.
   */
  private load(options: PartitionLogOptions): void {
    const baseOffsets = this.cleanUpDirectory();
    const recoveryPoint = Math.max(0, options.recoveryPoint ?? 0);
    const recoverAll = this.leaderEpochsLost;
    const onBatch = recoverAll ? (header: BatchHeader) => this.leaderEpochs.assign(header.partitionLeaderEpoch, header.baseOffset) : undefined;
    let segmentsRecovered = 0;
    let truncatedBytes = 0;
    for (let i = 0; i < baseOffsets.length; i++) {
      const nextBase = baseOffsets[i + 1] ?? Number.MAX_SAFE_INTEGER;
      const recover = recoverAll || (options.hadCleanShutdown !== true && nextBase > recoveryPoint);
      const opened = LogSegment.open(this.segmentOptions(baseOffsets[i], baseOffsets[i + 1]), recover, onBatch);
      if (recover || opened.recheckReason !== undefined) segmentsRecovered++;
      this.reportOpened(opened);
      // Each segment's offsets stay below the next one's base (its bound), so segments never overlap.
      assert(i === 0 || opened.segment.baseOffset >= this.segments[i - 1].nextOffset, `segment ${opened.segment.logPath} overlaps its predecessor`);
      this.segments.push(opened.segment);
      truncatedBytes += opened.truncatedBytes;
    }
    if (this.segments.length === 0) this.segments.push(LogSegment.create(this.segmentOptions(options.logStartOffset ?? 0)));
    this.activeSegment.onBecomeActive();
    this.startOffset = this.initialLogStartOffset(options.logStartOffset);
    this.reportMissingOffsets(recoveryPoint);
    if (segmentsRecovered > 0) {
      // Recovered bytes came from the page cache or disk; sync them so the recovery point is true.
      for (const segment of this.segments) if (segment.nextOffset > recoveryPoint) segment.flush();
    }
    this.recoveryPointOffset = this.logEndOffset;
    this.leaderEpochs.truncateFromEnd(this.logEndOffset);
    this.leaderEpochs.truncateFromStart(this.startOffset);
    if (segmentsRecovered > 0 && recoverChannel.hasSubscribers) {
      recoverChannel.publish({ dir: this.dir, segmentsRecovered, truncatedBytes, logEndOffset: this.logEndOffset });
    }
  }

  private reportOpened(opened: SegmentOpenResult): void {
    const file = opened.segment.logPath;
    if (opened.recheckReason !== undefined) {
      this.warn('SEGMENT_RECHECKED', `re-checked ${file} batch by batch and rebuilt its indexes: ${opened.recheckReason}`, { path: file });
    }
    for (const range of opened.dropped) {
      const offsets = range.lastOffset >= range.firstOffset ? `offsets ${range.firstOffset}..${range.lastOffset}` : `offsets from ${range.firstOffset}`;
      this.warn(
        'DAMAGE_MOVED_ASIDE',
        `moved bytes [${range.startPosition}, ${range.endPosition}) of ${file} aside to ${range.movedTo} (${offsets}, ${range.recordCount} records by their headers): ${range.reason}`,
        { path: file, startPosition: range.startPosition, endPosition: range.endPosition, firstOffset: range.firstOffset, lastOffset: range.lastOffset, recordCount: range.recordCount, movedTo: range.movedTo, reason: range.reason },
      );
    }
  }

  /**
   * Offsets that should be on disk but are not, found from what is known without reading: a
   * closed segment of a non-compacted log ending before the next one starts (only compaction and
   * damage leave gaps), and a log ending below its checkpointed recovery point (fsynced data gone).
   */
  private reportMissingOffsets(recoveryPoint: number): void {
    if (!this.config.cleanupPolicy.includes('compact')) {
      for (let i = 0; i + 1 < this.segments.length; i++) {
        const { nextOffset, logPath } = this.segments[i];
        const nextBase = this.segments[i + 1].baseOffset;
        if (nextOffset < nextBase) this.warn('OFFSETS_MISSING', `${logPath} ends at offset ${nextOffset} but the next segment starts at ${nextBase}: offsets ${nextOffset}..${nextBase - 1} are not on disk`, { path: logPath, firstOffset: nextOffset, lastOffset: nextBase - 1 });
      }
    }
    if (this.logEndOffset < recoveryPoint) {
      this.warn('OFFSETS_MISSING', `the log ends at offset ${this.logEndOffset} but offsets up to ${recoveryPoint - 1} were flushed (recovery-point checkpoint): offsets ${this.logEndOffset}..${recoveryPoint - 1} are not on disk`, { firstOffset: this.logEndOffset, lastOffset: recoveryPoint - 1 });
    }
  }

  /**
   * The log start offset: the checkpointed one, at least the first segment's base. One beyond the
   * log end offset (a lost tail, or a damaged checkpoint) would hide every record: Kafka then
   * deletes the whole log; we keep the data readable from the first segment and say so.
   */
  private initialLogStartOffset(checkpointed: number | undefined): number {
    const first = this.segments[0].baseOffset;
    if (checkpointed === undefined || checkpointed <= first) return first;
    if (checkpointed > this.logEndOffset) {
      this.warn('LOG_START_BEYOND_END', `the checkpointed log start offset ${checkpointed} is beyond the log end offset ${this.logEndOffset}; keeping the data from offset ${first}`, { logStartOffset: checkpointed, logEndOffset: this.logEndOffset });
      return first;
    }
    return checkpointed;
  }

  /**
   * Finishes or discards interrupted work found in the directory, then returns the base offsets of
   * the segments: `.cleaned` files (compaction not committed) are deleted; a `.log.swap` (committed
   * compaction) replaces its `.log` and that segment's indexes are rebuilt; stray indexes without a
   * log are deleted.
   */
  private cleanUpDirectory(): number[] {
    const names = this.fs.readdir(this.dir);
    const join = (name: string) => path.join(this.dir, name);
    for (const name of names) {
      if (name.endsWith(CLEANED_FILE_SUFFIX) || name.endsWith('.deleted') || name.endsWith('.tmp')) this.fs.unlink(join(name));
    }
    for (const name of names) {
      if (!name.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) continue;
      const base = name.slice(0, -(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX).length);
      for (const suffix of [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) if (this.fs.exists(join(base + suffix))) this.fs.unlink(join(base + suffix));
      this.fs.rename(join(name), join(base + LOG_FILE_SUFFIX));
    }
    const remaining = this.fs.readdir(this.dir);
    const logs = new Set(remaining.filter((name) => /^\d{20}\.log$/.test(name)).map((name) => name.slice(0, 20)));
    for (const name of remaining) {
      const match = /^(\d{20})\.(index|timeindex)$/.exec(name);
      if (match && !logs.has(match[1])) this.fs.unlink(join(name));
    }
    return [...logs].map(Number).sort((a, b) => a - b);
  }

  // --- append ------------------------------------------------------------------------------------

  /**
   * Appends one or more whole batches. Leader mode patches each batch's baseOffset (the CRC does
   * not cover it) and, with `leaderEpoch`, its partitionLeaderEpoch; follower mode keeps the
   * batches' offsets and requires them to increase from the LEO. One positional write.
   */
  append(batches: Buffer, options: AppendOptions = {}): AppendResult {
    this.ensureOpen();
    const assignOffsets = options.assignOffsets !== false;
    const headers = this.validateBatches(batches, assignOffsets, options.verifyCrc !== false);
    const nowMs = this.clock.now();
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime' ? nowMs : -1;
    if (assignOffsets) this.assignOffsets(batches, headers, options.leaderEpoch, logAppendTime);
    else this.checkFollowerOffsets(headers);
    const first = headers[0];
    const last = headers[headers.length - 1];
    let maxTimestamp = -1;
    let recordCount = 0;
    for (const header of headers) {
      maxTimestamp = Math.max(maxTimestamp, header.maxTimestamp);
      recordCount += header.recordCount;
    }
    if (this.activeSegment.shouldRoll(batches.length, last.lastOffset, maxTimestamp, nowMs)) this.roll(first.baseOffset);
    this.activeSegment.append(batches, headers);
    if (!assignOffsets) for (const header of headers) this.leaderEpochs.assign(header.partitionLeaderEpoch, header.baseOffset);
    if (assignOffsets && options.leaderEpoch !== undefined) this.leaderEpochs.assign(options.leaderEpoch, first.baseOffset);
    this.unflushedMessages += recordCount;
    if (this.unflushedMessages >= this.config.flushMessages) this.flush();
    const result = { baseOffset: first.baseOffset, lastOffset: last.lastOffset, maxTimestamp, logAppendTime, recordCount };
    if (appendChannel.hasSubscribers) appendChannel.publish({ dir: this.dir, baseOffset: first.baseOffset, lastOffset: last.lastOffset, sizeBytes: batches.length, recordCount });
    return result;
  }

  /** Frames every batch (length inside the buffer, magic 2, size limit, CRC) and returns the headers. */
  private validateBatches(batches: Buffer, assignOffsets: boolean, verifyCrc: boolean): BatchHeader[] {
    if (batches.length === 0) throw new InvalidRecordError('append of an empty record set');
    const headers: BatchHeader[] = [];
    let position = 0;
    while (position < batches.length) {
      let header: BatchHeader;
      try {
        header = readBatchHeader(batches, position);
      } catch (error) {
        if (error instanceof CorruptRecordError) throw new InvalidRecordError(`batch at ${position}: ${error.message}`);
        throw error;
      }
      if (header.sizeBytes > this.config.maxMessageBytes) throw new RecordTooLargeError(header.sizeBytes, this.config.maxMessageBytes);
      if (position + header.sizeBytes > batches.length) throw new InvalidRecordError(`batch at ${position} declares ${header.sizeBytes} bytes, ${batches.length - position} present`);
      if (verifyCrc && !isBatchCrcValid(batches, position)) throw new InvalidRecordError(`batch at ${position} fails its CRC check`);
      if (header.lastOffsetDelta < 0 || header.recordCount < 0 || (assignOffsets && header.lastOffsetDelta !== header.recordCount - 1)) {
        throw new InvalidRecordError(`batch at ${position} has lastOffsetDelta ${header.lastOffsetDelta} for ${header.recordCount} records`);
      }
      headers.push(header);
      position += header.sizeBytes;
    }
    return headers;
  }

  private assignOffsets(batches: Buffer, headers: BatchHeader[], leaderEpoch: number | undefined, logAppendTime: number): void {
    let nextOffset = this.logEndOffset;
    let position = 0;
    for (const header of headers) {
      patchBaseOffset(batches, position, nextOffset);
      header.baseOffset = nextOffset;
      header.lastOffset = nextOffset + header.lastOffsetDelta;
      if (leaderEpoch !== undefined) {
        patchPartitionLeaderEpoch(batches, position, leaderEpoch);
        header.partitionLeaderEpoch = leaderEpoch;
      }
      if (logAppendTime >= 0) {
        patchMaxTimestampForLogAppendTime(batches, position, logAppendTime);
        header.maxTimestamp = logAppendTime;
      }
      nextOffset = header.lastOffset + 1;
      position += header.sizeBytes;
    }
  }

  private checkFollowerOffsets(headers: BatchHeader[]): void {
    let expectedMin = this.logEndOffset;
    for (const header of headers) {
      if (header.baseOffset < expectedMin) throw new UnexpectedAppendOffsetError(header.baseOffset, expectedMin);
      expectedMin = header.lastOffset + 1;
    }
  }

  // --- roll and flush ----------------------------------------------------------------------------

  /** Closes the active segment for appends and starts a new one at the LEO (or `baseOffset`, if higher). */
  roll(baseOffset = this.logEndOffset): void {
    this.ensureOpen();
    const active = this.activeSegment;
    const newBase = Math.max(baseOffset, this.logEndOffset);
    if (active.isEmpty && active.baseOffset === newBase) return;
    active.onBecomeInactive();
    // The outgoing segment is fsynced now (Kafka schedules the same flush right after a roll): a
    // closed segment is then always whole on disk, so a crash can only lose the active tail and
    // never leave a gap between segments. One fsync per segment is cheap.
    if (!active.isEmpty && active.nextOffset > this.recoveryPointOffset) {
      for (const segment of this.segments) if (segment.nextOffset > this.recoveryPointOffset) segment.flush();
      this.recoveryPointOffset = active.nextOffset;
      this.unflushedMessages = 0;
    }
    if (active.isEmpty) {
      // An empty active segment is replaced rather than left as a zero-length closed segment.
      active.delete();
      this.segments.pop();
    }
    const segment = LogSegment.create(this.segmentOptions(newBase));
    segment.onBecomeActive();
    this.segments.push(segment);
    if (rollChannel.hasSubscribers) rollChannel.publish({ dir: this.dir, baseOffset: newBase });
    this.onRecoveryPointMoved?.();
  }

  /** fsyncs every segment holding offsets at or above the recovery point; the recovery point becomes the LEO. */
  flush(): void {
    this.ensureOpen();
    for (let i = 0; i < this.segments.length; i++) {
      const end = this.segments[i + 1]?.baseOffset ?? Number.MAX_SAFE_INTEGER;
      if (end > this.recoveryPointOffset) this.segments[i].flush(false);
    }
    this.recoveryPointOffset = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = this.clock.now();
  }

  /** Flushes when appends have waited `flushMs` (called by the LogManager's scheduler). */
  maybeFlushByTime(): boolean {
    if (this.unflushedMessages === 0 || this.clock.now() - this.lastFlushMs < this.config.flushMs) return false;
    this.flush();
    return true;
  }

  get unflushedMessageCount(): number {
    return this.unflushedMessages;
  }

  // --- reads -------------------------------------------------------------------------------------

  /** Index of the segment whose range holds `offset` (last with baseOffset ≤ offset). */
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.segments[middle].baseOffset <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /**
   * Whole batches from the one holding `offset`, within one segment, as Kafka's fetch. Offsets
   * outside [logStartOffset, logEndOffset] are OffsetOutOfRangeError; the LEO reads empty.
   */
  read(offset: number, options: ReadOptions = {}): ReadResult {
    this.ensureOpen();
    const logEndOffset = this.logEndOffset;
    if (offset < this.startOffset || offset > logEndOffset) throw new OffsetOutOfRangeError(offset, this.startOffset, logEndOffset);
    const maxOffset = Math.min(options.maxOffset ?? logEndOffset, logEndOffset);
    const maxBytes = options.maxBytes ?? READ_MAX_BYTES_DEFAULT;
    const base = { logStartOffset: this.startOffset, logEndOffset };
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && offset < maxOffset; i++) {
      const result = this.reportingDamage(i, () => this.segments[i].read(offset, { maxBytes, maxOffset, minOneBatch: options.minOneBatch !== false, verifyCrc: options.verifyCrc !== false, into: options.into }));
      if (result) return result.records.length > 0 ? { ...result, ...base } : { records: result.records, firstOffset: offset, nextOffset: offset, ...base };
    }
    return { records: Buffer.alloc(0), firstOffset: offset, nextOffset: offset, ...base };
  }

  /**
   * Runs a read of segment `index`; a LogCorruptionError it throws gets its resume offset (the
   * next segment's base or the LEO when the segment has nothing valid after the damage) and is
   * logged the first time its range is seen, then rethrown.
   */
  private reportingDamage<T>(index: number, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof LogCorruptionError)) throw error;
      error.resumeOffset ??= this.segments[index + 1]?.baseOffset ?? this.logEndOffset;
      const key = `${error.path}:${error.startPosition}`;
      if (!this.reportedDamage.has(key)) {
        if (this.reportedDamage.size >= REPORTED_DAMAGE_MAX) this.reportedDamage.clear();
        this.reportedDamage.add(key);
        this.warn('CORRUPT_BATCH_READ', `${error.message}; reads stop before it, and resume at offset ${error.resumeOffset}`, {
          path: error.path, startPosition: error.startPosition, endPosition: error.endPosition, resumeOffset: error.resumeOffset,
        });
      }
      throw error;
    }
  }

  /**
   * Reads every batch from `fromOffset` (at least the log start) up to `toOffset` (exclusive) in
   * order, for replays at open (group offsets, producer state): `visit` gets whole batches, a
   * view valid during the call. Damage is passed over: `onDamage` gets each LogCorruptionError
   * (already logged by the log) before the replay resumes after it.
   */
  replayBatches(fromOffset: number, toOffset: number, visit: (records: Buffer) => void, onDamage: (error: LogCorruptionError) => void = () => {}): void {
    let offset = fromOffset;
    while (offset < toOffset) offset = this.replayChunk(offset, toOffset, Number.POSITIVE_INFINITY, visit, onDamage);
  }

  /**
   * One chunk of a replay, as `replayBatches` reads it: the batches from `fromOffset` on that fit
   * in `maxBytes` (at least one batch), up to `toOffset`. Returns the offset the next chunk starts
   * at (`toOffset` or more when the replay is done), so a long replay can let the event loop run
   * between chunks (the group coordinator's load of `__consumer_offsets`).
   */
  replayChunk(fromOffset: number, toOffset: number, maxBytes: number, visit: (records: Buffer) => void, onDamage: (error: LogCorruptionError) => void = () => {}): number {
    let offset = Math.max(fromOffset, this.startOffset);
    let bytes = 0;
    while (offset < toOffset && bytes < maxBytes) {
      let read: ReadResult;
      try {
        read = this.read(offset, { maxBytes: Math.max(1, Math.min(REPLAY_READ_BYTES, maxBytes - bytes)), maxOffset: toOffset, minOneBatch: true });
      } catch (error) {
        if (!(error instanceof LogCorruptionError) || error.resumeOffset === undefined || error.resumeOffset <= offset) throw error;
        onDamage(error);
        offset = error.resumeOffset;
        continue;
      }
      if (read.records.length === 0) return toOffset;
      visit(read.records);
      bytes += read.records.length;
      offset = read.nextOffset;
    }
    return offset;
  }

  /**
   * First offset whose record timestamp is ≥ `timestamp` (time index, then a scan), or undefined
   * when every record is older. `EARLIEST_TIMESTAMP` (-2) and `LATEST_TIMESTAMP` (-1) give the log
   * start and end offsets, as ListOffsets.
   */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.ensureOpen();
    if (timestamp === EARLIEST_TIMESTAMP) return this.startOffset;
    if (timestamp === LATEST_TIMESTAMP) return this.logEndOffset;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i];
      if (segment.maxTimestamp < timestamp || segment.nextOffset <= this.startOffset) continue;
      const found = this.reportingDamage(i, () => segment.findOffsetByTimestamp(timestamp, this.startOffset));
      if (found !== undefined) return Math.max(found, this.startOffset);
    }
    return undefined;
  }

  // --- truncation and deletion -------------------------------------------------------------------

  /**
   * Moves the log start offset up to `offset` (DeleteRecords) and deletes closed segments wholly
   * below it. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureOpen();
    if (offset > this.logEndOffset || offset < 0) throw new OffsetOutOfRangeError(offset, this.startOffset, this.logEndOffset);
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    this.leaderEpochs.truncateFromStart(offset);
    this.deleteOldestWhile((_segment, next) => next.baseOffset <= this.startOffset);
    return this.startOffset;
  }

  /**
   * Removes every batch holding offsets ≥ `offset` (a follower's divergent tail): whole later
   * segments, then bytes of the segment holding it; its indexes follow. The LEO becomes `offset`
   * (or the start of the batch holding it). Returns whether anything was removed.
   */
  truncateTo(offset: number): boolean {
    this.ensureOpen();
    if (offset >= this.logEndOffset) {
      // No record to cut, but an epoch may start at the log end with nothing written in it (a
      // leader that failed before its first append): drop it as Kafka does, or a follower asking
      // OffsetForLeaderEpoch with that epoch gets the same answer forever.
      this.leaderEpochs.truncateFromEnd(this.logEndOffset);
      return false;
    }
    if (offset <= this.segments[0].baseOffset || offset < this.startOffset) {
      this.truncateFullyAndStartAt(offset);
      return true;
    }
    this.abortCompaction();
    const wasActive = this.activeSegment;
    while (this.activeSegment.baseOffset >= offset) this.segments.pop()?.delete();
    const active = this.activeSegment;
    active.truncateTo(offset);
    // Truncation is made durable at once: a crash must not bring back the removed tail.
    active.flush();
    if (active !== wasActive) active.onBecomeActive();
    if (this.logEndOffset < this.startOffset) {
      // The cut fell inside the batch holding the log start: nothing readable is left.
      this.truncateFullyAndStartAt(this.startOffset);
      return true;
    }
    this.leaderEpochs.truncateFromEnd(this.logEndOffset);
    this.recoveryPointOffset = Math.min(this.recoveryPointOffset, this.logEndOffset);
    this.firstDirtyOffset = 0;
    this.onRecoveryPointMoved?.();
    return true;
  }

  /** Deletes every segment and starts empty at `offset` (log start = LEO = `offset`). */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOpen();
    this.abortCompaction();
    while (this.segments.length > 0) this.segments.pop()?.delete();
    const segment = LogSegment.create(this.segmentOptions(offset));
    segment.onBecomeActive();
    this.segments.push(segment);
    this.startOffset = offset;
    this.recoveryPointOffset = offset;
    this.unflushedMessages = 0;
    this.firstDirtyOffset = 0;
    this.leaderEpochs.clear();
    this.onRecoveryPointMoved?.();
  }

  /** Deletes closed segments from the oldest while `predicate(segment, nextSegment)` holds. */
  private deleteOldestWhile(predicate: (segment: LogSegment, next: LogSegment) => boolean): number {
    let deleted = 0;
    while (this.segments.length > 1 && predicate(this.segments[0], this.segments[1])) {
      // A pass must not read or swap a segment that is gone.
      if (deleted === 0) this.abortCompaction();
      this.segments.shift()?.delete();
      deleted++;
    }
    if (deleted > 0 && this.segments[0].baseOffset > this.startOffset) {
      this.startOffset = this.segments[0].baseOffset;
      this.leaderEpochs.truncateFromStart(this.startOffset);
    }
    return deleted;
  }

  /**
   * Retention: deletes closed segments (never the active one), oldest first, whose newest
   * timestamp is older than `retentionMs`, while the log is over `retentionBytes`, and those wholly
   * below the log start offset. Returns the number of segments deleted.
   */
  applyRetention(): number {
    this.ensureOpen();
    let deleted = this.deleteOldestWhile((_segment, next) => next.baseOffset <= this.startOffset);
    if (!this.config.cleanupPolicy.includes('delete')) return deleted;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      const cutoffMs = this.clock.now() - retentionMs;
      deleted += this.deleteOldestWhile((segment) => segment.maxTimestamp < cutoffMs);
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeBytes - retentionBytes;
      deleted += this.deleteOldestWhile((segment) => {
        if (excess - segment.sizeBytes < 0) return false;
        excess -= segment.sizeBytes;
        return true;
      });
    }
    return deleted;
  }

  /**
   * Compaction (cleanup policy 'compact'): one whole pass now, rewriting closed segments keeping
   * the latest record per key and dropping tombstones older than `deleteRetentionMs`; offsets are
   * preserved. Finishes a pass already running (see `compactionStep`). See cleaner.ts.
   */
  compact(): CompactionStats {
    for (;;) {
      const stats = this.compactionStep();
      if (stats) return stats;
    }
  }

  /** Whether a compaction pass is running (started by `compactionStep`, not yet finished or aborted). */
  get compactionInProgress(): boolean {
    return this.pass !== undefined;
  }

  /**
   * One bounded step of compaction (at most about `compactionStepBytesMax` read and rewritten),
   * starting a pass when none is running. Returns the pass's stats when it has finished (at once
   * when there is nothing to do), undefined when more steps remain. Appends, reads, rolls and
   * flushes may run between steps; retention, record deletion, truncation and close abort the pass.
   */
  compactionStep(): CompactionStats | undefined {
    this.ensureOpen();
    if (!this.pass && !this.startCompaction()) return { segmentsRewritten: 0, recordsRemoved: 0 };
    const pass = this.pass as NonNullable<typeof this.pass>;
    try {
      if (!pass.steps.step()) return undefined;
    } catch (error) {
      this.abortCompaction();
      if (!(error instanceof LogCorruptionError)) throw error;
      // Damage is not copied into a cleaned segment, nor retried every backoff: the log stays as it
      // is, readable around the damage, until it is reopened (Kafka's uncleanable partitions).
      this.uncleanable = true;
      this.warn('COMPACTION_STOPPED', `compaction of ${this.dir} stopped until the log is reopened: ${error.message}`, { path: error.path });
      return { segmentsRewritten: 0, recordsRemoved: 0 };
    }
    this.pass = undefined;
    const { stats } = pass.steps;
    // A pass cut short by compactionKeysMax continues from where its key map stopped.
    const cleaned = stats.segmentsCleaned ?? pass.closed.length;
    this.firstDirtyOffset = cleaned < pass.closed.length ? pass.closed[cleaned].baseOffset : pass.closedUpTo;
    this.nextTombstoneExpiryMs = stats.nextTombstoneExpiryMs ?? Number.POSITIVE_INFINITY;
    return stats;
  }

  /** Stops a running pass, deleting its unfinished `.cleaned` files; the next pass starts over. */
  abortCompaction(): void {
    const pass = this.pass;
    this.pass = undefined;
    pass?.steps.abort();
  }

  /**
   * Kafka's firstUncleanableDirtyOffset: compaction stops at the active segment and at the first
   * dirty segment holding a record younger than min.compaction.lag.ms.
   */
  private cleanableEnd(nowMs: number): number {
    const { minCompactionLagMs } = this.config;
    if (minCompactionLagMs > 0) {
      for (const segment of this.segments.slice(0, -1)) {
        if (segment.baseOffset >= this.firstDirtyOffset && segment.maxTimestamp > nowMs - minCompactionLagMs) return segment.baseOffset;
      }
    }
    return this.activeSegment.baseOffset;
  }

  /**
   * Whether the scheduled compaction should take this log now (Kafka's LogCleanerManager choice):
   * the uncompacted share of the compactable bytes is above min.cleanable.dirty.ratio, or the
   * oldest uncompacted batch is older than max.compaction.lag.ms, or a kept tombstone has expired.
   */
  isCompactionDue(): boolean {
    if (!this.config.cleanupPolicy.includes('compact') || this.segments.length < 2) return false;
    const nowMs = this.clock.now();
    if (nowMs >= this.nextTombstoneExpiryMs) return true;
    const end = this.cleanableEnd(nowMs);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let oldestDirtyMs = Number.POSITIVE_INFINITY;
    for (const segment of this.segments) {
      if (segment.baseOffset >= end) break;
      if (segment.baseOffset < this.firstDirtyOffset) {
        cleanBytes += segment.sizeBytes;
        continue;
      }
      dirtyBytes += segment.sizeBytes;
      if (segment.firstBatchTimestamp !== undefined && segment.firstBatchTimestamp > 0) oldestDirtyMs = Math.min(oldestDirtyMs, segment.firstBatchTimestamp);
    }
    if (dirtyBytes === 0) return false;
    if (oldestDirtyMs < nowMs - this.config.maxCompactionLagMs) return true;
    return dirtyBytes / (cleanBytes + dirtyBytes) > this.config.minCleanableDirtyRatio;
  }

  /** Starts a pass unless there is nothing to clean. */
  private startCompaction(): boolean {
    if (!this.config.cleanupPolicy.includes('compact') || this.segments.length < 2 || this.uncleanable) return false;
    // Nothing to do unless a segment was closed since the last pass or a kept tombstone has expired
    // (Kafka tracks the same with its cleaner checkpoint and dirty ratio).
    const nowMs = this.clock.now();
    const closedUpTo = this.cleanableEnd(nowMs);
    if (this.firstDirtyOffset >= closedUpTo && nowMs < this.nextTombstoneExpiryMs) return false;
    const closed = this.segments.filter((segment) => segment.baseOffset < closedUpTo);
    if (closed.length === 0) return false;
    const steps = new CompactionPass({
      fs: this.fs,
      dir: this.dir,
      config: this.config,
      nowMs,
      segments: closed,
      firstDirtyOffset: this.firstDirtyOffset,
      openSegment: (baseOffset) => LogSegment.open(this.segmentOptions(baseOffset), false).segment,
      replaceSegment: (old, cleaned) => {
        // Always found: whatever removes a closed segment aborts the pass first.
        const index = this.segments.indexOf(old);
        if (index >= 0) this.segments[index] = cleaned;
        else cleaned.closeFiles();
      },
    });
    this.pass = { steps, closed, closedUpTo };
    return true;
  }

  /** Flushes and closes every segment (indexes trimmed). The log cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.abortCompaction();
    this.flush();
    for (const segment of this.segments) segment.close();
    this.closed = true;
  }

  /** Closes file handles without flushing (tests of crashes, broker shutdown after a disk error). */
  closeWithoutFlush(): void {
    if (this.closed) return;
    this.abortCompaction();
    for (const segment of this.segments) segment.closeFiles();
    this.closed = true;
  }

  /** Closes and removes the partition directory. */
  delete(): void {
    this.closeWithoutFlush();
    this.fs.rmdir(this.dir);
  }
}
