/**
 * Where the producer's uncompressed batches live: each partition writes its batches one after
 * another into a `BatchRegion` (one large Buffer), so the batches of one partition that go in one
 * Produce request are already one contiguous slice (no `Buffer.concat`), and regions are reused
 * from a small `RegionPool` instead of allocating a 16 KiB buffer per batch (the producer's main
 * GC cost). `RegionBatchWriter` has @gregor/records' `BatchBuilder` encode each uncompressed batch
 * straight into a region.
 *
 * Reuse rule: a region goes back to the pool only when every batch in it was answered by the
 * broker (the in-process broker has then written the bytes to its log, and the TCP transport has
 * sent them) and no partition writes into it any more. A batch that failed for good, or was sent
 * with acks=0 (no answer, so the bytes may still be queued on a socket), marks its region as not
 * reusable; the garbage collector takes it. Owned by one producer; not shared.
 */
import assert from 'node:assert';
import { BATCH_HEADER_BYTES, BatchBuilder, type PlainRecordInput, type RecordHeader } from '@gregor/records';

/** One Buffer that a partition's batches are written into back to back. */
export class BatchRegion {
  /** Bytes taken by sealed batches; the open batch starts here. */
  used = 0;
  /** Batches in the region not yet completed, plus one while a partition still writes into it. */
  refs = 0;
  /** False once a batch in it completed without an answer (acks=0) or failed: never reuse. */
  reusable = true;
  constructor(readonly buffer: Buffer) {}

  get freeBytes(): number {
    return this.buffer.length - this.used;
  }
}

/** A bounded free list of regions of the largest size (the ones busy partitions use). */
export class RegionPool {
  private readonly free: Buffer[] = [];

  constructor(
    /** Size of a pooled region; other sizes are allocated as asked and never pooled. */
    readonly regionBytes: number,
    /** Free regions kept for reuse; more are left to the garbage collector. */
    readonly freeRegionsMax: number,
  ) {
    assert(regionBytes > BATCH_HEADER_BYTES, 'regionBytes must hold a batch header');
  }

  get freeCount(): number {
    return this.free.length;
  }

  /** A region of exactly `bytes` (a pooled one when bytes is regionBytes) with refs = 1. */
  acquire(bytes: number): BatchRegion {
    const buffer = bytes === this.regionBytes ? (this.free.pop() ?? Buffer.allocUnsafe(bytes)) : Buffer.allocUnsafe(bytes);
    const region = new BatchRegion(buffer);
    region.refs = 1;
    return region;
  }

  /** Drops one reference; the last one returns a reusable pooled-size region to the free list. */
  unref(region: BatchRegion): void {
    assert(region.refs > 0, 'region released more often than referenced');
    if (--region.refs > 0) return;
    if (region.reusable && region.buffer.length === this.regionBytes && this.free.length < this.freeRegionsMax) this.free.push(region.buffer);
  }
}

/** Whether `next` starts where `previous` ends in the same memory (so both are one slice). */
export function isAdjacent(previous: Buffer, next: Buffer): boolean {
  return previous.buffer === next.buffer && previous.byteOffset + previous.length === next.byteOffset;
}

export interface RegionBatchIdentity {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * Encodes one uncompressed batch at `start` of a region through @gregor/records' BatchBuilder
 * (`into` the region's buffer). Appending stops (false) when a record would take the batch past
 * `batchBytesMax`; the first record always goes in, and the caller made sure the region holds
 * `batchBytesMax` bytes from `start`.
 */
export class RegionBatchWriter {
  private readonly builder: BatchBuilder;

  constructor(
    private readonly region: BatchRegion,
    start: number,
    batchBytesMax: number,
    identity: RegionBatchIdentity,
  ) {
    assert(start + batchBytesMax <= region.buffer.length, 'the region holds the whole batch');
    this.builder = new BatchBuilder({ into: { buffer: region.buffer, start }, batchBytesMax, ...identity });
  }

  get recordCount(): number {
    return this.builder.recordCount;
  }

  tryAppend(timestamp: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): boolean {
    return this.builder.tryAppend(timestamp, key, value, headers);
  }

  appendPlainRecords(records: readonly PlainRecordInput[], start: number, end: number, timestamp: number): number {
    return this.builder.appendPlainRecords(records, start, end, timestamp);
  }

  /** Writes header and CRC; returns the batch (a view into the region) and marks its bytes used. */
  build(): Buffer {
    const batch = this.builder.build();
    this.region.used = batch.byteOffset - this.region.buffer.byteOffset + batch.length;
    return batch;
  }
}
