/**
 * Where the producer's uncompressed batches live: each partition writes its batches one after
 * another into a `BatchRegion` (one large Buffer), so the batches of one partition that go in one
 * Produce request are already one contiguous slice (no `Buffer.concat`), and regions are reused
 * from a small `RegionPool` instead of allocating a 16 KiB buffer per batch (the producer's main
 * GC cost). `RegionBatchWriter` encodes a RecordBatch v2 (magic 2, no compression) straight into a
 * region, byte for byte what `BatchBuilder` from @gregor/records writes (a test checks that).
 *
 * Reuse rule: a region goes back to the pool only when every batch in it was answered by the
 * broker (the in-process broker has then written the bytes to its log, and the TCP transport has
 * sent them) and no partition writes into it any more. A batch that failed for good, or was sent
 * with acks=0 (no answer, so the bytes may still be queued on a socket), marks its region as not
 * reusable; the garbage collector takes it. Owned by one producer; not shared.
 */
import assert from 'node:assert';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  BATCH_OVERHEAD_BYTES,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  type RecordHeader,
  sizeOfVarint,
  sizeOfVarlong,
  writeBatchCrc,
  writeInt64,
  writeVarint,
  writeVarlong,
} from '@gregor/records';

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
 * Encodes one uncompressed batch at `start` of a region, records first, header and CRC on
 * `build()`. Appending stops (false) when a record would take the batch past `batchBytesMax`; the
 * first record always goes in, and the caller made sure the region holds `batchBytesMax` bytes.
 */
export class RegionBatchWriter {
  private position: number;
  private count = 0;
  private baseTimestamp = -1;
  private maxTimestamp = -1;
  private readonly end: number;

  constructor(
    private readonly region: BatchRegion,
    private readonly start: number,
    batchBytesMax: number,
    private readonly identity: RegionBatchIdentity,
  ) {
    this.position = start + BATCH_HEADER_BYTES;
    this.end = start + batchBytesMax;
    assert(this.end <= region.buffer.length, 'the region holds the whole batch');
  }

  get recordCount(): number {
    return this.count;
  }

  tryAppend(timestamp: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): boolean {
    if (this.count === 0) this.baseTimestamp = timestamp;
    const timestampDelta = timestamp - this.baseTimestamp;
    const keyBytes = key === null ? -1 : key.length;
    const valueBytes = value === null ? -1 : value.length;
    const headerCount = headers == null ? 0 : headers.length;
    const bodyBytes =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(this.count) +
      sizeOfVarint(keyBytes) +
      (keyBytes > 0 ? keyBytes : 0) +
      sizeOfVarint(valueBytes) +
      (valueBytes > 0 ? valueBytes : 0) +
      sizeOfVarint(headerCount) +
      (headerCount === 0 ? 0 : sizeOfHeaders(headers as readonly RecordHeader[]));
    const recordEnd = this.position + sizeOfVarint(bodyBytes) + bodyBytes;
    if (recordEnd > this.end) {
      assert(this.count > 0, 'the first record of a batch always fits its reservation');
      return false;
    }
    const buffer = this.region.buffer;
    let position = writeVarint(buffer, this.position, bodyBytes);
    buffer[position++] = 0; // record attributes: unused by Kafka
    position = writeVarlong(buffer, position, timestampDelta);
    position = writeVarint(buffer, position, this.count);
    position = writeVarint(buffer, position, keyBytes);
    if (keyBytes > 0) {
      buffer.set(key as Buffer, position);
      position += keyBytes;
    }
    position = writeVarint(buffer, position, valueBytes);
    if (valueBytes > 0) {
      buffer.set(value as Buffer, position);
      position += valueBytes;
    }
    position = writeVarint(buffer, position, headerCount);
    if (headerCount > 0) position = writeHeaders(buffer, position, headers as readonly RecordHeader[]);
    assert(position === recordEnd, 'record size computed before writing matches the bytes written');
    this.position = position;
    if (timestamp > this.maxTimestamp || this.count === 0) this.maxTimestamp = timestamp;
    this.count++;
    return true;
  }

  /** Writes header and CRC; returns the batch (a view into the region) and marks its bytes used. */
  build(): Buffer {
    assert(this.count > 0, 'a batch holds at least one record');
    const buffer = this.region.buffer;
    const start = this.start;
    const sizeBytes = this.position - start;
    writeInt64(buffer, start, 0);
    buffer.writeInt32BE(sizeBytes - BATCH_OVERHEAD_BYTES, start + BATCH_LENGTH_OFFSET);
    buffer.writeInt32BE(-1, start + PARTITION_LEADER_EPOCH_OFFSET);
    buffer[start + MAGIC_OFFSET] = CURRENT_MAGIC;
    buffer.writeInt16BE(0, start + ATTRIBUTES_OFFSET); // no codec, create time, not transactional
    buffer.writeInt32BE(this.count - 1, start + LAST_OFFSET_DELTA_OFFSET);
    writeInt64(buffer, start + BASE_TIMESTAMP_OFFSET, this.baseTimestamp);
    writeInt64(buffer, start + MAX_TIMESTAMP_OFFSET, this.maxTimestamp);
    writeInt64(buffer, start + PRODUCER_ID_OFFSET, this.identity.producerId);
    buffer.writeInt16BE(this.identity.producerEpoch, start + PRODUCER_EPOCH_OFFSET);
    buffer.writeInt32BE(this.identity.baseSequence, start + BASE_SEQUENCE_OFFSET);
    buffer.writeInt32BE(this.count, start + RECORD_COUNT_OFFSET);
    writeBatchCrc(buffer, start, sizeBytes);
    this.region.used = this.position;
    return buffer.subarray(start, this.position);
  }
}

function sizeOfHeaders(headers: readonly RecordHeader[]): number {
  let bytes = 0;
  for (const { key, value } of headers) {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const valueBytes = value === null ? -1 : value.length;
    bytes += sizeOfVarint(keyBytes) + keyBytes + sizeOfVarint(valueBytes) + (valueBytes > 0 ? valueBytes : 0);
  }
  return bytes;
}

function writeHeaders(buffer: Buffer, position: number, headers: readonly RecordHeader[]): number {
  for (const { key, value } of headers) {
    position = writeVarint(buffer, position, Buffer.byteLength(key, 'utf8'));
    position += buffer.write(key, position, 'utf8');
    position = writeVarint(buffer, position, value === null ? -1 : value.length);
    if (value !== null) {
      buffer.set(value, position);
      position += value.length;
    }
  }
  return position;
}
