/**
 * The RecordBatch v2 header (magic 2), exactly Kafka's 61 bytes:
 *
 *   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 | crc u32 |
 *   attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
 *   producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32
 *
 * batchLength counts the bytes after itself; the CRC-32C covers attributes to the end of the
 * batch, so baseOffset and partitionLeaderEpoch can be patched by the broker without touching the
 * CRC. This module reads and patches headers in place and walks record sets (several batches back
 * to back), checking each length against the buffer before reading. Pure functions over
 * caller-owned buffers; callers serialise access to a buffer they patch.
 */
import { crc32c } from './crc32c.js';
import { CorruptRecordError } from './errors.js';
import { readInt64, writeInt64 } from './varint.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the batch header, up to the first record. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the bytes of a batch that batchLength does not count. */
export const BATCH_OVERHEAD_BYTES = 12;
/** The only batch format this package reads and writes. */
export const CURRENT_MAGIC = 2;
/** The smallest valid batchLength: a header with no records. */
export const BATCH_LENGTH_MIN = BATCH_HEADER_BYTES - BATCH_OVERHEAD_BYTES;

/** Codec ids, the low three bits of the attributes. */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

/** Timestamp types, attribute bit 3. */
export const TimestampType = { createTime: 0, logAppendTime: 1 } as const;
export type TimestampTypeValue = (typeof TimestampType)[keyof typeof TimestampType];

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** Kafka's "no producer" / "no sequence" / "no epoch" value. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampTypeValue;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  /** Compaction's delete horizon (KIP-534): the baseTimestamp when attribute bit 6 is set. */
  deleteHorizonMs: number | null;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** baseOffset + lastOffsetDelta. */
  lastOffset: number;
  /** The whole batch in bytes: batchLength + BATCH_OVERHEAD_BYTES. */
  sizeBytes: number;
}

/**
 * Reads the header of the batch at `position`. Needs only the 61 header bytes, not the whole batch
 * (the log reads headers from files); throws CorruptRecordError when fewer are available, when
 * batchLength is below a bare header, or when magic is not 2.
 */
export function readBatchHeader(buffer: Buffer, position: number): BatchHeader {
  if (position < 0 || buffer.length - position < BATCH_HEADER_BYTES) {
    throw new CorruptRecordError(`batch header at ${position} needs ${BATCH_HEADER_BYTES} bytes, ${buffer.length - position} available`);
  }
  const batchLength = buffer.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN) throw new CorruptRecordError(`batchLength ${batchLength} at ${position} is below ${BATCH_LENGTH_MIN}`);
  const magic = buffer.readInt8(position + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) throw new CorruptRecordError(`batch at ${position} has magic ${magic}, only ${CURRENT_MAGIC} is supported`);
  const attributes = buffer.readInt16BE(position + ATTRIBUTES_OFFSET);
  const baseOffset = readInt64(buffer, position + BASE_OFFSET_OFFSET);
  const lastOffsetDelta = buffer.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  const baseTimestamp = readInt64(buffer, position + BASE_TIMESTAMP_OFFSET);
  const hasDeleteHorizon = (attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buffer.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: buffer.readUInt32BE(position + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) === 0 ? TimestampType.createTime : TimestampType.logAppendTime,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon,
    deleteHorizonMs: hasDeleteHorizon ? baseTimestamp : null,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp: readInt64(buffer, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buffer, position + PRODUCER_ID_OFFSET),
    producerEpoch: buffer.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buffer.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    recordCount: buffer.readInt32BE(position + RECORD_COUNT_OFFSET),
    lastOffset: baseOffset + lastOffsetDelta,
    sizeBytes: batchLength + BATCH_OVERHEAD_BYTES,
  };
}

/** The whole size in bytes of the batch at `position`, checked to lie inside `buffer`. */
export function batchSizeAt(buffer: Buffer, position: number): number {
  if (position < 0 || buffer.length - position < BATCH_HEADER_BYTES) {
    throw new CorruptRecordError(`batch at ${position} needs ${BATCH_HEADER_BYTES} header bytes, ${buffer.length - position} available`);
  }
  const batchLength = buffer.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN) throw new CorruptRecordError(`batchLength ${batchLength} at ${position} is below ${BATCH_LENGTH_MIN}`);
  const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
  if (sizeBytes > buffer.length - position) {
    throw new CorruptRecordError(`batch at ${position} declares ${sizeBytes} bytes, ${buffer.length - position} available`);
  }
  return sizeBytes;
}

/** Sets baseOffset in place. The CRC does not cover it, so the batch stays valid. */
export function patchBaseOffset(buffer: Buffer, position: number, baseOffset: number): void {
  writeInt64(buffer, position + BASE_OFFSET_OFFSET, baseOffset);
}

