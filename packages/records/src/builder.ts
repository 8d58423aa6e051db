/**
 * Writes RecordBatch v2: the producer appends records one by one straight into one growing
 * buffer (no per-record objects), and `build()` compresses the records section if asked, writes
 * the 61-byte header and the CRC-32C. Each record is Kafka's
 *
 *   length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint |
 *   (headerKeyLength varint | headerKey utf8 | headerValueLength varint | headerValue)*
 *
 * with every varint zigzag-encoded and -1 lengths for null. A BatchBuilder belongs to one caller
 * (the producer's accumulator for one partition); it is not safe to share.
 */
import { AssertionError } from 'node:assert';
import { compress } from './codecs.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  BATCH_OVERHEAD_BYTES,
  COMPRESSION_MASK,
  CONTROL_FLAG_MASK,
  CURRENT_MAGIC,
  Compression,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  TimestampType,
  writeBatchCrc,
} from './header.js';
import { sizeOfVarint, sizeOfVarlong, writeInt64, writeVarint, writeVarlong } from './varint.js';

/** A record header: Kafka's header keys are strings, values bytes or null. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** Default limit on a batch's uncompressed size (about Kafka's default max.message.bytes). */
export const BATCH_BYTES_MAX_DEFAULT = 1024 * 1024;
/**
 * First allocation of a builder's buffer (capped at batchBytesMax); it doubles as records arrive.
 * Kafka's default batch.size: growing from less costs more in copies and garbage than it saves.
 */
export const BUILDER_INITIAL_BYTES_DEFAULT = 16 * 1024;

/**
 * node:assert's `ok` collects its arguments into an array on every call; the per-record path
 * checks its invariants through this instead.
 */
function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError({ message });
}

export interface BatchBuilderOptions {
  /** Kafka codec id (`Compression`), default none. */
  compression?: number;
  /** tryAppend refuses a record that would grow the uncompressed batch past this (the first always fits). */
  batchBytesMax?: number;
  /** Initial buffer size; the buffer doubles when full. */
  initialBytes?: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestampType?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /**
   * Compaction's delete horizon (KIP-534): when set, the batch carries attribute bit 6 and this
   * value as its baseTimestamp, and record timestamps are stored relative to it.
   */
  deleteHorizonMs?: number | null;
  /**
   * Write the batch into the caller's buffer at `start` instead of a buffer of the builder's own
   * (uncompressed batches only): the producer lays its batches back to back in one region this
   * way. The buffer must hold every record appended; it is never grown, and `build()` returns a
   * view of it.
   */
  into?: { buffer: Buffer; start: number };
}

const NOT_INTO_A_CALLER_BUFFER = Object.freeze({ buffer: Buffer.alloc(0), start: 0 });

export class BatchBuilder {
  private buffer: Buffer;
  /** Where the batch starts in `buffer` (0 unless writing `into` a caller's buffer). */
  private readonly start: number;
  private position: number;
  private count = 0;
  private baseTimestamp = NO_TIMESTAMP;
  private maxTimestamp = NO_TIMESTAMP;
  private lastOffsetDelta = -1;
  private isBuilt = false;
  private readonly batchBytesMax: number;
  private readonly options: Required<BatchBuilderOptions>;

  constructor(options: BatchBuilderOptions = {}) {
    this.options = {
      compression: options.compression ?? Compression.none,
      batchBytesMax: options.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT,
      initialBytes: options.initialBytes ?? BUILDER_INITIAL_BYTES_DEFAULT,
      baseOffset: options.baseOffset ?? 0,
      partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
      timestampType: options.timestampType ?? TimestampType.createTime,
      producerId: options.producerId ?? NO_PRODUCER_ID,
      producerEpoch: options.producerEpoch ?? NO_PRODUCER_EPOCH,
      baseSequence: options.baseSequence ?? NO_SEQUENCE,
      isTransactional: options.isTransactional ?? false,
      isControl: options.isControl ?? false,
      deleteHorizonMs: options.deleteHorizonMs ?? null,
      into: options.into ?? NOT_INTO_A_CALLER_BUFFER,
    };
    if (this.options.deleteHorizonMs !== null) this.baseTimestamp = this.options.deleteHorizonMs;
    this.batchBytesMax = this.options.batchBytesMax;
    check((this.options.compression & ~COMPRESSION_MASK) === 0, 'compression is a 3-bit codec id');
    if (options.into === undefined) {
      this.buffer = Buffer.allocUnsafe(Math.max(BATCH_HEADER_BYTES + 64, Math.min(this.options.initialBytes, this.options.batchBytesMax)));
      this.start = 0;
    } else {
      check(this.options.compression === Compression.none, 'only uncompressed batches are written into a caller buffer');
      check(options.into.start + BATCH_HEADER_BYTES <= options.into.buffer.length, 'the caller buffer holds the batch header');
      this.buffer = options.into.buffer;
      this.start = options.into.start;
    }
    this.position = this.start + BATCH_HEADER_BYTES;
  }

