/**
 * The producer, kafkajs's API over Kafka's design: `send` encodes each record straight into its
 * partition's open batch (see accumulator.ts); the sender sends every ready batch of one broker in
 * one Produce request, at most `maxInFlightRequests` requests per broker at a time, and retries
 * retriable errors with exponential backoff, keeping each partition's batches in order. With
 * `idempotent`, the broker's producer id, epoch and per-partition sequence numbers make a retried
 * batch land once; a batch that fails for good leaves a gap in its partition's sequence, which the
 * producer closes as Kafka's does (KIP-360): once the partition has nothing in flight, it bumps its
 * epoch (a new producer id when the epoch is at 32767) and every partition starts again at
 * sequence 0 (see `resolveSequences`). Time (linger, backoff, delivery timeout, the wait for buffer memory) is read
 * from the Cluster's clock. One producer belongs to one caller; `send` may be called concurrently.
 */
import assert from 'node:assert';
import { EventEmitter } from 'node:events';
import { ErrorCode } from '@gregor/protocol';
import { Compression } from '@gregor/records';
import { type BatchResult, nextSequenceAfter, type PartitionQueue, type PendingBatch, RecordAccumulator, recordSize } from './accumulator.js';
import { Api } from './api.js';
import { isAdjacent, RegionPool } from './batch-region.js';
import { BufferMemory } from './buffer-memory.js';
import { type Clock, sleep, type TimerHandle } from './clock.js';
import type { Cluster, TopicInfo } from './cluster.js';
import { DeliveryTimeoutError, isRetriable, KafkaClientError, KafkaProtocolError, MetadataTimeoutError, NotConnectedError, throwIfError } from './errors.js';
import { DefaultPartitioner, type Partitioner, type PartitionerFactory, toPartitioner } from './partitioners.js';
import { RETRY_DEFAULTS, type RetryOptions, retryDelayMs, withRetry } from './retry.js';
import { type Headers, toBuffer, toRecordHeaders, type Value } from './values.js';

/** kafkajs's `CompressionTypes`, plus our lower-case names. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionInput = number | 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** The codec id of a compression name or id; anything else (`'brotli'`, 7) is refused, never sent uncompressed. */
export function toCodec(compression: CompressionInput | undefined): number {
  if (compression === undefined) return Compression.none;
  const codec = typeof compression === 'number' ? compression : Object.hasOwn(Compression, compression) ? Compression[compression] : undefined;
  if (codec === undefined || !Number.isInteger(codec) || codec < 0 || codec > Compression.zstd) {
    throw new KafkaClientError('INVALID_CONFIG', `unknown compression ${JSON.stringify(compression)}: choose none, gzip, snappy, lz4 or zstd`);
  }
  return codec;
}

export interface Message {
  key?: Value;
  value: Value;
  headers?: Headers;
  partition?: number;
  /** Milliseconds since the epoch, as a number or kafkajs's string. */
  timestamp?: number | string;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: number;
  timeout?: number;
  compression?: CompressionInput;
}

export interface ProducerBatch {
  topicMessages: { topic: string; messages: Message[] }[];
  acks?: number;
  timeout?: number;
  compression?: CompressionInput;
}

/** kafkajs's RecordMetadata: offsets and times as decimal strings. */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  /** Offset of this send's first record in the partition ('-1' with acks=0). */
  baseOffset: string;
  logAppendTime: string;
  logStartOffset: string;
}

export interface ProducerOptions {
  /** -1 (all, default), 1 (leader) or 0 (no response). Idempotence forces -1. */
  acks?: number;
  /** The broker's wait for acks, Produce `timeoutMs` (default 30000). */
  timeout?: number;
  /** A batch is sent once it holds this many bytes (default 16384, Kafka's batch.size). */
  batchBytes?: number;
  /** ...or once it is this old (default 5 ms, Kafka's linger.ms). */
  lingerMs?: number;
  /** Bytes all unsent and unacknowledged batches may hold (default 32 MiB, Kafka's buffer.memory). */
  bufferMemoryBytes?: number;
  /**
   * How long `send` blocks (default 60000, Kafka's max.block.ms): waiting for the topic's metadata
   * (then METADATA_TIMEOUT), and for buffer memory in what is left of it (then BUFFER_FULL; 0 fails at once).
   */
  maxBlockMs?: number;
  /** Upper bound of one Produce request's record bytes (default 1 MiB, Kafka's max.request.size). */
  maxRequestBytes?: number;
  compression?: CompressionInput;
  idempotent?: boolean;
  retry?: RetryOptions;
  /** Produce requests in flight per broker (default 5; at most 5 when idempotent). */
  maxInFlightRequests?: number;
  /**
   * A batch not acknowledged this long after it opened fails with DELIVERY_TIMEOUT (default 120000,
   * Kafka's delivery.timeout.ms), wherever it is: waiting for a leader or a retry, or in flight.
   */
  deliveryTimeoutMs?: number;
  createPartitioner?: PartitionerFactory;
  /** Randomness for the sticky partitioner, injectable for tests. */
  random?: () => number;
  /**
   * Largest size of the buffers a partition's uncompressed batches are written into back to back,
   * so the batches of one request need no copy (default maxRequestBytes). A partition starts with
   * 4 × batchBytes and doubles while it keeps filling them; one with nothing unsent or unanswered
   * holds none.
   */
  batchRegionBytes?: number;
  /** Free batch regions kept for reuse (default 8). */
  batchRegionsFreeMax?: number;
}

