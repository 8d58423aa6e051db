/**
 * One partition as its leader sees it (Kafka's Partition): the log, the log start offset, log end
 * offset (LEO) and high watermark (HW), the leader epoch, the replicas and the in-sync replicas
 * (ISR), and the idempotent producer state with its `<offset>.snapshot` files. With one broker the
 * ISR is this broker alone, so the HW follows the LEO at once; the state machine keeps Kafka's
 * names (maybeIncrementHighWatermark, maybeShrinkIsr) so replication can extend it.
 * Single-threaded: the broker's handlers call it from the event loop.
 */
import assert from 'node:assert';
import path from 'node:path';
import { ErrorCode } from '@gregor/protocol';
import { forEachBatch, readBatchHeader, RECORDS_OFFSET, RecordsError, type BatchHeader } from '@gregor/records';
import { InvalidRecordError, LogError, reportDamage, stderrWarningSink, type Clock, type FileSystem, type PartitionLog, type WarningSink } from '@gregor/log';
import { ProducerStateManager, type BatchMetadata } from './producer-state.js';
import { validateProducedRecords } from './records-validation.js';
import { timestampProblem, type TimestampBounds } from './timestamp-validation.js';

export const SNAPSHOT_SUFFIX = '.snapshot';

export interface PartitionOptions {
  topic: string;
  partitionIndex: number;
  log: PartitionLog;
  fs: FileSystem;
  /** The partition's directory, where the producer-state snapshots live beside the segments. */
  dir: string;
  nodeId: number;
  leaderEpoch: number;
  producerBatchesRetained: number;
  producerSnapshotsRetained: number;
  /** `producer.id.expiration.ms`: producers in a snapshot older than this are not loaded. */
  producerIdExpirationMs: number;
  /** The broker's clock: when a producer was last seen, for expiration. */
  clock: Clock;
  /** Where damaged producer-state snapshots and log damage met while replaying are reported (default: stderr). */
  logger?: WarningSink;
}

export interface AppendSettings {
  requiredAcks: number;
  maxMessageBytes: number;
  minInsyncReplicas: number;
  /** Limit on a compressed batch's records once decompressed for validation. */
  decompressedBytesMax: number;
  /** CreateTime topics with a finite message.timestamp.before/after.max.ms: the bounds to check records against. */
  timestampBounds?: TimestampBounds;
  /** The records' CRCs were computed in this process just before (RequestContext.recordsBuiltByProducer): not checked again. */
  crcsChecked?: boolean;
}

export type AppendOutcome =
  | { errorCode: 0; baseOffset: number; lastOffset: number; logAppendTimeMs: number; duplicate: boolean }
  | { errorCode: number; message: string; batchIndex: number };

export interface ReadResult {
  errorCode: number;
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

type HighWatermarkWaiter = { offset: number; resolve: () => void };

export class Partition {
  readonly topic: string;
  readonly partitionIndex: number;
  readonly log: PartitionLog;
  readonly producerState: ProducerStateManager;
  leaderEpoch: number;
  /** Replica ids (this broker only, until replication). */
  replicas: number[];
  /** In-sync replica ids. */
  isr: number[];
  highWatermark = 0;
  private readonly fs: FileSystem;
  private readonly dir: string;
  private readonly snapshotsRetained: number;
  private readonly clock: Clock;
  private readonly producerIdExpirationMs: number;
  private highWatermarkWaiters: HighWatermarkWaiter[] = [];
  /** Each follower's last fetch offset and when it last reached the leader's LEO. */
  private readonly followers = new Map<number, { logEndOffset: number; lastCaughtUpTimeMs: number }>();
  private readonly nodeId: number;
  private readonly appendListeners = new Set<() => void>();
  private readonly logger: WarningSink;

