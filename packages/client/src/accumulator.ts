/**
 * The producer's record accumulator: records are encoded straight into one open `BatchBuilder`
 * per partition (no per-record objects kept). A batch is sealed (built: compressed, header and
 * CRC written) when the next record does not fit in `batchBytes`, when it has lingered
 * `lingerMs`, or on flush; sealed batches wait in their partition's ready queue for the sender.
 * Memory for each batch comes from `BufferMemory` before it opens and goes back when the batch
 * completes. Uncompressed batches are written into the partition's current `BatchRegion` (see
 * batch-region.ts) so that consecutive batches are one slice; compressed ones use `BatchBuilder`.
 *
 * Idempotence: each partition numbers its batches under one producer id and epoch (the queue's
 * identity) as they are sealed. After the producer bumps its epoch (see producer.ts), a partition
 * moves to the new identity at sequence 0 by `restamp`: its waiting batches get the new id, epoch
 * and sequences written into their headers, and their CRC again (it covers those fields).
 * Owned by one producer; not shared.
 */
import assert from 'node:assert';
import { BatchBuilder, batchSizeAt, CURRENT_MAGIC, isBatchCrcValid, MAGIC_OFFSET, patchProducerState, type PlainRecordInput, RECORD_COUNT_OFFSET, type RecordHeader } from '@gregor/records';
import { type BatchRegion, RegionBatchWriter, type RegionPool } from './batch-region.js';
import type { BufferMemory } from './buffer-memory.js';
import type { Clock, TimerHandle } from './clock.js';

export interface BatchResult {
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export class PendingBatch {
  builder: BatchBuilder | RegionBatchWriter | null;
  /** The region holding the batch's bytes (uncompressed batches), released when the batch completes. */
  region: BatchRegion | null = null;
  /** The built batch, once sealed. */
  data: Buffer | null = null;
  recordCount = 0;
  attempts = 0;
  /** Seal order within the producer, so retried batches go back in their original order. */
  order = 0;
  /** Earliest time a retry may be sent. */
  retryAtMs = 0;
  /** Failed by deliveryTimeoutMs while in flight: its answer, when it comes, only returns its memory. */
  expired = false;
  /** The producer id, epoch and first sequence in the batch's header (-1 unless idempotent). */
  producerId = -1;
  producerEpoch = -1;
  baseSequence = -1;
  readonly createdAtMs: number;
  readonly done: Promise<BatchResult>;
  resolve!: (result: BatchResult) => void;
  reject!: (error: Error) => void;

  constructor(
    readonly queue: PartitionQueue,
    /** Codec in bits 0-2, acks + 1 above: batches of one request share acks, of one batch the codec. */
    readonly mode: number,
    readonly reservedBytes: number,
    builder: BatchBuilder | RegionBatchWriter,
    createdAtMs: number,
  ) {
    this.builder = builder;
    this.createdAtMs = createdAtMs;
    this.done = new Promise<BatchResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A send() that fails early may never await this batch; an unobserved rejection must not crash.
    this.done.catch(() => {});
  }
}

/** One partition's batches: the open one, the sealed ones waiting, and the sequence to use next. */
export class PartitionQueue {
  open: PendingBatch | null = null;
  readonly ready: PendingBatch[] = [];
  inFlight = 0;
  /** The producer id and epoch this partition's sequences belong to (idempotent; -1 otherwise). */
  producerId = -1;
  producerEpoch = -1;
  nextSequence = 0;
  /** Last sequence the broker acknowledged under this identity (-1: none). */
  lastAckedSequence = -1;
  /**
   * A batch with a sequence failed for good, or the broker answered OUT_OF_ORDER_SEQUENCE: the
   * partition sends nothing until its in-flight batches are answered, then the producer checks
   * for a gap (Kafka's partitionsWithUnresolvedSequences).
   */
  unresolved = false;
  /** The broker lost or refused this partition's sequence for certain: a new epoch is needed once nothing is in flight. */
  epochBumpNeeded = false;
  /** The last error sending to this partition met (a failed attempt, no leader), the cause of an expiry. */
  lastError: Error | null = null;
  /** The region uncompressed batches of this partition are written into, while it has room. */
  region: BatchRegion | null = null;
  /** Size of the next region: doubles while the partition keeps filling regions (0: the smallest). */
  regionBytesNext = 0;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface AccumulatorOptions {
  batchBytes: number;
  lingerMs: number;
  /** The linger timer runs on it, and batch ages are read from it (the producer's clock). */
  clock: Clock;
  /** Producer id and epoch when idempotent; -1 otherwise. */
  producerId: () => number;
  producerEpoch: () => number;
  idempotent: boolean;
  /** Called when a batch is sealed, so a sticky partitioner can move on and the sender can run. */
  onSealed: (batch: PendingBatch) => void;
}

/** Bytes a batch holding `recordBytes` of one record needs beyond the header (varint slack). */
const RECORD_OVERHEAD_BYTES = 64;
const BATCH_HEADER_BYTES = 61;
/** A partition's first region holds this many full batches. */
const REGION_BATCHES_MIN = 4;

export class RecordAccumulator {
  readonly queues = new Map<string, PartitionQueue>();
  private lingerTimer: TimerHandle | null = null;
  /** linger.ms 0: the seal runs at the end of this turn of the event loop instead of on a timer. */
  private lingerImmediate: ReturnType<typeof setImmediate> | null = null;