interface SendTracker {
  firstBatch: PendingBatch;
  firstIndex: number;
  batches: PendingBatch[];
}

/** kafkajs producer event names. */
export const ProducerEvents = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect', REQUEST: 'producer.network.request', RETRY: 'producer.retry' } as const;

/** The payload of `producer.retry`: a batch failed with a retriable error and goes again after a backoff. */
export interface ProducerRetryPayload {
  topic: string;
  partition: number;
  /** Attempts failed so far (1 after the first). */
  attempts: number;
  recordCount: number;
  error: Error;
}

export class Producer extends EventEmitter {
  readonly events = ProducerEvents;
  private readonly settings: Required<Omit<ProducerOptions, 'createPartitioner' | 'random' | 'retry' | 'compression' | 'batchRegionBytes' | 'batchRegionsFreeMax'>> & { retry: Required<RetryOptions>; compression: number };
  private readonly memory: BufferMemory;
  private readonly accumulator: RecordAccumulator;
  private readonly partitioner: Partitioner;
  private readonly inFlightByNode = new Map<number, number>();
  private readonly outstanding = new Set<PendingBatch>();
  private producerId = -1;
  private producerEpoch = -1;
  /** Kafka's epochBumpRequired: a partition's sequence has a gap; bump before sending more. */
  private epochBumpRequired = false;
  /** Partitions marked unresolved or needing an epoch bump, not yet resolved: the only ones the sender looks at for gaps. */
  private readonly queuesToResolve = new Set<PartitionQueue>();
  /** Partitions that start again at sequence 0 under the next identity (Kafka's partitionsToRewriteSequences). */
  private readonly partitionsToRestamp = new Set<PartitionQueue>();
  /** InitProducerId for a new producer id (the epoch was at its limit), while it runs. */
  private reinitializing: Promise<void> | null = null;
  /** No new InitProducerId before this time after one failed. */
  private reinitAfterMs = 0;
  private isConnected = false;
  private drainScheduled = false;
  private retryTimer: TimerHandle | null = null;
  private retryTimerAtMs = Number.POSITIVE_INFINITY;
  /** Fires when the oldest outstanding batch reaches deliveryTimeoutMs; armed while any is outstanding. */
  private expiryTimer: TimerHandle | null = null;
  /** No Metadata request for leaderless partitions before this time (the retry backoff, Kafka's retry.backoff.ms). */
  private leaderLookupAfterMs = 0;
  private batchOrder = 0;
  private readonly clock: Clock;

  constructor(
    private readonly cluster: Cluster,
    options: ProducerOptions = {},
    private readonly ownsCluster = false,
  ) {
    super();
    this.clock = cluster.clock;
    const idempotent = options.idempotent ?? false;
    this.settings = {
      acks: idempotent ? -1 : (options.acks ?? -1),
      timeout: options.timeout ?? 30_000,
      batchBytes: options.batchBytes ?? 16_384,
      lingerMs: options.lingerMs ?? 5,
      bufferMemoryBytes: options.bufferMemoryBytes ?? 32 * 1024 * 1024,
      maxBlockMs: options.maxBlockMs ?? 60_000,
      maxRequestBytes: options.maxRequestBytes ?? 1024 * 1024,
      compression: toCodec(options.compression),
      idempotent,
      // Kafka's producer retries (retries=MAX_INT) until delivery.timeout.ms, idempotent or not: a
      // failover takes seconds, and a producer that gives up after a few retries loses records
      // the new leader would have taken.
      retry: { ...RETRY_DEFAULTS, retries: Number.MAX_SAFE_INTEGER, ...options.retry },
      maxInFlightRequests: Math.min(options.maxInFlightRequests ?? 5, idempotent ? 5 : Number.MAX_SAFE_INTEGER),
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
    };
    if (idempotent && options.acks !== undefined && options.acks !== -1) {
      throw new KafkaClientError('INVALID_CONFIG', 'an idempotent producer needs acks=-1 (all)');
    }
    this.memory = new BufferMemory(this.settings.bufferMemoryBytes, this.clock);
    this.partitioner = toPartitioner(options.createPartitioner, options.random);
    const regionBytes = options.batchRegionBytes ?? this.settings.maxRequestBytes;
    const regions = new RegionPool(Math.max(regionBytes, this.settings.batchBytes), options.batchRegionsFreeMax ?? 8);
    this.accumulator = new RecordAccumulator(this.memory, {
      batchBytes: this.settings.batchBytes,
      lingerMs: this.settings.lingerMs,
      clock: this.clock,
      idempotent,
      producerId: () => this.producerId,
      producerEpoch: () => this.producerEpoch,
      onSealed: (batch) => {
        batch.order = this.batchOrder++;
        this.partitioner.onBatchSealed?.(batch.queue.topic, batch.queue.partition);
        this.scheduleDrain();
      },
    }, regions);
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
    if (this.settings.idempotent && this.producerId < 0) await this.initProducerId();
    this.isConnected = true;
    this.emit(ProducerEvents.CONNECT, { type: ProducerEvents.CONNECT, timestamp: this.clock.now(), payload: null });
  }

