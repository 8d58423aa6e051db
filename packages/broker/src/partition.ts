/**
 * One partition replica on this broker (Kafka's Partition): its log, log start offset, log end
 * offset (LEO) and high watermark (HW), whether this broker leads it or follows, and the
 * idempotent producer state rebuilt from the log.
 *
 * As leader (makeLeader, from a metadata image) it keeps each follower's fetch state (Replica),
 * the committed ISR from the image and at most one ISR change in flight to the controller
 * (AlterPartition): an expansion counts toward the HW at once (the "maximal ISR", KIP-497: waiting
 * for one more replica is always safe), a shrink only once the controller has committed it. The
 * HW is the smallest LEO over the maximal ISR (and over a caught-up replica about to join), and
 * it never moves back. acks=all producers wait for it.
 *
 * As follower (makeFollower) it is written only by its replica fetcher: batches appended with the
 * leader's offsets and epochs, the HW learned from the leader (min(leader HW, own LEO)), and
 * truncation of a divergent tail. Requests that need the leader (produce, consumer fetch, list
 * offsets) get NOT_LEADER_OR_FOLLOWER; parked ones are answered so when leadership moves.
 *
 * Single-threaded: handlers, the fetcher and the ReplicaManager call it from the event loop.
 */
import assert from 'node:assert';
import { ErrorCode } from '@gregor/protocol';
import { batchesIn, readBatchHeader, RECORDS_OFFSET, RecordsError } from '@gregor/records';
import { InvalidRecordError, LogError, UnexpectedAppendOffsetError, type Clock, type FileSystem, type PartitionLog, type TimerHandle, type WarningSink } from '@gregor/log';
import type { PartitionRegistration } from '@gregor/metadata';
import type { IsrChange, IsrChangeOutcome } from './alter-partition-manager.js';
import { ProducerSnapshots } from './producer-snapshots.js';
import { ProducerStateManager, type BatchMetadata } from './producer-state.js';
import { validateProducedRecords } from './records-validation.js';
import { timestampProblem, type TimestampBounds } from './timestamp-validation.js';
import { Replica } from './replica.js';
import { RecentAppends } from './recent-appends.js';

export { SNAPSHOT_SUFFIX } from './producer-snapshots.js';

export const NO_LEADER = -1;

export interface PartitionOptions {
  topic: string;
  topicId: string;
  partitionIndex: number;
  log: PartitionLog;
  fs: FileSystem;
  /** The partition's directory, where the producer-state snapshots live beside the segments. */
  dir: string;
  nodeId: number;
  clock: Clock;
  producerBatchesRetained: number;
  producerSnapshotsRetained: number;
  /** `producer.id.expiration.ms`: producers in a snapshot older than this are not loaded. */
  producerIdExpirationMs: number;
  /** Where damaged producer-state snapshots and log damage met while replaying are reported (default: stderr). */
  logger?: WarningSink;
  /** `replica.lag.time.max.ms`. */
  replicaLagTimeMaxMs: number;
  /** BrokerConfig.recentAppendsMaxBytes: bytes of the latest appends kept for the followers (default 0: none). */
  recentAppendsMaxBytes?: number;
  /** The HW from `replication-offset-checkpoint` (clamped to the log); default the log start. */
  highWatermark?: number;
  /** Sends an ISR change to the controller (the AlterPartitionManager). */
  alterPartition: (change: IsrChange) => Promise<IsrChangeOutcome>;
  /**
   * KRaft's isReplicaIsrEligible: the broker is registered, unfenced and not shutting down, and
   * (Kafka's isBrokerEpochIsrEligible) `brokerEpoch`, when known (not -1), is its registered epoch.
   */
  isReplicaIsrEligible: (brokerId: number, brokerEpoch?: number) => boolean;
  /**
   * The ISR size below which the high watermark stays where it is (KIP-966): the topic's
   * min.insync.replicas, capped at its replication factor, when the cluster keeps eligible leader
   * replicas; 0 otherwise. So a replica that left an ISR under min ISR holds every committed record.
   */
  highWatermarkMinIsr?: () => number;
}