  constructor(options: PartitionOptions) {
    this.topic = options.topic;
    this.partitionIndex = options.partitionIndex;
    this.log = options.log;
    this.fs = options.fs;
    this.dir = options.dir;
    this.leaderEpoch = options.leaderEpoch;
    this.nodeId = options.nodeId;
    this.replicas = [options.nodeId];
    this.isr = [options.nodeId];
    this.snapshotsRetained = options.producerSnapshotsRetained;
    this.clock = options.clock;
    this.producerIdExpirationMs = options.producerIdExpirationMs;
    this.logger = options.logger ?? stderrWarningSink;
    this.producerState = new ProducerStateManager(options.producerBatchesRetained);
    this.loadProducerState();
    this.maybeIncrementHighWatermark();
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /** Makes this broker the leader at `leaderEpoch`, recording where the epoch starts in the log. */
  makeLeader(leaderEpoch: number): void {
    this.leaderEpoch = leaderEpoch;
    this.log.leaderEpochs.assign(leaderEpoch, this.logEndOffset);
  }

  /**
   * Kafka's appendRecordsToLeader: validates the batches, checks idempotent producer state (a
   * retried batch gets its original offsets, nothing appended), checks the ISR against
   * min.insync.replicas for acks=all, then appends with offsets assigned by the log.
   */
  appendRecordsToLeader(records: Buffer | null, settings: AppendSettings): AppendOutcome {
    const check = validateProducedRecords(records, settings.maxMessageBytes, settings.decompressedBytesMax, false);
    if (!check.ok) return { errorCode: check.errorCode, message: check.message, batchIndex: check.batchIndex };
    const outOfRange = settings.timestampBounds === undefined ? null : timestampProblem(records as Buffer, settings.timestampBounds, settings.decompressedBytesMax);
    if (outOfRange !== null) return outOfRange;
    // Kafka's RecordBatchTooLargeException: one partition's record set must fit in a segment.
    if (check.sizeBytes > this.log.config.segmentBytes) {
      return { errorCode: ErrorCode.RECORD_LIST_TOO_LARGE, message: `Record set of ${check.sizeBytes} bytes exceeds segment.bytes ${this.log.config.segmentBytes}`, batchIndex: -1 };
    }
    // Validation lets a batch with a producer id through only as the whole record set.
    const producerBatch = check.headers[0].producerId >= 0 ? check.headers[0] : null;
    assert(producerBatch === null || check.headers.length === 1, 'an idempotent batch is alone in its record set');
    if (producerBatch !== null) {
      const verdict = this.producerState.check(producerBatch);
      if (verdict.kind === 'error') return { errorCode: verdict.errorCode, message: verdict.message, batchIndex: 0 };
      if (verdict.kind === 'duplicate') return this.answerDuplicate(verdict.batch, records as Buffer);
    }
    if (settings.requiredAcks === -1 && this.isr.length < settings.minInsyncReplicas) {
      return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, message: `ISR ${this.isr.length} below min.insync.replicas ${settings.minInsyncReplicas}`, batchIndex: -1 };
    }
    const expectedBaseOffset = this.logEndOffset;
    let result: ReturnType<PartitionLog['append']>;
    try {
      result = this.log.append(records as Buffer, { assignOffsets: true, leaderEpoch: this.leaderEpoch, verifyCrc: settings.crcsChecked !== true });
    } catch (error) {
      if (error instanceof InvalidRecordError) {
        // The log checked the CRCs (nothing was written); name the batch that failed.
        const named = validateProducedRecords(records, settings.maxMessageBytes, settings.decompressedBytesMax, true);
        if (!named.ok) return { errorCode: named.errorCode, message: named.message, batchIndex: named.batchIndex };
      }
      return { errorCode: storageErrorCode(error), message: (error as Error).message, batchIndex: -1 };
    }
    assert.equal(result.baseOffset, expectedBaseOffset, 'the log assigns offsets from its end');
    if (producerBatch !== null) this.producerState.update(producerBatch, result.baseOffset, this.clock.now());
    this.maybeIncrementHighWatermark();
    for (const listener of this.appendListeners) listener();
    return { errorCode: 0, baseOffset: result.baseOffset, lastOffset: result.lastOffset, logAppendTimeMs: result.logAppendTime ?? -1, duplicate: false };
  }

  /**
   * A batch with the producer id, epoch and sequence range of a remembered batch is a retry only
   * if its records are the stored batch's records. The bytes after the batch header are compared,
   * not the CRC: the header's timestamps may differ in a true retry (kafkajs encodes the batch
   * again with a new base timestamp, and LogAppendTime topics rewrite the stored header), while
   * the records section holds every key, value, header and relative offset and timestamp. When
   * the stored batch cannot be read any more (deleted by retention, compacted) the sequence range
   * alone decides, as in Kafka.
   */
  private answerDuplicate(batch: BatchMetadata, records: Buffer): AppendOutcome {
    const stored = this.storedRecordsSection(batch);
    if (stored !== null && !stored.equals(records.subarray(RECORDS_OFFSET))) {
      return {
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Sequences ${batch.firstSequence}..${batch.lastSequence} were already used by the batch at offset ${batch.firstOffset}, whose records differ from this batch's: it is not a retry`,
        batchIndex: 0,
      };
    }
    return { errorCode: 0, baseOffset: batch.firstOffset, lastOffset: batch.lastOffset, logAppendTimeMs: -1, duplicate: true };
  }