  private async initProducerId(): Promise<void> {
    const response = await withRetry(this.clock, async () => {
      const r = await this.cluster.request(Api.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      throwIfError(r.errorCode);
      return r;
    }, this.settings.retry.retries > 20 ? { ...this.settings.retry, retries: 20 } : this.settings.retry);
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
  }

  /** Producer id and epoch from InitProducerId (-1 unless idempotent). */
  get producerIdentity(): { producerId: number; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], acks: record.acks, timeout: record.timeout, compression: record.compression });
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!this.isConnected) throw new NotConnectedError('producer is not connected; call connect() first');
    const acks = this.settings.idempotent ? -1 : (batch.acks ?? this.settings.acks);
    const mode = toCodec(batch.compression ?? this.settings.compression) | ((acks + 1) << 4);
    const trackers = new Map<PartitionQueue, SendTracker>();
    for (const { topic, messages } of batch.topicMessages) {
      await this.appendMessages(topic, messages, mode, trackers);
    }
    return this.awaitResults(trackers);
  }

  private async appendMessages(topic: string, messages: Message[], mode: number, trackers: Map<PartitionQueue, SendTracker>): Promise<void> {
    const waitStartMs = this.clock.now();
    const info = await this.waitOnMetadata(topic, waitStartMs);
    const bufferBlockMs = Math.max(0, this.settings.maxBlockMs - (this.clock.now() - waitStartMs));
    const partitionMetadata = info.partitions;
    const partitionCount = partitionMetadata.length;
    const now = this.clock.now();
    let lastQueue: PartitionQueue | null = null;
    let lastTracker: SendTracker | null = null;
    // One arguments object for the whole send, not one per record; the partitioner must not keep it.
    const args: { topic: string; partitionMetadata: typeof partitionMetadata; message: Message } = { topic, partitionMetadata, message: messages[0] };
    // A one-partition topic under the default partitioner: every record goes to partition 0 (murmur2
    // of any key mod 1, the sticky choice among one), so runs of plain key/value records are encoded
    // in one call each (BatchBuilder.appendPlainRecords), without per-record partitioning or calls.
    const plainRuns = partitionCount === 1 && this.partitioner instanceof DefaultPartitioner;
    const onlyQueue = plainRuns ? this.accumulator.queue(topic, 0) : null;
    for (let i = 0; i < messages.length; ) {
      if (onlyQueue !== null) {
        const appended = this.accumulator.appendPlainRun(onlyQueue, mode, messages, i, messages.length, now);
        if (appended > 0) {
          const pending = onlyQueue.open!;
          lastTracker = this.track(trackers, onlyQueue, onlyQueue === lastQueue ? lastTracker : null, pending, pending.recordCount - appended);
          lastQueue = onlyQueue;
          i += appended;
          continue;
        }
      }
      const message = messages[i++];
      const key = toBuffer(message.key);
      const value = toBuffer(message.value);
      const headers = message.headers === undefined ? null : toRecordHeaders(message.headers);
      let partition = message.partition;
      if (partition === undefined || partition === null) {
        args.message = message;
        partition = this.partitioner.partition(args, key);
      }
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
        throw new KafkaProtocolError(3, `partition ${partition} of ${topic} (${partitionCount} partitions)`);
      }
      const timestamp = message.timestamp === undefined || message.timestamp === null ? now : Number(message.timestamp);
      const queue: PartitionQueue = lastQueue !== null && lastQueue.partition === partition && lastQueue.topic === topic ? lastQueue : this.accumulator.queue(topic, partition);
      let pending = this.accumulator.tryAppend(queue, mode, now, timestamp, key, value, headers);
      if (pending === null) {
        const bytes = this.accumulator.bytesForNewBatch(recordSize(key, value, headers));
        await this.memory.reserve(bytes, bufferBlockMs);
        pending = this.accumulator.appendReserved(queue, mode, bytes, this.clock.now(), timestamp, key, value, headers);
      }
      lastTracker = this.track(trackers, queue, queue === lastQueue ? lastTracker : null, pending, pending.recordCount - 1);
      lastQueue = queue;
    }
  }

  /**
   * The topic's metadata, as Kafka's send waits for it (waitOnMetadata): a topic just created or
   * not yet known is looked up again after each backoff until `maxBlockMs` has passed since
   * `startMs`, then METADATA_TIMEOUT; a non-retriable answer (TOPIC_AUTHORIZATION_FAILED) fails at once.
   */
  private async waitOnMetadata(topic: string, startMs: number): Promise<TopicInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.cluster.topicInfo(topic);
      } catch (error) {
        if (!isRetriable(error)) throw error;
        const remainingMs = startMs + this.settings.maxBlockMs - this.clock.now();
        if (remainingMs <= 0) {
          throw new MetadataTimeoutError(`topic '${topic}' not present in metadata after ${this.settings.maxBlockMs} ms (maxBlockMs); last error: ${(error as Error).message}`, error);
        }
        await sleep(this.clock, Math.min(remainingMs, retryDelayMs(attempt, this.settings.retry)));
      }
    }
  }

  /**
   * Notes that this send put records into `pending` (the first of them at `indexInBatch` when it is
   * the send's first batch of the partition); returns the partition's tracker. `known` is the
   * tracker when the caller has it at hand (same partition as the previous record).
   */
  private track(trackers: Map<PartitionQueue, SendTracker>, queue: PartitionQueue, known: SendTracker | null, pending: PendingBatch, indexInBatch: number): SendTracker {
    const tracker = known ?? trackers.get(queue);
    if (tracker === undefined) {
      const created: SendTracker = { firstBatch: pending, firstIndex: indexInBatch, batches: [pending] };
      trackers.set(queue, created);
      this.addOutstanding(pending);
      return created;
    }
    if (tracker.batches[tracker.batches.length - 1] !== pending) {
      tracker.batches.push(pending);
      this.addOutstanding(pending);
    }
    return tracker;
  }

  private async awaitResults(trackers: Map<PartitionQueue, SendTracker>): Promise<RecordMetadata[]> {
    const results: RecordMetadata[] = [];
    for (const [queue, tracker] of trackers) {
      let first: BatchResult | null = null;
      for (const pending of tracker.batches) {
        const result = await pending.done;
        if (pending === tracker.firstBatch) first = result;
      }
      const f = first!;
      results.push({
        topicName: queue.topic,
        partition: queue.partition,
        errorCode: 0,
        baseOffset: String(f.baseOffset < 0 ? -1 : f.baseOffset + tracker.firstIndex),
        logAppendTime: String(f.logAppendTimeMs),
        logStartOffset: String(f.logStartOffset),
      });
    }
    return results;
  }

  /** Seals every open batch and waits until the broker has answered for all of them. */
  async flush(): Promise<void> {
    this.accumulator.sealAll();
    this.scheduleDrain();
    const pending = [...this.outstanding];
    await Promise.allSettled(pending.map((b) => b.done));
  }

  /**
   * Sends what is buffered and waits for the answers, then disconnects. With `timeoutMs` (Kafka's
   * close(timeout)) it waits at most that long, then fails every batch still unacknowledged with
   * NOT_CONNECTED (caused by the partition's last error) instead of waiting out deliveryTimeoutMs.
   */
  async disconnect(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.isConnected) return;
    const flushed = this.flush();
    if (options.timeoutMs === undefined) await flushed;
    else {
      let timer: TimerHandle | null = null;
      const waited = await Promise.race([flushed.then(() => true), new Promise<boolean>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), options.timeoutMs!)))]);
      if (timer !== null) this.clock.clearTimeout(timer);
      if (!waited) {
        for (const batch of [...this.outstanding]) {
          this.expire(batch, (cause) => new NotConnectedError(`producer disconnected with ${batch.recordCount} record(s) for ${batch.queue.topic}-${batch.queue.partition} unacknowledged after ${options.timeoutMs} ms`, cause));
        }
      }
    }
    this.isConnected = false;
    this.accumulator.close();
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    if (this.expiryTimer !== null) this.clock.clearTimeout(this.expiryTimer);
    this.retryTimer = null;
    this.expiryTimer = null;
    this.memory.failWaiters(new NotConnectedError('producer disconnected'));
    if (this.ownsCluster) await this.cluster.close();
    this.emit(ProducerEvents.DISCONNECT, { type: ProducerEvents.DISCONNECT, timestamp: this.clock.now(), payload: null });
  }

  // ---- sender -------------------------------------------------------------------------------

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Groups ready batches by leader and sends one Produce request per broker and acks level. */
  private drain(): void {
    const now = this.clock.now();
    const byNode = new Map<number, PendingBatch[][]>();
    let nextRetryAtMs = Number.POSITIVE_INFINITY;
    let leaderless: Set<string> | null = null;
    const idempotent = this.settings.idempotent;
    if (idempotent) {
      this.resolveSequences(now);
      // Waiting for a new producer id: nothing goes out under the old one (Kafka's !isValid()).
      if (this.producerId < 0) {
        if (this.reinitializing === null && this.reinitAfterMs > now) this.armRetryTimer(this.reinitAfterMs, now);
        return;
      }
    }
    for (const queue of this.accumulator.queues.values()) {
      if (queue.ready.length === 0) continue;
      if (idempotent && !this.mayDrainIdempotent(queue)) continue;
      if (queue.ready[0].retryAtMs > now) {
        nextRetryAtMs = Math.min(nextRetryAtMs, queue.ready[0].retryAtMs);
        continue;
      }
      let leader: number;
      try {
        leader = this.cluster.leaderFor(queue.topic, queue.partition);
      } catch (error) {
        queue.lastError = this.cluster.topicError(queue.topic) ?? (error as Error);
        (leaderless ??= new Set()).add(queue.topic);
        continue;
      }
      if ((this.inFlightByNode.get(leader) ?? 0) >= this.settings.maxInFlightRequests) continue;
      const taken = this.takeBatches(queue, now);
      let groups = byNode.get(leader);
      if (groups === undefined) byNode.set(leader, (groups = []));
      groups.push(taken);
    }
    for (const [nodeId, groups] of byNode) this.sendToNode(nodeId, groups);
    if (leaderless !== null) {
      // Look the leaders up again, but at most once a backoff: a partition without a leader for
      // long must not become a loop of Metadata requests.
      if (now >= this.leaderLookupAfterMs && this.refreshing === null) {
        this.leaderLookupAfterMs = now + this.settings.retry.initialRetryTimeMs;
        this.refreshMetadataSoon([...leaderless]);
      } else if (this.refreshing === null) nextRetryAtMs = Math.min(nextRetryAtMs, this.leaderLookupAfterMs);
    }
    if (nextRetryAtMs !== Number.POSITIVE_INFINITY) this.armRetryTimer(nextRetryAtMs, now);
  }

  // ---- idempotence: sequence gaps (Kafka's TransactionManager, KIP-360) ---------------------

  /**
   * Kafka's maybeResolveSequences and bumpIdempotentEpochAndResetIdIfNeeded. A partition whose
   * sequence is unresolved waits until nothing of it is in flight; then, if the broker's last
   * acknowledged sequence is followed by the next one to send, all is well (an expired batch was
   * written after all); else there is a gap the broker will never fill. A gap under the current
   * identity needs a new one: the epoch goes up by one locally (the broker takes a new epoch from
   * sequence 0), or at 32767 InitProducerId gives a new producer id. Then the partitions with a gap
   * are restamped from sequence 0; the other partitions move to the new identity as soon as they
   * have nothing in flight of the old one (`mayDrainIdempotent`).
   */
  private resolveSequences(now: number): void {
    for (const queue of this.queuesToResolve) {
      if (queue.inFlight > 0) continue;
      this.queuesToResolve.delete(queue);
      const next = queue.ready.length > 0 ? queue.ready[0].baseSequence : queue.nextSequence;
      if (queue.epochBumpNeeded || (queue.lastAckedSequence + 1) % 2 ** 31 !== next) {
        this.partitionsToRestamp.add(queue);
        // A gap in an old identity's sequence needs no bump: the partition moves to the current one.
        if (this.accumulator.isCurrent(queue)) this.epochBumpRequired = true;
      }
      queue.unresolved = false;
      queue.epochBumpNeeded = false;
    }
    if (this.epochBumpRequired && this.producerId >= 0) {
      this.epochBumpRequired = false;
      if (this.producerEpoch >= EPOCH_MAX) {
        this.producerId = -1;
        this.producerEpoch = -1;
      } else {
        this.producerEpoch++;
      }
    }
    if (this.producerId < 0) {
      if (this.reinitializing === null && now >= this.reinitAfterMs && this.isConnected) this.reinitializeProducerId();
      return;
    }
    for (const queue of this.partitionsToRestamp) this.accumulator.restamp(queue, this.producerId, this.producerEpoch);
    this.partitionsToRestamp.clear();
  }

  /** Kafka's resetIdempotentProducerId and a new InitProducerId; the sender waits for it. */
  private reinitializeProducerId(): void {
    this.reinitializing = this.initProducerId()
      .catch((error: unknown) => {
        this.reinitAfterMs = this.clock.now() + this.settings.retry.initialRetryTimeMs;
        for (const queue of this.accumulator.queues.values()) if (queue.ready.length > 0) queue.lastError = error as Error;
      })
      .finally(() => {
        this.reinitializing = null;
        this.scheduleDrain();
      });
  }

  /**
   * Kafka's shouldStopDrainBatchesForPartition for the idempotent producer: nothing goes to a
   * partition whose sequence is unresolved; a partition still numbered under an old identity
   * sends the batches it sent before with their old numbers (so the broker still recognises a
   * retry it already wrote), and once nothing of the old identity is in flight it is restamped
   * from sequence 0 of the current one.
   */
  private mayDrainIdempotent(queue: PartitionQueue): boolean {
    if (queue.unresolved || queue.epochBumpNeeded) return false;
    if (this.accumulator.isCurrent(queue) || queue.ready[0].attempts > 0) return true;
    if (queue.inFlight > 0) return false;
    this.accumulator.restamp(queue, this.producerId, this.producerEpoch);
    return true;
  }

  /** Runs the sender at `atMs`, or earlier when a timer is armed for earlier. */
  private armRetryTimer(atMs: number, now: number): void {
    if (this.retryTimer !== null) {
      if (this.retryTimerAtMs <= atMs) return;
      this.clock.clearTimeout(this.retryTimer);
    }
    this.retryTimerAtMs = atMs;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.retryTimerAtMs = Number.POSITIVE_INFINITY;
      this.drain();
    }, Math.max(0, atMs - now));
  }

  // ---- delivery timeout ---------------------------------------------------------------------

  private addOutstanding(batch: PendingBatch): void {
    this.outstanding.add(batch);
    // With no timer armed nothing older is outstanding: this batch is the next to expire.
    if (this.expiryTimer === null) this.armExpiry(batch.createdAtMs + this.settings.deliveryTimeoutMs);
  }

  private removeOutstanding(batch: PendingBatch): void {
    this.outstanding.delete(batch);
    if (this.outstanding.size === 0 && this.expiryTimer !== null) {
      // Nothing left to expire: no timer keeps the process alive or runs for nothing.
      this.clock.clearTimeout(this.expiryTimer);
      this.expiryTimer = null;
    }
  }

  private armExpiry(atMs: number): void {
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = null;
      this.expireBatches();
    }, Math.max(0, atMs - this.clock.now()));
  }

  /**
   * Kafka's RecordAccumulator.expiredBatches and Sender's expired in-flight batches: every batch
   * opened deliveryTimeoutMs ago or more fails with DELIVERY_TIMEOUT, wherever it is, so a send
   * settles even when its partition has no leader, its broker cannot be reached or never answers.
   */
  private expireBatches(): void {
    const now = this.clock.now();
    const timeoutMs = this.settings.deliveryTimeoutMs;
    let oldestLeftMs = Number.POSITIVE_INFINITY;
    for (const batch of [...this.outstanding]) {
      if (now - batch.createdAtMs < timeoutMs) {
        oldestLeftMs = Math.min(oldestLeftMs, batch.createdAtMs);
        continue;
      }
      const { topic, partition } = batch.queue;
      this.expire(batch, (cause) => new DeliveryTimeoutError(
        `expiring ${batch.recordCount} record(s) for ${topic}-${partition}: ${now - batch.createdAtMs} ms have passed since the batch opened (deliveryTimeoutMs ${timeoutMs})${cause === null ? '' : `; last error: ${cause.message}`}`,
        cause ?? undefined,
      ));
    }
    if (oldestLeftMs !== Number.POSITIVE_INFINITY && this.expiryTimer === null) this.armExpiry(oldestLeftMs + timeoutMs);
  }

  /**
   * Fails one outstanding batch with `makeError(the partition's last error)`. One not sent (open,
   * waiting for a leader or a retry) leaves its queue and returns its memory now; one in flight
   * is marked, and returns its memory when its answer comes (the transport may still read it).
   */
  private expire(batch: PendingBatch, makeError: (cause: Error | null) => Error): void {
    const queue = batch.queue;
    if (queue.open === batch) this.accumulator.seal(queue);
    const error = makeError(queue.lastError);
    const at = queue.ready.indexOf(batch);
    this.removeOutstanding(batch);
    if (this.settings.idempotent) {
      if (at >= 0 && batch.attempts === 0 && batch.producerEpoch === queue.producerEpoch && batch.producerId === queue.producerId && nextSequenceAfter(batch) === queue.nextSequence) {
        // Never sent and the partition's last numbered batch: its sequences are simply given back.
        queue.nextSequence = batch.baseSequence;
      } else {
        // Kafka's markSequenceUnresolved: the broker may or may not have it, and later batches are numbered after it.
        this.markUnresolved(queue);
      }
      this.scheduleDrain();
    }
    if (at >= 0) {
      queue.ready.splice(at, 1);
      this.memory.release(batch.reservedBytes);
      this.accumulator.releaseBatch(batch, batch.attempts === 0);
    } else {
      batch.expired = true;
    }
    batch.reject(error);
  }

  /** The head batches of one partition with the same acks, up to maxRequestBytes (at least one). */
  private takeBatches(queue: PartitionQueue, now: number): PendingBatch[] {
    const first = queue.ready.shift()!;
    assert(!this.settings.idempotent || (first.producerId === queue.producerId && first.producerEpoch === queue.producerEpoch), 'a batch goes out numbered under its partition\'s identity');
    const taken = [first];
    let bytes = first.data!.length;
    // Idempotent batches go one per partition per request, as Kafka's producer does, so a
    // retried batch is never behind a later one of the same partition in the same request.
    while (!this.settings.idempotent && queue.ready.length > 0) {
      const next = queue.ready[0];
      if (next.mode >> 4 !== first.mode >> 4 || next.retryAtMs > now || bytes + next.data!.length > this.settings.maxRequestBytes) break;
      // A region batch not right after the previous one would need a copy: it goes in the next request.
      if (next.region !== null && !isAdjacent(taken[taken.length - 1].data!, next.data!)) break;
      taken.push(queue.ready.shift()!);
      bytes += next.data!.length;
    }
    queue.inFlight += taken.length;
    return taken;
  }

  private sendToNode(nodeId: number, groups: PendingBatch[][]): void {
    const byAcks = new Map<number, PendingBatch[][]>();
    for (const group of groups) {
      const acks = (group[0].mode >> 4) - 1;
      let list = byAcks.get(acks);
      if (list === undefined) byAcks.set(acks, (list = []));
      list.push(group);
    }
    for (const [acks, list] of byAcks) void this.produce(nodeId, acks, list);
  }

  private async produce(nodeId: number, acks: number, groups: PendingBatch[][]): Promise<void> {
    this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 0) + 1);
    const topicData = new Map<string, { name: string; partitionData: { index: number; records: Buffer }[] }>();
    for (const group of groups) {
      const { topic, partition } = group[0].queue;
      let entry = topicData.get(topic);
      if (entry === undefined) topicData.set(topic, (entry = { name: topic, partitionData: [] }));
      const records = group.length === 1 ? group[0].data! : contiguousRecords(group);
      entry.partitionData.push({ index: partition, records });
    }
    const body = { transactionalId: null, acks, timeoutMs: this.settings.timeout, topicData: [...topicData.values()] };
    try {
      const response = await this.cluster.request(Api.Produce, body, { nodeId, expectResponse: acks !== 0, recordsBuiltByProducer: true });
      this.completeRequest(acks, groups, response);
    } catch (error) {
      for (const group of groups) this.failGroup(group, error as Error);
    } finally {
      this.inFlightByNode.set(nodeId, this.inFlightByNode.get(nodeId)! - 1);
      this.scheduleDrain();
    }
  }

  private completeRequest(acks: number, groups: PendingBatch[][], response: { responses: { name: string; partitionResponses: { index: number; errorCode: number; baseOffset: number; logAppendTimeMs: number; logStartOffset: number; errorMessage?: string | null }[] }[] } | null): void {
    if (acks === 0 || response === null) {
      for (const group of groups) for (const b of group) this.finish(b, { baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }, false);
      return;
    }
    const answers = new Map<string, (typeof response.responses)[number]['partitionResponses'][number]>();
    for (const topic of response.responses) for (const p of topic.partitionResponses) answers.set(`${topic.name}\u0000${p.index}`, p);
    for (const group of groups) {
      const answer = answers.get(`${group[0].queue.topic}\u0000${group[0].queue.partition}`);
      if (answer === undefined) {
        this.failGroup(group, new KafkaProtocolError(-1, 'no answer for the partition in the Produce response'));
      } else if (answer.errorCode !== 0) {
        this.failGroup(group, new KafkaProtocolError(answer.errorCode, answer.errorMessage));
      } else {
        let offset = answer.baseOffset;
        for (const b of group) {
          this.finish(b, { baseOffset: offset, logAppendTimeMs: answer.logAppendTimeMs, logStartOffset: answer.logStartOffset });
          offset += b.recordCount;
        }
      }
    }
  }

  private finish(batch: PendingBatch, result: BatchResult, answered = true): void {
    const queue = batch.queue;
    if (this.settings.idempotent && batch.producerId === queue.producerId && batch.producerEpoch === queue.producerEpoch) {
      queue.lastAckedSequence = Math.max(queue.lastAckedSequence, nextSequenceAfter(batch) === 0 ? 2 ** 31 - 1 : nextSequenceAfter(batch) - 1);
    }
    batch.queue.inFlight--;
    this.removeOutstanding(batch);
    this.memory.release(batch.reservedBytes);
    this.accumulator.releaseBatch(batch, answered);
    batch.resolve(result);
  }

  /** Requeues a group for a retry in order, or fails its batches when the error is final. */
  private failGroup(failed: PendingBatch[], error: Error): void {
    const queue = failed[0].queue;
    queue.lastError = error;
    // Batches failed by deliveryTimeoutMs while in flight are done: they only return their memory.
    const group = failed.filter((b) => !b.expired);
    for (const b of failed) {
      if (!b.expired) continue;
      b.queue.inFlight--;
      this.memory.release(b.reservedBytes);
      this.accumulator.releaseBatch(b, false);
    }
    if (group.length === 0) return;
    const retriable = isRetriable(error) || (this.settings.idempotent && this.isSequenceError(group[0], error));
    const now = this.clock.now();
    const ageMs = now - group[0].createdAtMs;
    const withinDeliveryTimeout = ageMs < this.settings.deliveryTimeoutMs;
    if (retriable && withinDeliveryTimeout && group[0].attempts < this.settings.retry.retries && this.isConnected) {
      const retryAtMs = now + retryDelayMs(group[0].attempts, this.settings.retry);
      for (const b of group) {
        b.attempts++;
        b.retryAtMs = retryAtMs;
      }
      queue.inFlight -= group.length;
      queue.ready.push(...group);
      queue.ready.sort((a, b) => a.order - b.order);
      this.refreshMetadataSoon([queue.topic]);
      if (this.listenerCount(ProducerEvents.RETRY) > 0) {
        const payload: ProducerRetryPayload = { topic: queue.topic, partition: queue.partition, attempts: group[0].attempts, recordCount: group.reduce((sum, b) => sum + b.recordCount, 0), error };
        this.emit(ProducerEvents.RETRY, { type: ProducerEvents.RETRY, timestamp: now, payload });
      }
      return;
    }
    const final = retriable && !withinDeliveryTimeout
      ? new DeliveryTimeoutError(
          `expiring ${group.reduce((sum, b) => sum + b.recordCount, 0)} record(s) for ${queue.topic}-${queue.partition}: ${ageMs} ms have passed since the batch opened (deliveryTimeoutMs ${this.settings.deliveryTimeoutMs}); last error: ${error.message}`,
          error,
        )
      : error;
    // Kafka's handleFailedBatch: later batches are numbered after these, which the broker does not have.
    if (this.settings.idempotent) this.markUnresolved(queue);
    for (const b of group) {
      b.queue.inFlight--;
      this.removeOutstanding(b);
      this.memory.release(b.reservedBytes);
      this.accumulator.releaseBatch(b, false);
      b.reject(final);
    }
  }

  /**
   * Kafka's canRetry for the idempotent producer: OUT_OF_ORDER_SEQUENCE_NUMBER and
   * UNKNOWN_PRODUCER_ID are retried. OUT_OF_ORDER for the batch right after the last one
   * acknowledged, or UNKNOWN_PRODUCER_ID (the broker forgot the producer) for a batch of the
   * current identity, mean the broker will not take the partition's numbering again: a new epoch
   * is needed. OUT_OF_ORDER for a later batch may only mean an earlier one failed to append: the
   * partition waits for its in-flight batches and then checks for a gap.
   */
  private isSequenceError(batch: PendingBatch, error: Error): boolean {
    if (!(error instanceof KafkaProtocolError)) return false;
    const queue = batch.queue;
    const current = batch.producerId === queue.producerId && batch.producerEpoch === queue.producerEpoch;
    if (error.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      if (current && (queue.lastAckedSequence + 1) % 2 ** 31 === batch.baseSequence) this.markEpochBumpNeeded(queue);
      else this.markUnresolved(queue);
      return true;
    }
    if (error.errorCode === ErrorCode.UNKNOWN_PRODUCER_ID) {
      if (current) this.markEpochBumpNeeded(queue);
      return true;
    }
    return false;
  }

  private markUnresolved(queue: PartitionQueue): void {
    queue.unresolved = true;
    this.queuesToResolve.add(queue);
  }

  private markEpochBumpNeeded(queue: PartitionQueue): void {
    queue.epochBumpNeeded = true;
    this.queuesToResolve.add(queue);
  }

  private refreshing: Promise<unknown> | null = null;
  private refreshMetadataSoon(topics: string[]): void {
    this.refreshing ??= this.cluster
      .refreshMetadata(topics)
      .catch((error: Error) => {
        // Every broker unreachable: that is what the partitions waiting for a leader wait on.
        for (const queue of this.accumulator.queues.values()) if (queue.ready.length > 0 && topics.includes(queue.topic)) queue.lastError = error;
      })
      .finally(() => {
        this.refreshing = null;
        this.scheduleDrain();
      });
  }
}

/** Kafka's Short.MAX_VALUE: a producer epoch above it needs a new producer id. */
const EPOCH_MAX = 32_767;

/** The batches of one group as one record set: a view when they lie back to back, else a copy. */
function contiguousRecords(group: PendingBatch[]): Buffer {
  let previous = group[0].data!;
  for (let i = 1; i < group.length; i++) {
    const next = group[i].data!;
    if (!isAdjacent(previous, next)) return Buffer.concat(group.map((b) => b.data!));
    previous = next;
  }
  const first = group[0].data!;
  return Buffer.from(first.buffer, first.byteOffset, previous.byteOffset + previous.length - first.byteOffset);
}