export interface AppendSettings {
  requiredAcks: number;
  maxMessageBytes: number;
  minInsyncReplicas: number;
  /** Limit on a compressed batch's records once decompressed for validation. */
  decompressedBytesMax: number;
  /** CreateTime topics with a finite message.timestamp.before/after.max.ms: the bounds to check records against. */
  timestampBounds?: TimestampBounds;
  /** The records were built in this process just before (RequestContext.recordsBuiltByProducer): their CRCs are not checked again, nor their records walked. */
  crcsChecked?: boolean;
  /** Nobody else holds the records' bytes (RequestContext.recordBytesOwned): once appended they may be kept for the followers' next Fetch. */
  bytesOwned?: boolean;
}

export type AppendOutcome =
  | { errorCode: 0; baseOffset: number; lastOffset: number; logAppendTimeMs: number; duplicate: boolean }
  | { errorCode: number; message: string; batchIndex: number };

export interface ReadResult {
  errorCode: number;
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
  /** The LEO when the read began (what a follower fetch is measured against). */
  logEndOffset: number;
}

/** An ISR change sent to the controller and not answered yet (Kafka's PendingPartitionChange). */
type PendingIsrChange =
  | { kind: 'expand'; replicaId: number; isr: readonly number[] }
  | { kind: 'shrink'; removed: readonly number[]; isr: readonly number[] };

interface ReplicationWaiter {
  requiredOffset: number;
  minInsyncReplicas: number;
  resolve: (errorCode: number) => void;
}

export class Partition {
  readonly topic: string;
  readonly topicId: string;
  readonly partitionIndex: number;
  readonly log: PartitionLog;
  readonly producerState: ProducerStateManager;
  readonly snapshots: ProducerSnapshots;
  /** The topic's own configs (not broker defaults), kept current by the ReplicaManager. */
  configs: Record<string, string> = {};
  /** The leader's broker id, or NO_LEADER. */
  leaderId = NO_LEADER;
  leaderEpoch = -1;
  partitionEpoch = -1;
  replicas: readonly number[] = [];
  /** The ISR the controller committed (kept by the leader only, as Kafka). */
  isr: readonly number[] = [];
  highWatermark: number;
  /** Where this broker's current leader epoch starts in its log (leader only). */
  leaderEpochStartOffset: number | null = null;
  private pendingIsr: PendingIsrChange | null = null;
  private readonly remoteReplicas = new Map<number, Replica>();
  private replicationWaiters: ReplicationWaiter[] = [];
  private readonly changeListeners = new Set<() => void>();
  /** The latest appends as leader, for the followers' next Fetch (see recent-appends.ts). */
  private readonly recentAppends: RecentAppends;
  private readonly nodeId: number;
  private readonly clock: Clock;
  private readonly replicaLagTimeMaxMs: number;
  private readonly alterPartition: PartitionOptions['alterPartition'];
  private readonly isReplicaIsrEligible: PartitionOptions['isReplicaIsrEligible'];
  private readonly highWatermarkMinIsr: () => number;