  constructor(
    private readonly memory: BufferMemory,
    private readonly options: AccumulatorOptions,
    private readonly regions: RegionPool,
  ) {}

  queue(topic: string, partition: number): PartitionQueue {
    const key = `${topic}\u0000${partition}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      this.queues.set(key, (queue = new PartitionQueue(topic, partition)));
      if (this.options.idempotent) {
        queue.producerId = this.options.producerId();
        queue.producerEpoch = this.options.producerEpoch();
      }
    }
    return queue;
  }

  /** The bytes a new batch for a record of this size reserves: `batchBytes`, or more for a big record. */
  bytesForNewBatch(recordBytes: number): number {
    return Math.max(this.options.batchBytes, BATCH_HEADER_BYTES + RECORD_OVERHEAD_BYTES + recordBytes);
  }

  /**
   * Appends one record to the partition's open batch, opening a new batch when there is none, it
   * is full or it uses another codec. Returns the batch and the record's index in it, or null
   * when a new batch is needed and `bytesForNewBatch` bytes are not free (the caller reserves
   * them, then calls `appendReserved`).
   */
  tryAppend(queue: PartitionQueue, mode: number, nowMs: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null): PendingBatch | null {
    const open = queue.open;
    if (open !== null) {
      if (open.mode === mode && open.builder!.tryAppend(timestamp, key, value, headers)) {
        open.recordCount++;
        return open;
      }
      this.seal(queue);
    }
    const bytes = this.bytesForNewBatch(recordSize(key, value, headers));
    if (!this.memory.tryReserve(bytes)) return null;
    return this.appendReserved(queue, mode, bytes, nowMs, timestamp, key, value, headers);
  }

  /**
   * Appends a run of plain key/value records (`records[start..end)`, see
   * `BatchBuilder.appendPlainRecords`) to the partition's open batch, all with `timestamp`; returns
   * how many went in. 0 when there is no open batch of this mode or it is full, or `records[start]`
   * needs `tryAppend` (headers, its own timestamp or partition, a string): the caller then appends
   * that one record through `tryAppend`, which seals and opens batches as needed.
   */
  appendPlainRun(queue: PartitionQueue, mode: number, records: readonly PlainRecordInput[], start: number, end: number, timestamp: number): number {
    const open = queue.open;
    if (open === null || open.mode !== mode) return 0;
    const appended = open.builder!.appendPlainRecords(records, start, end, timestamp);
    open.recordCount += appended;
    return appended;
  }

  /**
   * Opens a new batch with `reservedBytes` already taken from memory and appends the record.
   * `nowMs` is the batch's creation time for linger: the caller reads the clock once per send, so
   * the batches one send opens linger together and go in one request.
   */
  appendReserved(queue: PartitionQueue, mode: number, reservedBytes: number, nowMs: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null): PendingBatch {
    if (queue.open !== null) this.seal(queue);
    const batch = this.openBatch(queue, mode, reservedBytes, nowMs);
    batch.builder!.tryAppend(timestamp, key, value, headers);
    batch.recordCount++;
    return batch;
  }

  private openBatch(queue: PartitionQueue, mode: number, reservedBytes: number, nowMs: number): PendingBatch {
    const idempotent = this.options.idempotent;
    if (idempotent) this.adoptIfIdle(queue);
    const identity = {
      producerId: idempotent ? queue.producerId : -1,
      producerEpoch: idempotent ? queue.producerEpoch : -1,
      baseSequence: idempotent ? queue.nextSequence : -1,
    };
    let batch: PendingBatch;
    if ((mode & 0x07) === 0) {
      const region = this.regionFor(queue, reservedBytes);
      batch = new PendingBatch(queue, mode, reservedBytes, new RegionBatchWriter(region, region.used, reservedBytes, identity), nowMs);
      batch.region = region;
      region.refs++;
    } else {
      const builder = new BatchBuilder({ compression: mode & 0x07, batchBytesMax: reservedBytes, initialBytes: reservedBytes, ...identity });
      batch = new PendingBatch(queue, mode, reservedBytes, builder, nowMs);
    }
    batch.producerId = identity.producerId;
    batch.producerEpoch = identity.producerEpoch;
    batch.baseSequence = identity.baseSequence;
    queue.open = batch;
    this.armLinger();
    return batch;
  }

  /**
   * The partition's region if `bytes` fit after its sealed batches, else a new one: a partition
   * that fills regions gets twice the size each time up to the pool's (a request's worth), so a
   * busy partition sends large contiguous requests while a quiet one holds little memory.
   */
  private regionFor(queue: PartitionQueue, bytes: number): BatchRegion {
    const current = queue.region;
    if (current !== null && current.freeBytes >= bytes) return current;
    const largest = this.regions.regionBytes;
    if (current !== null) {
      this.regions.unref(current);
      queue.regionBytesNext = Math.min(largest, current.buffer.length * 2);
    }
    const size = Math.max(bytes, queue.regionBytesNext || Math.min(largest, REGION_BATCHES_MIN * this.options.batchBytes));
    return (queue.region = this.regions.acquire(size));
  }

  /**
   * A batch completed (answered, or failed for good): its region loses a reference, and an idle
   * partition gives its region up so that quiet partitions hold no memory. `answered` false marks
   * the region as never reusable: its bytes may still be referenced (acks=0 on a socket).
   */
  releaseBatch(batch: PendingBatch, answered: boolean): void {
    const region = batch.region;
    if (region === null) return;
    batch.region = null;
    if (!answered) region.reusable = false;
    this.regions.unref(region);
    const queue = batch.queue;
    if (queue.region === region && queue.open === null && region.refs === 1) {
      queue.region = null;
      queue.regionBytesNext = 0;
      this.regions.unref(region);
    }
  }

  /** Builds the open batch of `queue` and moves it to the ready queue. */
  seal(queue: PartitionQueue): void {
    const batch = queue.open;
    if (batch === null) return;
    queue.open = null;
    batch.data = batch.builder!.build();
    batch.builder = null;
    if (this.options.idempotent) {
      // The partition moved to a new identity, or a sequence was given back, while the batch was open.
      if (batch.producerId !== queue.producerId || batch.producerEpoch !== queue.producerEpoch || batch.baseSequence !== queue.nextSequence) {
        stamp(batch, queue.producerId, queue.producerEpoch, queue.nextSequence);
      }
      queue.nextSequence = nextSequenceAfter(batch);
    }
    queue.ready.push(batch);
    this.options.onSealed(batch);
  }

  /** Whether the partition's sequences belong to the producer's current id and epoch. */
  isCurrent(queue: PartitionQueue): boolean {
    return queue.producerId === this.options.producerId() && queue.producerEpoch === this.options.producerEpoch();
  }

  /**
   * A partition with nothing waiting or in flight and no unresolved sequence moves to the
   * producer's current identity at sequence 0 without restamping anything (the common case after
   * an epoch bump: the partition's next batch simply starts the new epoch).
   */
  private adoptIfIdle(queue: PartitionQueue): void {
    if (this.isCurrent(queue) || this.options.producerId() < 0) return;
    if (queue.ready.length > 0 || queue.inFlight > 0 || queue.unresolved || queue.epochBumpNeeded) return;
    this.restamp(queue, this.options.producerId(), this.options.producerEpoch());
  }

  /**
   * Kafka's startSequencesAtBeginning: the partition's sequences start again at 0 under
   * `producerId`/`producerEpoch`, and every waiting batch is restamped in order (the open one is at
   * its seal). Only with nothing in flight: an answer for the old numbering must not arrive after it.
   */
  restamp(queue: PartitionQueue, producerId: number, producerEpoch: number): void {
    assert(queue.inFlight === 0, 'a partition is restamped only with nothing in flight');
    queue.producerId = producerId;
    queue.producerEpoch = producerEpoch;
    queue.nextSequence = 0;
    queue.lastAckedSequence = -1;
    for (const batch of queue.ready) {
      stamp(batch, producerId, producerEpoch, queue.nextSequence);
      queue.nextSequence = nextSequenceAfter(batch);
    }
  }

  /** Seals every open batch (linger expiry, flush). */
  sealAll(): void {
    for (const queue of this.queues.values()) if (queue.open !== null) this.seal(queue);
  }

  hasOpenBatches(): boolean {
    for (const queue of this.queues.values()) if (queue.open !== null) return true;
    return false;
  }

  /**
   * Arms the seal of the oldest open batch: `lingerMs` after it opened (a timer armed for an older
   * batch, since sent, fires first and re-arms for the rest of the newer one's time, not a whole
   * `lingerMs` more). With `lingerMs` 0 no timer at all (Node's shortest is 1 ms): the batch is
   * sealed once the sends of this turn of the event loop are in it.
   */
  private armLinger(): void {
    if (this.lingerTimer !== null || this.lingerImmediate !== null) return;
    if (this.options.lingerMs === 0) {
      this.lingerImmediate = setImmediate(() => {
        this.lingerImmediate = null;
        this.sealLingered();
      });
      return;
    }
    let oldestMs = Number.POSITIVE_INFINITY;
    for (const queue of this.queues.values()) if (queue.open !== null && queue.open.createdAtMs < oldestMs) oldestMs = queue.open.createdAtMs;
    if (oldestMs === Number.POSITIVE_INFINITY) return;
    this.lingerTimer = this.options.clock.setTimeout(() => {
      this.lingerTimer = null;
      this.sealLingered();
    }, Math.max(0, oldestMs + this.options.lingerMs - this.options.clock.now()));
  }

  private sealLingered(): void {
    const now = this.options.clock.now();
    for (const queue of this.queues.values()) {
      if (queue.open !== null && now - queue.open.createdAtMs >= this.options.lingerMs) this.seal(queue);
    }
    if (this.hasOpenBatches()) this.armLinger();
  }

  close(): void {
    if (this.lingerTimer !== null) this.options.clock.clearTimeout(this.lingerTimer);
    if (this.lingerImmediate !== null) clearImmediate(this.lingerImmediate);
    this.lingerTimer = null;
    this.lingerImmediate = null;
  }
}

/** The sequence after the batch's last record (sequences wrap past Int32 max to 0, as Kafka's). */
export function nextSequenceAfter(batch: PendingBatch): number {
  return (batch.baseSequence + batch.recordCount) % 2 ** 31;
}

/**
 * Writes a new producer id, epoch and base sequence into a sealed batch's header and recomputes
 * its CRC (patchProducerState). The batch must not be in flight: its bytes are lent to the
 * transport until the answer.
 */
function stamp(batch: PendingBatch, producerId: number, producerEpoch: number, baseSequence: number): void {
  const data = batch.data;
  assert(data !== null, 'only a sealed batch is restamped');
  assert(data.length >= 61 && batchSizeAt(data, 0) === data.length && data[MAGIC_OFFSET] === CURRENT_MAGIC, 'a sealed batch is exactly one v2 batch');
  assert(data.readInt32BE(RECORD_COUNT_OFFSET) === batch.recordCount, 'the header counts the batch\'s records');
  patchProducerState(data, 0, producerId, producerEpoch, baseSequence);
  assert(isBatchCrcValid(data, 0), 'the restamped batch\'s CRC covers its new header');
  batch.producerId = producerId;
  batch.producerEpoch = producerEpoch;
  batch.baseSequence = baseSequence;
}

export function recordSize(key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | null): number {
  let bytes = (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
  if (headers !== null) for (const h of headers) bytes += Buffer.byteLength(h.key) + (h.value === null ? 0 : h.value.length) + 10;
  return bytes;
}