  /** Uncompressed size of the batch so far, header included. */
  get sizeInBytes(): number {
    return this.position - this.start;
  }

  get recordCount(): number {
    return this.count;
  }

  /**
   * Appends one record with the next offset delta. Returns false, appending nothing, when the
   * record would take the uncompressed batch past `batchBytesMax`; the first record always fits.
   */
  tryAppend(timestamp: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): boolean {
    return this.tryAppendWithOffsetDelta(this.lastOffsetDelta + 1, timestamp, key, value, headers);
  }

  /**
   * As tryAppend with an explicit offset delta, which must grow; compaction uses this to rewrite
   * a batch with gaps between its offsets.
   */
  tryAppendWithOffsetDelta(offsetDelta: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): boolean {
    check(!this.isBuilt, 'BatchBuilder.build() was already called');
    check(offsetDelta > this.lastOffsetDelta && offsetDelta <= 0x7fffffff, 'offset deltas grow');
    if (this.count === 0 && this.options.deleteHorizonMs === null) this.baseTimestamp = timestamp;
    const timestampDelta = timestamp - this.baseTimestamp;
    const keyBytes = key === null ? -1 : key.length;
    const valueBytes = value === null ? -1 : value.length;
    const headerCount = headers == null ? 0 : headers.length;
    const bodyBytes =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfVarint(keyBytes) +
      (keyBytes > 0 ? keyBytes : 0) +
      sizeOfVarint(valueBytes) +
      (valueBytes > 0 ? valueBytes : 0) +
      sizeOfVarint(headerCount) +
      (headerCount === 0 ? 0 : sizeOfHeaders(headers as readonly RecordHeader[]));
    const recordBytes = sizeOfVarint(bodyBytes) + bodyBytes;
    if (this.count > 0 && this.position - this.start + recordBytes > this.batchBytesMax) return false;
    if (this.position + recordBytes > this.buffer.length) this.grow(this.position + recordBytes);
    const buffer = this.buffer;
    let position = writeVarint(buffer, this.position, bodyBytes);
    buffer[position++] = 0; // record attributes: unused by Kafka
    position = writeVarlong(buffer, position, timestampDelta);
    position = writeVarint(buffer, position, offsetDelta);
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
    check(position === this.position + recordBytes, 'record size computed before writing matches the bytes written');
    this.position = position;
    this.count++;
    this.lastOffsetDelta = offsetDelta;
    if (timestamp > this.maxTimestamp || this.count === 1) this.maxTimestamp = timestamp;
    return true;
  }