  /** The records section of the stored batch at `batch.firstOffset`, or null when it is not there as remembered. */
  private storedRecordsSection(batch: BatchMetadata): Buffer | null {
    if (batch.firstOffset < this.logStartOffset || batch.lastOffset >= this.logEndOffset) return null;
    try {
      const { records } = this.log.read(batch.firstOffset, { maxBytes: 1, maxOffset: batch.lastOffset + 1, minOneBatch: true });
      if (records.length === 0) return null;
      const header = readBatchHeader(records, 0);
      if (header.baseOffset !== batch.firstOffset || header.lastOffset !== batch.lastOffset || header.sizeBytes > records.length) return null;
      return records.subarray(RECORDS_OFFSET, header.sizeBytes);
    } catch (error) {
      if (error instanceof LogError || error instanceof RecordsError) return null;
      throw error;
    }
  }

  /**
   * Kafka's maybeIncrementLeaderHW: the HW is the smallest log end offset among the ISR (this
   * broker's own LEO for itself, each follower's last fetch offset for the others). With the ISR =
   * {this broker} every appended offset is at once replicated to the whole ISR.
   */
  maybeIncrementHighWatermark(): boolean {
    let newHighWatermark = this.logEndOffset;
    for (const replicaId of this.isr) {
      if (replicaId === this.nodeId) continue;
      newHighWatermark = Math.min(newHighWatermark, this.followers.get(replicaId)?.logEndOffset ?? 0);
    }
    if (newHighWatermark <= this.highWatermark) return false;
    this.highWatermark = newHighWatermark;
    const waiting = this.highWatermarkWaiters;
    this.highWatermarkWaiters = [];
    for (const waiter of waiting) {
      if (waiter.offset < this.highWatermark) waiter.resolve();
      else this.highWatermarkWaiters.push(waiter);
    }
    return true;
  }

  /**
   * Kafka's updateFollowerFetchState: a follower fetching at `fetchOffset` holds everything below
   * it. It is caught up while it has reached the leader's LEO; a follower outside the ISR that
   * reaches the HW rejoins it (maybeExpandIsr). Only ids in `replicas` are followers (the
   * controller assigns them); returns true when the HW moved.
   */
  updateFollowerFetchState(replicaId: number, fetchOffset: number, nowMs: number): boolean {
    // Only assigned replicas count; a fetch naming any other replica id changes nothing.
    if (replicaId === this.nodeId || !this.replicas.includes(replicaId)) return false;
    const state = this.followers.get(replicaId) ?? { logEndOffset: 0, lastCaughtUpTimeMs: nowMs };
    state.logEndOffset = fetchOffset;
    if (fetchOffset >= this.logEndOffset) state.lastCaughtUpTimeMs = nowMs;
    this.followers.set(replicaId, state);
    if (!this.isr.includes(replicaId) && fetchOffset >= this.highWatermark) this.isr = [...this.isr, replicaId];
    return this.maybeIncrementHighWatermark();
  }

  /**
   * Kafka's maybeShrinkIsr: followers that have not caught up to the leader's LEO within
   * `replicaLagTimeMaxMs` leave the ISR (and the HW may then advance). Returns the removed ids.
   */
  maybeShrinkIsr(nowMs: number, replicaLagTimeMaxMs: number): number[] {
    const removed = this.isr.filter((replicaId) => {
      if (replicaId === this.nodeId) return false;
      const state = this.followers.get(replicaId);
      return state === undefined || nowMs - state.lastCaughtUpTimeMs > replicaLagTimeMaxMs;
    });
    if (removed.length === 0) return removed;
    this.isr = this.isr.filter((replicaId) => !removed.includes(replicaId));
    this.maybeIncrementHighWatermark();
    return removed;
  }