  constructor(options: PartitionOptions) {
    this.topic = options.topic;
    this.topicId = options.topicId;
    this.partitionIndex = options.partitionIndex;
    this.log = options.log;
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs;
    this.alterPartition = options.alterPartition;
    this.isReplicaIsrEligible = options.isReplicaIsrEligible;
    this.highWatermarkMinIsr = options.highWatermarkMinIsr ?? (() => 0);
    this.producerState = new ProducerStateManager(options.producerBatchesRetained);
    this.recentAppends = new RecentAppends(options.recentAppendsMaxBytes ?? 0);
    this.snapshots = new ProducerSnapshots({
      fs: options.fs,
      dir: options.dir,
      log: options.log,
      state: this.producerState,
      clock: options.clock,
      retained: options.producerSnapshotsRetained,
      producerIdExpirationMs: options.producerIdExpirationMs,
      logger: options.logger,
      name: `${options.topic}-${options.partitionIndex}`,
    });
    this.snapshots.load();
    this.highWatermark = Math.min(Math.max(options.highWatermark ?? 0, this.logStartOffset), this.logEndOffset);
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  get isLeader(): boolean {
    return this.leaderId === this.nodeId;
  }

  /** The newest leader epoch in this log (-1: none). */
  get latestEpoch(): number {
    return this.log.leaderEpochs.latestEpoch;
  }

  /**
   * The ISR that acks=all and the HW count on: the committed ISR plus a replica whose addition is
   * in flight (KIP-497). A removal in flight still counts until the controller commits it.
   */
  get maximalIsr(): readonly number[] {
    const pending = this.pendingIsr;
    return pending?.kind === 'expand' ? pending.isr : this.isr;
  }

  get hasPendingIsrChange(): boolean {
    return this.pendingIsr !== null;
  }

  /** Replicas the leader currently counts as out of sync (for describing under-replication). */
  isUnderReplicated(): boolean {
    return this.isLeader && this.isr.length < this.replicas.length;
  }

  // ---------------------------------------------------------------- leadership (from metadata images)

  /**
   * Kafka's makeLeader. A registration older than the partition epoch we know is ignored (an
   * AlterPartition answer may have told us a newer one first). A new leader epoch is recorded in
   * the leader-epoch cache at the current LEO, so a follower that asks where an older epoch ends
   * is told where ours begins, and every follower's state restarts: those in the ISR get the full
   * lag time from now. Returns true when this broker was not the leader before.
   */
  makeLeader(registration: PartitionRegistration): boolean {
    if (registration.partitionEpoch < this.partitionEpoch) return false;
    const nowMs = this.clock.now();
    const isNewLeader = !this.isLeader;
    const isNewLeaderEpoch = registration.leaderEpoch > this.leaderEpoch;
    this.updateAssignmentAndIsr(registration.replicas, true, registration.isr);
    if (isNewLeaderEpoch) {
      this.recentAppends.clear();
      const startOffset = this.logEndOffset;
      // A log that never held a record has nothing a follower could diverge from: its first append
      // records the epoch (the log does so for every append), which spares a checkpoint write per
      // partition at every start.
      if (startOffset > 0) this.log.leaderEpochs.assign(registration.leaderEpoch, startOffset);
      for (const replica of this.remoteReplicas.values()) replica.reset(nowMs, startOffset, isNewLeader, registration.isr.includes(replica.brokerId));
      this.leaderEpoch = registration.leaderEpoch;
      this.leaderEpochStartOffset = startOffset;
    }
    this.partitionEpoch = registration.partitionEpoch;
    this.leaderId = this.nodeId;
    this.maybeIncrementHighWatermark(nowMs);
    this.notifyChange();
    return isNewLeader;
  }

  /**
   * Kafka's makeFollower (also for a partition with no leader at all). Requests parked on this
   * partition as leader are answered NOT_LEADER_OR_FOLLOWER. Returns true when the leader epoch
   * changed: the replica fetcher must then start over (truncation first).
   */
  makeFollower(registration: PartitionRegistration): boolean {
    if (registration.partitionEpoch < this.partitionEpoch) return false;
    const isNewLeaderEpoch = registration.leaderEpoch > this.leaderEpoch;
    this.leaderId = registration.leader;
    this.leaderEpoch = registration.leaderEpoch;
    this.leaderEpochStartOffset = null;
    this.partitionEpoch = registration.partitionEpoch;
    this.updateAssignmentAndIsr(registration.replicas, false, []);
    this.recentAppends.clear();
    this.failReplicationWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.notifyChange();
    return isNewLeaderEpoch;
  }

  private updateAssignmentAndIsr(replicas: readonly number[], isLeader: boolean, isr: readonly number[]): void {
    if (isLeader) {
      for (const id of replicas) if (id !== this.nodeId && !this.remoteReplicas.has(id)) this.remoteReplicas.set(id, new Replica(id));
      for (const id of [...this.remoteReplicas.keys()]) if (!replicas.includes(id)) this.remoteReplicas.delete(id);
    } else {
      this.remoteReplicas.clear();
    }
    this.replicas = [...replicas];
    this.isr = [...isr];
    this.pendingIsr = null;
  }

  /**
   * Kafka's checks of a request's view of the leader (KIP-320), epoch first: an older
   * currentLeaderEpoch is FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (-1 skips them);
   * then, when the request needs the leader, NOT_LEADER_OR_FOLLOWER.
   */
  leaderError(currentLeaderEpoch: number, requireLeader = true): number {
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < this.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch > this.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (requireLeader && !this.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- appends

  /**
   * Kafka's appendRecordsToLeader: validates the batches, checks idempotent producer state (a
   * retried batch gets its original offsets, nothing appended), refuses acks=all while the
   * committed ISR is below min.insync.replicas (NOT_ENOUGH_REPLICAS, nothing appended), then
   * appends with offsets and this leader epoch stamped by the log.
   */
  appendRecordsToLeader(records: Buffer | null, settings: AppendSettings): AppendOutcome {
    if (!this.isLeader) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: `Broker ${this.nodeId} is not the leader of ${this.topic}-${this.partitionIndex}`, batchIndex: -1 };
    const check = validateProducedRecords(records, settings.maxMessageBytes, settings.decompressedBytesMax, false, settings.crcsChecked !== true);
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
      return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, message: `The ISR ${this.isr.join(',')} of ${this.topic}-${this.partitionIndex} is smaller than min.insync.replicas ${settings.minInsyncReplicas}`, batchIndex: -1 };
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
    // The bytes the log now holds for these offsets (stamped in place by the append), kept for the
    // followers' next Fetch unless the caller may reuse them; a set we cannot keep ends the run.
    if (settings.bytesOwned === true) this.recentAppends.add(result.baseOffset, result.lastOffset + 1, records as Buffer, this.log.activeSegmentBaseOffset);
    else this.recentAppends.clear();
    this.releaseRecentAppends();
    this.maybeIncrementHighWatermark();
    this.notifyChange();
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
   * Kafka's appendRecordsToFollowerOrFutureReplica: the leader's batches as they are (its offsets
   * and leader epochs; the log checks each CRC, since the bytes crossed the network), then the
   * producer state of each batch, so this replica deduplicates retries if it becomes leader. A
   * trailing partial batch (a fetch cut by its byte limit) is left for the next fetch. Throws the
   * log's errors (InvalidRecordError for a bad CRC, I/O errors).
   */
  appendRecordsAsFollower(records: Buffer): void {
    assert(!this.isLeader, 'only a follower appends the leader\'s batches');
    let wholeBytes = 0;
    for (const { position, sizeBytes } of batchesIn(records, { allowPartialTail: true })) wholeBytes = position + sizeBytes;
    if (wholeBytes === 0) return;
    const batches = wholeBytes === records.length ? records : records.subarray(0, wholeBytes);
    try {
      this.log.append(batches, { assignOffsets: false });
    } catch (error) {
      if (!(error instanceof UnexpectedAppendOffsetError) || this.logEndOffset !== this.logStartOffset) throw error;
      // Kafka's special case: the leader's log start (after DeleteRecords) fell inside the first
      // batch we fetched, so our empty log must start at that batch's base offset instead.
      this.truncateFullyAndStartAt(readBatchHeader(batches, 0).baseOffset);
      this.log.append(batches, { assignOffsets: false });
    }
    const now = this.clock.now();
    for (const { position } of batchesIn(batches)) {
      const header = readBatchHeader(batches, position);
      if (!header.isControl) this.producerState.update(header, header.baseOffset, now);
    }
    this.notifyChange();
  }

  /** A follower learns the HW from its leader: min(leader HW, own LEO), never moving back. */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    this.advanceHighWatermark(Math.min(leaderHighWatermark, this.logEndOffset));
  }

  /** A follower's log start follows the leader's (DeleteRecords, retention), up to its own HW. */
  maybeIncrementLogStartOffset(leaderLogStartOffset: number): void {
    const offset = Math.min(leaderLogStartOffset, this.highWatermark);
    if (offset > this.logStartOffset) this.log.deleteRecordsBefore(offset);
  }

  /**
   * Removes everything from `offset` on (a divergent tail found by leader epochs) and rebuilds
   * the producer state for the shorter log. Committed data is never below the cut after a clean
   * election, so the HW only drops when an unclean election made the new leader shorter.
   */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) {
      // Nothing to cut, but the log drops an epoch that starts at its end (see PartitionLog.truncateTo).
      this.log.truncateTo(offset);
      return;
    }
    this.log.truncateTo(offset);
    this.recentAppends.clear();
    this.highWatermark = Math.min(this.highWatermark, this.logEndOffset);
    this.snapshots.load();
    this.notifyChange();
  }

  /** Empties the log and restarts it at `offset` (the leader's log start is past our LEO). */
  truncateFullyAndStartAt(offset: number): void {
    this.log.truncateFullyAndStartAt(offset);
    this.recentAppends.clear();
    this.highWatermark = offset;
    this.snapshots.deleteAll();
    this.producerState.clear();
    this.notifyChange();
  }

  /**
   * The largest epoch at or below `epoch` in this log and where it ends (the start of the next
   * epoch, or the LEO), or null when this log has no such epoch.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } | null {
    const found = this.log.leaderEpochs.endOffsetFor(epoch, this.logEndOffset);
    return found.endOffset < 0 ? null : found;
  }

  // ---------------------------------------------------------------- the leader's view of followers

  /**
   * Kafka's updateFollowerFetchState: a Fetch from follower `replicaId` at `fetchOffset` says it
   * holds everything below it. It may join the ISR (maybeExpandIsr) and move the HW.
   * `followerBrokerEpoch` is the follower's broker epoch (Kafka reads it from Fetch v15's
   * replicaState; Gregor's Fetch stops at v13, so the fetch handler passes the epoch of the
   * follower's registration in this broker's image as the Fetch arrives), -1 if unknown. Returns
   * false for a replica id that is not an assigned follower of this leader.
   */
  updateFollowerFetchState(replicaId: number, fetchOffset: number, followerLogStartOffset: number, leaderEndOffset: number, followerBrokerEpoch = -1): boolean {
    const replica = this.remoteReplicas.get(replicaId);
    if (!this.isLeader || replica === undefined) return false;
    const nowMs = this.clock.now();
    const previousEndOffset = replica.logEndOffset;
    replica.updateFetchState(fetchOffset, followerLogStartOffset, nowMs, leaderEndOffset, followerBrokerEpoch);
    this.maybeExpandIsr(replica);
    this.releaseRecentAppends();
    if (previousEndOffset !== replica.logEndOffset) this.maybeIncrementHighWatermark(nowMs);
    return true;
  }

  /** Lets go of the recent appends every follower of the maximal ISR has fetched (all of them when it has none). */
  private releaseRecentAppends(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const replica of this.remoteReplicas.values()) {
      if (this.maximalIsr.includes(replica.brokerId)) lowest = Math.min(lowest, replica.logEndOffset);
    }
    if (lowest === Number.POSITIVE_INFINITY) this.recentAppends.clear();
    else this.recentAppends.releaseBelow(lowest);
  }

  /** Bytes held for the followers' next Fetch (tests and diagnostics). */
  get recentAppendsBytes(): number {
    return this.recentAppends.bytes;
  }

  /** The leader's record of a follower, for tests and describing (undefined for non-followers). */
  followerState(replicaId: number): Readonly<Replica> | undefined {
    return this.remoteReplicas.get(replicaId);
  }

  /**
   * Kafka's maybeIncrementLeaderHW: the smallest LEO among the maximal ISR, and among replicas
   * that are caught up and eligible but not in it yet (so a follower about to rejoin is not left
   * behind by a HW that runs ahead of it). Never moves back, and does not move while the
   * committed ISR is under `highWatermarkMinIsr` (Kafka's isUnderMinIsr check, KIP-966).
   */
  maybeIncrementHighWatermark(nowMs = this.clock.now()): boolean {
    // A full ISR is at min ISR whatever the topic says (min ISR is capped at the replicas), so the
    // common case asks nothing.
    if (!this.isLeader || (this.isr.length < this.replicas.length && this.isr.length < this.highWatermarkMinIsr())) return false;
    const leaderEndOffset = this.logEndOffset;
    const maximalIsr = this.maximalIsr;
    let newHighWatermark = leaderEndOffset;
    for (const replica of this.remoteReplicas.values()) {
      if (replica.logEndOffset >= newHighWatermark) continue;
      const holdsBack = maximalIsr.includes(replica.brokerId)
        || (replica.isCaughtUp(leaderEndOffset, nowMs, this.replicaLagTimeMaxMs) && this.isReplicaIsrEligible(replica.brokerId));
      if (holdsBack) newHighWatermark = replica.logEndOffset;
    }
    return this.advanceHighWatermark(newHighWatermark);
  }

  private advanceHighWatermark(offset: number): boolean {
    if (offset <= this.highWatermark) return false;
    assert(offset <= this.logEndOffset, `the high watermark ${offset} cannot pass the log end offset ${this.logEndOffset}`);
    this.highWatermark = offset;
    this.completeReplicationWaiters();
    this.notifyChange();
    return true;
  }

  /**
   * Kafka's maybeExpandIsr: a follower outside the ISR that has reached the HW, and at least the
   * start of this leader's epoch (so it holds everything this leader may have committed), is
   * proposed to the controller. Nothing else changes before the controller answers.
   */
  private maybeExpandIsr(replica: Replica): void {
    if (this.pendingIsr !== null || this.isr.includes(replica.brokerId) || !this.isReplicaIsrEligible(replica.brokerId, replica.brokerEpoch)) return;
    const start = this.leaderEpochStartOffset;
    if (replica.logEndOffset < this.highWatermark || start === null || replica.logEndOffset < start) return;
    const isr = this.replicas.filter((id) => this.isr.includes(id) || id === replica.brokerId);
    this.submitIsrChange({ kind: 'expand', replicaId: replica.brokerId, isr });
  }

  /**
   * Kafka's maybeShrinkIsr, run every `replica.lag.time.max.ms / 2`: ISR followers that have not
   * caught up within `replica.lag.time.max.ms` are proposed for removal. They keep counting for the
   * HW until the controller commits the smaller ISR.
   */
  maybeShrinkIsr(): number[] {
    if (!this.isLeader || this.pendingIsr !== null) return [];
    const nowMs = this.clock.now();
    const leaderEndOffset = this.logEndOffset;
    const removed = this.isr.filter((id) => {
      if (id === this.nodeId) return false;
      const replica = this.remoteReplicas.get(id);
      return replica === undefined || !replica.isCaughtUp(leaderEndOffset, nowMs, this.replicaLagTimeMaxMs);
    });
    if (removed.length === 0) return removed;
    this.submitIsrChange({ kind: 'shrink', removed, isr: this.isr.filter((id) => !removed.includes(id)) });
    return removed;
  }

  private submitIsrChange(change: PendingIsrChange): void {
    this.pendingIsr = change;
    const sent = { leaderEpoch: this.leaderEpoch, partitionEpoch: this.partitionEpoch };
    this.alterPartition({
      topicName: this.topic,
      topicId: this.topicId,
      partitionIndex: this.partitionIndex,
      leaderEpoch: sent.leaderEpoch,
      partitionEpoch: sent.partitionEpoch,
      newIsr: change.isr,
      // Kafka's addBrokerEpochToIsr: each follower's epoch as its last Fetch gave it (-1 unknown:
      // not checked); the AlterPartitionManager puts in the leader's own.
      newIsrWithEpochs: change.isr.map((brokerId) => ({ brokerId, brokerEpoch: brokerId === this.nodeId ? -1 : (this.remoteReplicas.get(brokerId)?.brokerEpoch ?? -1) })),
    }).then((outcome) => {
      // A new image (election, another ISR change) replaced the pending change: the answer is stale.
      if (this.pendingIsr !== change) return;
      if (outcome.errorCode === ErrorCode.NONE && 'isr' in outcome) this.onIsrChangeCommitted(outcome);
      else if (this.shouldRetryIsrChange(outcome.errorCode)) this.submitIsrChange(change);
    });
  }

  /** Kafka's handleAlterPartitionUpdate: the controller committed the change. */
  private onIsrChangeCommitted(outcome: { leaderEpoch: number; isr: number[]; partitionEpoch: number }): void {
    // An answer for an older leader epoch, or older than what the image told us, changes nothing;
    // the pending change stays until the next image settles the partition.
    if (outcome.leaderEpoch !== this.leaderEpoch || outcome.partitionEpoch < this.partitionEpoch) return;
    this.isr = [...outcome.isr];
    this.partitionEpoch = outcome.partitionEpoch;
    this.pendingIsr = null;
    this.maybeIncrementHighWatermark();
    this.completeReplicationWaiters();
  }

  /**
   * Kafka's handleAlterPartitionError: INELIGIBLE_REPLICA and OPERATION_NOT_ATTEMPTED mean the
   * controller applied nothing and our epochs are current, so the committed state stands again;
   * stale epochs, unknown partitions and invalid requests wait for the next image; anything else
   * is sent again.
   */
  private shouldRetryIsrChange(errorCode: number): boolean {
    switch (errorCode) {
      case ErrorCode.OPERATION_NOT_ATTEMPTED:
      case ErrorCode.INELIGIBLE_REPLICA:
        this.pendingIsr = null;
        return false;
      case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
      case ErrorCode.UNKNOWN_TOPIC_ID:
      case ErrorCode.FENCED_LEADER_EPOCH:
      case ErrorCode.INVALID_UPDATE_VERSION:
      case ErrorCode.INVALID_REQUEST:
      case ErrorCode.NEW_LEADER_ELECTED:
        return false;
      default:
        return true;
    }
  }

  // ---------------------------------------------------------------- acks=all

  /**
   * Kafka's DelayedProduce for one partition: resolves with NONE once the HW reaches
   * `requiredOffset` (the offset after the appended batches) with the maximal ISR at least
   * `minInsyncReplicas`, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below it meanwhile,
   * NOT_LEADER_OR_FOLLOWER when this broker stops leading, REQUEST_TIMED_OUT after `timeoutMs`.
   */
  waitForReplication(requiredOffset: number, minInsyncReplicas: number, timeoutMs: number): Promise<number> {
    if (!this.isLeader) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (this.highWatermark >= requiredOffset) return Promise.resolve(this.replicatedError(minInsyncReplicas));
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const waiter: ReplicationWaiter = {
        requiredOffset,
        minInsyncReplicas,
        resolve: (errorCode) => {
          if (timer !== null) this.clock.clearTimeout(timer);
          resolve(errorCode);
        },
      };
      timer = this.clock.setTimeout(() => {
        timer = null;
        this.replicationWaiters = this.replicationWaiters.filter((entry) => entry !== waiter);
        resolve(ErrorCode.REQUEST_TIMED_OUT);
      }, timeoutMs);
      this.replicationWaiters.push(waiter);
    });
  }

  private replicatedError(minInsyncReplicas: number): number {
    return this.maximalIsr.length >= minInsyncReplicas ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
  }

  private completeReplicationWaiters(): void {
    if (this.replicationWaiters.length === 0) return;
    const waiting = this.replicationWaiters;
    this.replicationWaiters = [];
    for (const waiter of waiting) {
      if (this.highWatermark >= waiter.requiredOffset) waiter.resolve(this.replicatedError(waiter.minInsyncReplicas));
      else this.replicationWaiters.push(waiter);
    }
  }

  private failReplicationWaiters(errorCode: number): void {
    const waiting = this.replicationWaiters;
    this.replicationWaiters = [];
    for (const waiter of waiting) waiter.resolve(errorCode);
  }

  // ---------------------------------------------------------------- reads

  /** Calls `listener` after appends, HW moves and leadership changes (long polls re-check then). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private notifyChange(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  /** True when `replicaId` is an assigned follower of this leader (it may read up to the LEO). */
  isFollower(replicaId: number): boolean {
    return this.isLeader && this.remoteReplicas.has(replicaId);
  }

  /**
   * Reads whole batches from `fetchOffset` up to the HW (consumers) or the LEO (followers), at
   * most `maxBytes` unless `minOneBatch` lets a larger first batch through.
   */
  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, isReplica: boolean): ReadResult {
    const base = { highWatermark: this.highWatermark, logStartOffset: this.logStartOffset, logEndOffset: this.logEndOffset };
    if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY };
    const maxOffset = isReplica ? this.logEndOffset : this.highWatermark;
    if (fetchOffset >= maxOffset) return { ...base, errorCode: ErrorCode.NONE, records: EMPTY };
    try {
      // A follower asking for what was just appended gets the bytes still in memory.
      const recent = isReplica && this.isLeader ? this.recentAppends.read(fetchOffset, maxBytes, maxOffset, this.log.activeSegmentBaseOffset) : null;
      if (recent !== null) return { ...base, errorCode: ErrorCode.NONE, records: recent };
      // A follower checks every batch's CRC as it appends it (appendRecordsAsFollower), as Kafka's
      // does: checking them here as well would cost the leader a CRC pass per follower per byte.
      const result = this.log.read(fetchOffset, { maxBytes, maxOffset, minOneBatch, verifyCrc: !isReplica });
      return { ...base, errorCode: ErrorCode.NONE, records: result.records };
    } catch (error) {
      return { ...base, errorCode: storageErrorCode(error), records: EMPTY };
    }
  }

  /** Kafka's lastOffsetForLeaderEpoch: the OffsetForLeaderEpoch answer for `leaderEpoch`. */
  lastOffsetForLeaderEpoch(leaderEpoch: number): { leaderEpoch: number; endOffset: number } {
    const found = this.log.leaderEpochs.endOffsetFor(leaderEpoch, this.logEndOffset);
    return { leaderEpoch: found.epoch, endOffset: found.endOffset };
  }

  takeProducerSnapshot(): void {
    this.snapshots.take();
  }

  /** Stops serving: parked acks=all requests are answered NOT_LEADER_OR_FOLLOWER. */
  close(): void {
    this.leaderId = NO_LEADER;
    this.recentAppends.clear();
    this.failReplicationWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.notifyChange();
    this.changeListeners.clear();
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