  /**
   * The specialised encoder of the producer's `send`-array shape: appends `records[start]`,
   * `records[start + 1]`, ... up to `end` (exclusive) as long as each is a plain key/value record
   * (`key` and `value` Buffers, null or absent; nothing else set) and fits under `batchBytesMax`,
   * all with `timestamp`; returns how many it appended (0 when the first does not qualify or fit).
   * Each record is written as `tryAppend` writes it, with the one-byte varints inline and no
   * per-record checks beyond the size: a caller loops here instead of calling `tryAppend` per
   * record (about 80 against 100 ns a record of 10 + 90 bytes). A record with `headers`, a
   * `timestamp` or a `partition` of its own, or a string key or value, stops the run: the caller
   * appends it through `tryAppend` and may come back.
   */
  appendPlainRecords(records: readonly PlainRecordInput[], start: number, end: number, timestamp: number): number {
    check(!this.isBuilt, 'BatchBuilder.build() was already called');
    check(start >= 0 && end <= records.length, 'the run lies within the records');
    if (start >= end) return 0;
    if (this.count === 0 && this.options.deleteHorizonMs === null) this.baseTimestamp = timestamp;
    const timestampDelta = timestamp - this.baseTimestamp;
    const timestampDeltaBytes = sizeOfVarlong(timestampDelta);
    const limit = this.start + this.batchBytesMax;
    const positionBefore = this.position;
    let count = this.count;
    let buffer = this.buffer;
    let position = this.position;
    let offsetDelta = this.lastOffsetDelta;
    let index = start;
    for (; index < end; index++) {
      const record = records[index];
      if (record.headers !== undefined || record.timestamp !== undefined || record.partition !== undefined) break;
      const key = record.key ?? null;
      const value = record.value ?? null;
      if ((key !== null && typeof key === 'string') || (value !== null && typeof value === 'string')) break;
      const keyBytes = key === null ? -1 : key.length;
      const valueBytes = value === null ? -1 : value.length;
      const nextOffsetDelta = offsetDelta + 1;
      if (nextOffsetDelta > 0x7fffffff) break;
      const bodyBytes =
        2 + // attributes, header count (0)
        timestampDeltaBytes +
        (nextOffsetDelta < 0x40 ? 1 : sizeOfVarint(nextOffsetDelta)) +
        (keyBytes < 0x40 ? 1 : sizeOfVarint(keyBytes)) +
        (keyBytes > 0 ? keyBytes : 0) +
        (valueBytes < 0x40 ? 1 : sizeOfVarint(valueBytes)) +
        (valueBytes > 0 ? valueBytes : 0);
      const recordBytes = (bodyBytes < 0x40 ? 1 : sizeOfVarint(bodyBytes)) + bodyBytes;
      // The first record of a batch always goes in (as tryAppend), later ones only within the limit.
      if (position + recordBytes > limit && count > 0) break;
      if (position + recordBytes > buffer.length) {
        this.position = position;
        this.grow(position + recordBytes);
        buffer = this.buffer;
      }
      // Zigzag of a small non-negative number n is 2n; of -1 it is 1.
      position = bodyBytes < 0x40 ? ((buffer[position] = bodyBytes << 1), position + 1) : writeVarint(buffer, position, bodyBytes);
      buffer[position++] = 0; // record attributes: unused by Kafka
      position = timestampDelta === 0 ? ((buffer[position] = 0), position + 1) : writeVarlong(buffer, position, timestampDelta);
      position = nextOffsetDelta < 0x40 ? ((buffer[position] = nextOffsetDelta << 1), position + 1) : writeVarint(buffer, position, nextOffsetDelta);
      if (keyBytes < 0x40) buffer[position++] = keyBytes < 0 ? 1 : keyBytes << 1;
      else position = writeVarint(buffer, position, keyBytes);
      if (keyBytes > 0) {
        buffer.set(key as Buffer, position);
        position += keyBytes;
      }
      if (valueBytes < 0x40) buffer[position++] = valueBytes < 0 ? 1 : valueBytes << 1;
      else position = writeVarint(buffer, position, valueBytes);
      if (valueBytes > 0) {
        buffer.set(value as Buffer, position);
        position += valueBytes;
      }
      buffer[position++] = 0; // header count
      offsetDelta = nextOffsetDelta;
      count++;
    }
    const appended = index - start;
    if (appended === 0) return 0;
    // One check per run that the records written are exactly the bytes sized, as tryAppend's per record.
    check(position > positionBefore && position <= buffer.length && (count === 1 || position - this.start <= this.batchBytesMax), 'the run was written within the batch');
    const wasEmpty = this.count === 0;
    this.count = count;
    this.position = position;
    this.lastOffsetDelta = offsetDelta;
    if (wasEmpty || timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return appended;
  }

  /**
   * Finishes the batch: compresses the records section when a codec is set, writes the header and
   * the CRC, and returns the batch. The builder cannot be appended to afterwards.
   */
  build(): Buffer {
    check(!this.isBuilt, 'BatchBuilder.build() was already called');
    this.isBuilt = true;
    let batch = this.buffer.subarray(this.start, this.position);
    if (this.options.into.buffer === this.buffer) {
      // Written in place in the caller's buffer: the batch is a view of it.
    } else if (this.options.compression === Compression.none && this.position * 2 < this.buffer.length) {
      // A small batch in a large buffer: return it compactly rather than pin the whole buffer.
      batch = Buffer.from(batch);
    } else if (this.options.compression !== Compression.none) {
      const compressed = compress(this.options.compression, batch.subarray(BATCH_HEADER_BYTES));
      batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
      compressed.copy(batch, BATCH_HEADER_BYTES);
    }
    this.writeHeader(batch);
    writeBatchCrc(batch, 0, batch.length);
    return batch;
  }

  private writeHeader(batch: Buffer): void {
    const options = this.options;
    writeInt64(batch, 0, options.baseOffset);
    batch.writeInt32BE(batch.length - BATCH_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET);
    batch.writeInt32BE(options.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
    batch[MAGIC_OFFSET] = CURRENT_MAGIC;
    let attributes = options.compression;
    if (options.timestampType === TimestampType.logAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
    if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
    if (options.isControl) attributes |= CONTROL_FLAG_MASK;
    if (options.deleteHorizonMs !== null) attributes |= DELETE_HORIZON_FLAG_MASK;
    batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
    batch.writeInt32BE(this.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(batch, BASE_TIMESTAMP_OFFSET, this.baseTimestamp);
    writeInt64(batch, MAX_TIMESTAMP_OFFSET, this.maxTimestamp);
    writeInt64(batch, PRODUCER_ID_OFFSET, options.producerId);
    batch.writeInt16BE(options.producerEpoch, PRODUCER_EPOCH_OFFSET);
    batch.writeInt32BE(options.baseSequence, BASE_SEQUENCE_OFFSET);
    batch.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
  }

  private grow(bytesNeeded: number): void {
    check(this.options.into.buffer !== this.buffer, 'a caller buffer holds every record appended (it is never grown)');
    let capacity = this.buffer.length * 2;
    while (capacity < bytesNeeded) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}

/**
 * UTF-8 length of a header key. Keys are nearly always ASCII, where it is the string length; a
 * loop over the characters is several times cheaper than Buffer.byteLength for such short strings.
 */
function utf8Length(text: string): number {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return text.length;
}

function sizeOfHeaders(headers: readonly RecordHeader[]): number {
  let bytes = 0;
  for (let index = 0; index < headers.length; index++) {
    const header = headers[index];
    const keyBytes = utf8Length(header.key);
    const valueBytes = header.value === null ? -1 : header.value.length;
    bytes += sizeOfVarint(keyBytes) + keyBytes + sizeOfVarint(valueBytes) + (valueBytes > 0 ? valueBytes : 0);
  }
  return bytes;
}

function writeHeaders(buffer: Buffer, start: number, headers: readonly RecordHeader[]): number {
  let position = start;
  for (let index = 0; index < headers.length; index++) {
    const header = headers[index];
    const key = header.key;
    const keyBytes = utf8Length(key);
    position = writeVarint(buffer, position, keyBytes);
    if (keyBytes === key.length) {
      // ASCII: one byte per character, written directly (Buffer.write costs ~100 ns a call).
      for (let character = 0; character < keyBytes; character++) buffer[position + character] = key.charCodeAt(character);
      position += keyBytes;
    } else {
      position += buffer.write(key, position, keyBytes, 'utf8');
    }
    const value = header.value;
    position = writeVarint(buffer, position, value === null ? -1 : value.length);
    if (value !== null) {
      buffer.set(value, position);
      position += value.length;
    }
  }
  return position;
}

/**
 * A record as a producer's caller gives it (kafkajs's message shape), for `appendPlainRecords`:
 * only records with Buffer (or null or absent) key and value and none of the other fields set take
 * that path.
 */
export interface PlainRecordInput {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: unknown;
  timestamp?: unknown;
  partition?: unknown;
}

/** One record of `encodeBatch`'s input. */
export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[] | null;
  /** Milliseconds since the epoch; defaults to the batch's `timestamp` option or Date.now(). */
  timestamp?: number;
  /** Offset relative to the batch's base offset; defaults to the previous one + 1. */
  offsetDelta?: number;
}

export interface BatchInput extends Omit<BatchBuilderOptions, 'batchBytesMax' | 'initialBytes'> {
  records: readonly RecordInput[];
  /** Timestamp of records that have none. */
  timestamp?: number;
}

/** Encodes a whole batch at once (through BatchBuilder, without a size limit). */
export function encodeBatch(input: BatchInput): Buffer {
  const builder = new BatchBuilder({ ...input, batchBytesMax: Number.MAX_SAFE_INTEGER, initialBytes: 256 });
  const defaultTimestamp = input.timestamp ?? Date.now();
  let offsetDelta = -1;
  for (const record of input.records) {
    offsetDelta = record.offsetDelta ?? offsetDelta + 1;
    builder.tryAppendWithOffsetDelta(offsetDelta, record.timestamp ?? defaultTimestamp, record.key ?? null, record.value, record.headers);
  }
  return builder.build();
}