  /** Resolves when the HW passes `offset` (acks=all), or false after `timeoutMs`. */
  waitForHighWatermark(offset: number, timeoutMs: number, clock: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: never): void }): Promise<boolean> {
    if (offset < this.highWatermark) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        this.highWatermarkWaiters = this.highWatermarkWaiters.filter((waiter) => waiter !== entry);
        resolve(false);
      }, timeoutMs);
      const entry: HighWatermarkWaiter = { offset, resolve: () => { clock.clearTimeout(timer as never); resolve(true); } };
      this.highWatermarkWaiters.push(entry);
    });
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** True when `replicaId` is an assigned follower of this partition (it may read up to the LEO). */
  isFollower(replicaId: number): boolean {
    return replicaId >= 0 && replicaId !== this.nodeId && this.replicas.includes(replicaId);
  }

  /**
   * Reads whole batches from `fetchOffset` up to the HW (consumers) or the LEO (replicas), at most
   * `maxBytes` unless `minOneBatch` lets a larger first batch through.
   */
  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, isReplica: boolean): ReadResult {
    const base = { highWatermark: this.highWatermark, logStartOffset: this.logStartOffset };
    if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY };
    const maxOffset = isReplica ? this.logEndOffset : this.highWatermark;
    if (fetchOffset >= maxOffset) return { ...base, errorCode: ErrorCode.NONE, records: EMPTY };
    try {
      const result = this.log.read(fetchOffset, { maxBytes, maxOffset, minOneBatch });
      return { ...base, errorCode: ErrorCode.NONE, records: result.records };
    } catch (error) {
      return { ...base, errorCode: storageErrorCode(error), records: EMPTY };
    }
  }

  /** Bytes a fetch at `fetchOffset` could read now (for a long poll's minBytes). */
  bytesAvailable(fetchOffset: number, maxBytes: number): number {
    const read = this.read(fetchOffset, maxBytes, true, false);
    return read.records.length;
  }

  // ---------------------------------------------------------------- producer-state snapshots

  snapshotFileName(offset: number): string {
    return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
  }

  private snapshotOffsets(): number[] {
    if (!this.fs.exists(this.dir)) return [];
    return this.fs.readdir(this.dir)
      .filter((name) => name.endsWith(SNAPSHOT_SUFFIX) && /^\d{20}\.snapshot$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
  }

  /** Writes `<LEO>.snapshot` and keeps only the newest `producerSnapshotsRetained` snapshots. */
  takeProducerSnapshot(): void {
    const offset = this.logEndOffset;
    this.fs.writeFileAtomic(path.join(this.dir, this.snapshotFileName(offset)), this.producerState.encodeSnapshot());
    const offsets = this.snapshotOffsets();
    for (const old of offsets.slice(0, Math.max(0, offsets.length - this.snapshotsRetained))) this.fs.unlink(path.join(this.dir, this.snapshotFileName(old)));
  }

  /**
   * Kafka's loadProducerState: the newest snapshot at or below the LEO (newer ones belong to a
   * truncated tail and are deleted), then every batch after it replayed from the log. A corrupt
   * snapshot is skipped for an older one, and with none the whole log is replayed.
   */
  private loadProducerState(): void {
    const logEndOffset = this.logEndOffset;
    let replayFrom = this.logStartOffset;
    for (const offset of this.snapshotOffsets().reverse()) {
      const filePath = path.join(this.dir, this.snapshotFileName(offset));
      if (offset > logEndOffset) {
        this.fs.unlink(filePath);
        continue;
      }
      try {
        this.producerState.loadSnapshot(this.fs.readFile(filePath), filePath, this.clock.now(), this.producerIdExpirationMs);
        replayFrom = Math.max(offset, this.logStartOffset);
        break;
      } catch (error) {
        this.producerState.clear();
        reportDamage(this.logger, 'PRODUCER_SNAPSHOT_UNREADABLE', `skipped the producer-state snapshot ${filePath}: ${(error as Error).message}; replaying the log from an older one`, { path: filePath });
      }
    }
    this.replayLog(replayFrom, logEndOffset);
  }

  /**
   * Rebuilds producer state from the batch headers in [fromOffset, toOffset). Damaged batches are
   * passed over (the log reports them): their producers' sequence state may be missing, so a
   * retry of exactly those batches could be appended again.
   */
  private replayLog(fromOffset: number, toOffset: number): void {
    // A replayed producer counts as seen now: the log does not say when its batches arrived.
    const now = this.clock.now();
    this.log.replayBatches(fromOffset, toOffset, (records) => {
      forEachBatch(records, (position) => {
        const header: BatchHeader = readBatchHeader(records, position);
        if (header.lastOffset >= fromOffset && !header.isControl) this.producerState.update(header, header.baseOffset, now);
      }, { allowPartialTail: true });
    }, (error) => {
      reportDamage(this.logger, 'PRODUCER_STATE_INCOMPLETE', `producer state of ${this.topic}-${this.partitionIndex} skips the damaged batches before offset ${error.resumeOffset}: ${error.message}`, { path: error.path, resumeOffset: error.resumeOffset });
    });
  }

  close(): void {
    for (const waiter of this.highWatermarkWaiters) waiter.resolve();
    this.highWatermarkWaiters = [];
    this.appendListeners.clear();
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The Kafka error for a failure of the log: its own code where it has one (corruption 2, record
 * too large 10, out of range 1), else KAFKA_STORAGE_ERROR (an I/O error such as EIO or ENOSPC).
 * Anything that is not an operating error of the log or the file system is a bug and is rethrown.
 */
export function storageErrorCode(error: unknown): number {
  if (error instanceof LogError) return error.errorCode !== undefined && error.errorCode >= 0 ? error.errorCode : ErrorCode.KAFKA_STORAGE_ERROR;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return ErrorCode.KAFKA_STORAGE_ERROR;
  throw error;
}