/** Sets partitionLeaderEpoch in place. The CRC does not cover it, so the batch stays valid. */
export function patchPartitionLeaderEpoch(buffer: Buffer, position: number, partitionLeaderEpoch: number): void {
  buffer.writeInt32BE(partitionLeaderEpoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Marks the batch at `position` as LOG_APPEND_TIME with `maxTimestamp` = `logAppendTime` and
 * recomputes the CRC, as Kafka's broker does when `message.timestamp.type=LogAppendTime`: both
 * fields are covered by the CRC. The records themselves are not rewritten (readers use the
 * batch's maxTimestamp for every record of a LOG_APPEND_TIME batch).
 */
export function patchMaxTimestampForLogAppendTime(buffer: Buffer, position: number, logAppendTime: number): void {
  const sizeBytes = batchSizeAt(buffer, position);
  const attributes = buffer.readInt16BE(position + ATTRIBUTES_OFFSET);
  buffer.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET);
  writeInt64(buffer, position + MAX_TIMESTAMP_OFFSET, logAppendTime);
  writeBatchCrc(buffer, position, sizeBytes);
}

/**
 * Rewrites the producer id, epoch and base sequence of the batch at `position` and recomputes the
 * CRC, which covers them: an idempotent producer that gets a new id or epoch restamps its unsent
 * batches this way instead of re-encoding them, as Kafka's producer does before it sends.
 */
export function patchProducerState(buffer: Buffer, position: number, producerId: number, producerEpoch: number, baseSequence: number): void {
  const sizeBytes = batchSizeAt(buffer, position);
  writeInt64(buffer, position + PRODUCER_ID_OFFSET, producerId);
  buffer.writeInt16BE(producerEpoch, position + PRODUCER_EPOCH_OFFSET);
  buffer.writeInt32BE(baseSequence, position + BASE_SEQUENCE_OFFSET);
  writeBatchCrc(buffer, position, sizeBytes);
}

/** Computes the CRC of the batch at `position` (attributes..end) and stores it in the header. */
export function writeBatchCrc(buffer: Buffer, position: number, sizeBytes: number): void {
  const crc = crc32c(buffer.subarray(position + ATTRIBUTES_OFFSET, position + sizeBytes));
  buffer.writeUInt32BE(crc, position + CRC_OFFSET);
}

/**
 * True when the batch at `position` lies inside `buffer`, has magic 2 and its stored CRC matches
 * attributes..end. Never throws on bad bytes.
 */
export function isBatchCrcValid(buffer: Buffer, position: number): boolean {
  if (position < 0 || buffer.length - position < BATCH_HEADER_BYTES) return false;
  const batchLength = buffer.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN || batchLength + BATCH_OVERHEAD_BYTES > buffer.length - position) return false;
  if (buffer[position + MAGIC_OFFSET] !== CURRENT_MAGIC) return false;
  const stored = buffer.readUInt32BE(position + CRC_OFFSET);
  const computed = crc32c(buffer.subarray(position + ATTRIBUTES_OFFSET, position + BATCH_OVERHEAD_BYTES + batchLength));
  return stored === computed;
}

/**
 * Calls `visit(position, sizeBytes)` for every batch of a record set, in order. Each length is
 * checked against the buffer before the batch is visited; trailing bytes that are not a whole
 * batch, or a bad length, throw CorruptRecordError. With `allowPartialTail`, a last batch cut
 * short (as at the end of a fetch response) is skipped instead.
 */
export function forEachBatch(
  buffer: Buffer,
  visit: (position: number, sizeBytes: number) => void,
  options: { allowPartialTail?: boolean } = {},
): void {
  let position = 0;
  while (position < buffer.length) {
    if (options.allowPartialTail === true && isPartialTail(buffer, position)) return;
    const sizeBytes = batchSizeAt(buffer, position);
    visit(position, sizeBytes);
    position += sizeBytes;
  }
}

/** The batches of a record set as `{ position, sizeBytes }`, checked as in `forEachBatch`. */
export function* batchesIn(buffer: Buffer, options: { allowPartialTail?: boolean } = {}): Generator<{ position: number; sizeBytes: number }> {
  let position = 0;
  while (position < buffer.length) {
    if (options.allowPartialTail === true && isPartialTail(buffer, position)) return;
    const sizeBytes = batchSizeAt(buffer, position);
    yield { position, sizeBytes };
    position += sizeBytes;
  }
}

/**
 * A fetch response may end in a batch cut short by maxBytes (Kafka sends whole batches from the
 * file, the last one possibly partial); such a tail is skipped, not corrupt, when allowed.
 */
function isPartialTail(buffer: Buffer, position: number): boolean {
  const available = buffer.length - position;
  if (available < BATCH_OVERHEAD_BYTES) return true;
  const batchLength = buffer.readInt32BE(position + BATCH_LENGTH_OFFSET);
  return batchLength >= BATCH_LENGTH_MIN && batchLength + BATCH_OVERHEAD_BYTES > available;
}
