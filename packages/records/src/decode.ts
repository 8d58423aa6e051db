/**
 * Reads RecordBatch v2 (see builder.ts for the record layout). `decodeBatch` checks the batch's
 * bounds, magic and (by default) CRC, decompresses the records section under a size limit, and
 * returns the header with two ways to read the records:
 *
 * - `records()`: a lazy iterator of `KafkaRecord` objects whose keys, values and header values are
 *   views (`subarray`) into the batch (or into the decompressed buffer), not copies.
 * - `forEachRecord(visit)`: calls `visit` with one reused `RecordView` per record, exposing
 *   positions and lengths so a consumer that only needs some fields allocates nothing per record.
 *
 * Every length is checked against the bytes that remain before it is used, so corrupt input is a
 * CorruptRecordError and never a large allocation or an out-of-range read. A decoded batch reads
 * its buffer lazily: the caller must not reuse the buffer while iterating.
 */
import { decompress, DECOMPRESSED_BYTES_MAX_DEFAULT } from './codecs.js';
import { CorruptRecordError } from './errors.js';
import { type BatchHeader, BATCH_HEADER_BYTES, Compression, batchSizeAt, isBatchCrcValid, readBatchHeader, TimestampType } from './header.js';
import type { RecordHeader } from './builder.js';
import { type Cursor, readVarint, readVarlong } from './varint.js';

/** The smallest record: length, attributes, timestampDelta, offsetDelta, key, value, header count. */
export const RECORD_BYTES_MIN = 7;

export interface DecodeOptions {
  /** Limit on the decompressed records section; default DECOMPRESSED_BYTES_MAX_DEFAULT (64 MiB). */
  decompressedBytesMax?: number;
  /** Check the CRC before decoding (default true). */
  verifyCrc?: boolean;
}

/** One decoded record. */
export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
}

/** The current record of `forEachRecord`; valid only during the callback. Lengths are -1 for null. */
export interface RecordView {
  /** The buffer the positions below point into (the batch, or its decompressed records). */
  readonly data: Buffer;
  readonly offset: number;
  readonly timestamp: number;
  readonly attributes: number;
  readonly keyStart: number;
  readonly keyLength: number;
  readonly valueStart: number;
  readonly valueLength: number;
  readonly headerCount: number;
  key(): Buffer | null;
  value(): Buffer | null;
  headers(): RecordHeader[];
}

/**
 * A cursor over a batch's records: each `next()` that returns true makes the cursor the view of
 * the following record; false after the last one, once it checked that the records fill the section
 * exactly. For loops where a callback per record (`forEachRecord`) would cost a call each.
 */
export interface RecordCursor extends RecordView {
  next(): boolean;
}

export interface DecodedBatch extends BatchHeader {
  /** The records section, decompressed if the batch was compressed. */
  readonly recordsData: Buffer;
  records(): IterableIterator<KafkaRecord>;
  forEachRecord(visit: (record: RecordView) => void): void;
  recordCursor(): RecordCursor;
}

/**
 * Decodes the batch at `position` of `buffer`. Throws CorruptRecordError for a batch that does not
 * fit the buffer, a bad magic, a CRC mismatch or a record count the bytes cannot hold; codec errors
 * as `decompress`.
 */
export function decodeBatch(buffer: Buffer, position = 0, options: DecodeOptions = {}): DecodedBatch {
  const sizeBytes = batchSizeAt(buffer, position);
  const header = readBatchHeader(buffer, position);
  if (options.verifyCrc !== false && !isBatchCrcValid(buffer, position)) {
    throw new CorruptRecordError(`batch at ${position} fails its CRC check`);
  }
  const section = buffer.subarray(position + BATCH_HEADER_BYTES, position + sizeBytes);
  const recordsData =
    header.compression === Compression.none ? section : decompress(header.compression, section, options.decompressedBytesMax ?? DECOMPRESSED_BYTES_MAX_DEFAULT);
  if (header.recordCount < 0 || header.recordCount > recordsData.length / RECORD_BYTES_MIN) {
    throw new CorruptRecordError(`record count ${header.recordCount} cannot fit in ${recordsData.length} bytes`);
  }
  const batch = header as DecodedBatch;
  Object.assign(batch, {
    recordsData,
    records: () => iterateRecords(header, recordsData),
    forEachRecord: (visit: (record: RecordView) => void) => {
      const reader = new RecordReader(header, recordsData);
      while (reader.next()) visit(reader);
      reader.checkFullyRead();
    },
    recordCursor: () => new RecordCursorImpl(header, recordsData),
  });
  return batch;
}

function* iterateRecords(header: BatchHeader, data: Buffer): Generator<KafkaRecord, void, undefined> {
  const reader = new RecordReader(header, data);
  while (reader.next()) {
    yield { offset: reader.offset, timestamp: reader.timestamp, key: reader.key(), value: reader.value(), headers: reader.headers(), attributes: reader.attributes };
  }
  reader.checkFullyRead();
}

/** A cursor over the records section; `next()` validates a whole record before exposing it. */
class RecordReader implements RecordView, Cursor {
  position = 0;
  offset = 0;
  timestamp = 0;
  attributes = 0;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headerCount = 0;
  private headersStart = 0;
  private recordEnd = 0;
  private recordsRead = 0;
  private readonly recordCount: number;
  private readonly baseOffset: number;
  private readonly baseTimestamp: number;
  private readonly logAppendTime: number;

  constructor(
    header: BatchHeader,
    readonly data: Buffer,
  ) {
    this.recordCount = header.recordCount;
    this.baseOffset = header.baseOffset;
    this.baseTimestamp = header.baseTimestamp;
    // Kafka: every record of a LOG_APPEND_TIME batch carries the batch's maxTimestamp.
    this.logAppendTime = header.timestampType === TimestampType.logAppendTime ? header.maxTimestamp : -1;
  }

  next(): boolean {
    if (this.recordsRead === this.recordCount) return false;
    const data = this.data;
    const length = readVarint(data, this, data.length);
    if (length < RECORD_BYTES_MIN - 1 || length > data.length - this.position) {
      throw new CorruptRecordError(`record length ${length} at ${this.position} does not fit the ${data.length - this.position} bytes left`);
    }
    const end = this.position + length;
    this.recordEnd = end;
    this.attributes = data[this.position++];
    const timestampDelta = readVarlong(data, this, end);
    const offsetDelta = readVarint(data, this, end);
    this.offset = this.baseOffset + offsetDelta;
    this.timestamp = this.logAppendTime >= 0 ? this.logAppendTime : this.baseTimestamp + timestampDelta;
    this.keyLength = this.readLength(end);
    this.keyStart = this.position;
    this.position += this.keyLength > 0 ? this.keyLength : 0;
    this.valueLength = this.readLength(end);
    this.valueStart = this.position;
    this.position += this.valueLength > 0 ? this.valueLength : 0;
    this.headerCount = readVarint(data, this, end);
    if (this.headerCount < 0 || this.headerCount > (end - this.position) / 2) throw new CorruptRecordError(`header count ${this.headerCount} is invalid`);
    this.headersStart = this.position;
    for (let index = 0; index < this.headerCount; index++) this.skipHeader(end);
    if (this.position !== end) throw new CorruptRecordError(`record at ${end - length} declares ${length} bytes but holds ${this.position - end + length}`);
    this.recordsRead++;
    return true;
  }

  /** After the last record: bytes left over mean the declared count or lengths are wrong. */
  checkFullyRead(): void {
    if (this.position !== this.data.length) throw new CorruptRecordError(`${this.data.length - this.position} bytes follow the last of ${this.recordCount} records`);
  }

  key(): Buffer | null {
    return this.keyLength < 0 ? null : this.data.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  value(): Buffer | null {
    return this.valueLength < 0 ? null : this.data.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  headers(): RecordHeader[] {
    const headers: RecordHeader[] = [];
    if (this.headerCount === 0) return headers;
    const cursor: Cursor = { position: this.headersStart };
    const data = this.data;
    const end = this.recordEnd;
    for (let index = 0; index < this.headerCount; index++) {
      const keyLength = readVarint(data, cursor, end);
      const key = data.toString('utf8', cursor.position, cursor.position + keyLength);
      cursor.position += keyLength;
      const valueLength = readVarint(data, cursor, end);
      const value = valueLength < 0 ? null : data.subarray(cursor.position, cursor.position + valueLength);
      cursor.position += valueLength > 0 ? valueLength : 0;
      headers.push({ key, value });
    }
    return headers;
  }

  /** A key or value length: -1 for null, otherwise it must fit before `end`. */
  private readLength(end: number): number {
    const length = readVarint(this.data, this, end);
    if (length < -1 || length > end - this.position) throw new CorruptRecordError(`length ${length} at ${this.position} does not fit the ${end - this.position} bytes left`);
    return length;
  }

  private skipHeader(end: number): void {
    const keyLength = readVarint(this.data, this, end);
    if (keyLength < 0 || keyLength > end - this.position) throw new CorruptRecordError(`header key length ${keyLength} is invalid`);
    this.position += keyLength;
    const valueLength = this.readLength(end);
    this.position += valueLength > 0 ? valueLength : 0;
  }
}

/** RecordReader whose `next()` also makes the end-of-section check once the last record was read. */
class RecordCursorImpl extends RecordReader implements RecordCursor {
  override next(): boolean {
    if (super.next()) return true;
    this.checkFullyRead();
    return false;
  }
}
