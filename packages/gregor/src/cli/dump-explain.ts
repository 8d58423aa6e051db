/**
 * `gregor dump-log --explain`, for someone learning how Kafka's log is laid out:
 *   - one RecordBatch of a `.log` segment byte by byte: each header field with its position, its
 *     bytes in hex, its name, its value and what it means; then each record's varint fields
 *     (decompressed first when the batch is compressed, positions then counted in the
 *     decompressed bytes);
 *   - one offset lookup: the binary search over the `.index` entries for the last entry at or
 *     below the target offset (each entry maps a batch's last offset to its byte position), then
 *     the scan of the `.log` from that position to the batch holding the target.
 * Reads the files through node:fs; pure otherwise. Yields lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_OVERHEAD_BYTES,
  COMPRESSION_MASK,
  CONTROL_FLAG_MASK,
  crc32c,
  decompress,
  DELETE_HORIZON_FLAG_MASK,
  readBatchHeader,
  readVarint,
  readVarlong,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
} from '@gregor/records';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const INDEX_ENTRY_BYTES = 8;
/** Longest key or value shown in hex before it is cut. */
const SHOWN_BYTES_MAX = 16;
/** Records shown in full: the first few (and the one asked for); the others have the same layout. */
const RECORDS_SHOWN = 3;
/** Explaining is for learning: a batch larger than this is refused rather than read whole. */
const EXPLAINED_BATCH_BYTES_MAX = 64 * 1024 * 1024;

interface Row {
  at: number;
  bytes: Buffer;
  name: string;
  value: string;
  note?: string;
}

function formatRow({ at, bytes, name, value, note }: Row, indent = '  '): string {
  const shown = bytes.subarray(0, SHOWN_BYTES_MAX);
  const hex = [...shown].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > SHOWN_BYTES_MAX ? ` … (${bytes.length} bytes)` : '');
  return `${indent}${String(at).padStart(6)}  ${hex.padEnd(52)}  ${name.padEnd(21)} ${value}${note === undefined ? '' : `  (${note})`}`;
}

const HEADER_LINE = `  ${'byte'.padStart(6)}  ${'hex'.padEnd(52)}  ${'field'.padEnd(21)} value`;

/** The segment file's batches: position and size, read from their length fields only. */
function* batchPositions(fd: number, size: number): Generator<{ position: number; sizeBytes: number; head: Buffer }> {
  let position = 0;
  while (position + BATCH_HEADER_BYTES <= size) {
    const head = Buffer.alloc(BATCH_HEADER_BYTES);
    fs.readSync(fd, head, 0, BATCH_HEADER_BYTES, position);
    const batchLength = head.readInt32BE(8);
    const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
    if (batchLength < BATCH_LENGTH_MIN || position + sizeBytes > size) return;
    yield { position, sizeBytes, head };
    position += sizeBytes;
  }
}

/** Explains the batch holding `offset` (the first batch when undefined), byte by byte. */
export function* explainBatch(logPath: string, offset: number | undefined): Generator<string> {
  const fd = fs.openSync(logPath, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let found: { position: number; sizeBytes: number } | undefined;
    for (const batch of batchPositions(fd, size)) {
      const header = readBatchHeader(batch.head, 0);
      if (offset === undefined || header.lastOffset >= offset) {
        found = batch;
        break;
      }
    }
    if (found === undefined) {
      yield offset === undefined ? `${logPath} holds no complete batch.` : `${logPath} holds no batch with offset ${offset}.`;
      return;
    }
    if (found.sizeBytes > EXPLAINED_BATCH_BYTES_MAX) {
      yield `The batch at position ${found.position} is ${found.sizeBytes} bytes, more than --explain reads (${EXPLAINED_BATCH_BYTES_MAX}).`;
      return;
    }
    const bytes = Buffer.alloc(found.sizeBytes);
    fs.readSync(fd, bytes, 0, found.sizeBytes, found.position);
    yield* explainBatchBytes(bytes, found.position, path.basename(logPath), offset);
  } finally {
    fs.closeSync(fd);
  }
}

function* explainBatchBytes(bytes: Buffer, filePosition: number, fileName: string, offset: number | undefined): Generator<string> {
  const header = readBatchHeader(bytes, 0);
  yield `RecordBatch at byte ${filePosition} of ${fileName}: ${bytes.length} bytes, offsets ${header.baseOffset} to ${header.lastOffset}.`;
  yield 'Positions below count from the start of the batch. The header is 61 bytes, big-endian:';
  yield HEADER_LINE;
  const attributes = bytes.readInt16BE(21);
  const codec = attributes & COMPRESSION_MASK;
  const flags = [
    `codec ${CODECS[codec] ?? codec}`,
    (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 'LogAppendTime' : 'CreateTime',
    (attributes & TRANSACTIONAL_FLAG_MASK) !== 0 ? 'transactional' : undefined,
    (attributes & CONTROL_FLAG_MASK) !== 0 ? 'control' : undefined,
    (attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? 'delete horizon set' : undefined,
  ].filter((flag) => flag !== undefined);
  const crcComputed = crc32c(bytes.subarray(21));
  const rows: Row[] = [
    { at: 0, bytes: bytes.subarray(0, 8), name: 'baseOffset', value: String(header.baseOffset), note: 'int64: the offset of the first record; the broker writes it, outside the CRC' },
    { at: 8, bytes: bytes.subarray(8, 12), name: 'batchLength', value: String(bytes.readInt32BE(8)), note: 'int32: bytes after this field, so the batch is 12 bytes more' },
    { at: 12, bytes: bytes.subarray(12, 16), name: 'partitionLeaderEpoch', value: String(header.partitionLeaderEpoch), note: 'int32: the leader epoch when written; outside the CRC' },
    { at: 16, bytes: bytes.subarray(16, 17), name: 'magic', value: String(header.magic), note: 'int8: 2 for RecordBatch v2' },
    { at: 17, bytes: bytes.subarray(17, 21), name: 'crc', value: String(header.crc), note: `uint32: CRC-32C of bytes 21 to the end; computed ${crcComputed}, ${crcComputed === header.crc ? 'it matches' : 'IT DOES NOT MATCH'}` },
    { at: 21, bytes: bytes.subarray(21, 23), name: 'attributes', value: `0x${attributes.toString(16).padStart(4, '0')}`, note: `int16 bits: ${flags.join(', ')}` },
    { at: 23, bytes: bytes.subarray(23, 27), name: 'lastOffsetDelta', value: String(header.lastOffsetDelta), note: 'int32: last offset - baseOffset' },
    { at: 27, bytes: bytes.subarray(27, 35), name: 'baseTimestamp', value: String(header.baseTimestamp), note: `int64 ms: ${isoTime(header.baseTimestamp)}; records store deltas from it` },
    { at: 35, bytes: bytes.subarray(35, 43), name: 'maxTimestamp', value: String(header.maxTimestamp), note: `int64 ms: ${isoTime(header.maxTimestamp)}; the time index uses it` },
    { at: 43, bytes: bytes.subarray(43, 51), name: 'producerId', value: String(header.producerId), note: header.producerId < 0 ? 'int64: -1, not an idempotent producer' : 'int64: the idempotent producer that wrote it' },
    { at: 51, bytes: bytes.subarray(51, 53), name: 'producerEpoch', value: String(header.producerEpoch), note: 'int16' },
    { at: 53, bytes: bytes.subarray(53, 57), name: 'baseSequence', value: String(header.baseSequence), note: header.baseSequence < 0 ? 'int32: -1, no sequence' : 'int32: sequence of the first record, to drop retried duplicates' },
    { at: 57, bytes: bytes.subarray(57, 61), name: 'recordCount', value: String(header.recordCount), note: 'int32' },
  ];
  for (const row of rows) yield formatRow(row);
  let records = bytes.subarray(BATCH_HEADER_BYTES);
  let base = BATCH_HEADER_BYTES;
  if (codec !== 0) {
    yield `Bytes 61 to ${bytes.length - 1} are the records compressed with ${CODECS[codec] ?? codec} (${records.length} bytes); decompressed (${0} = the first decompressed byte):`;
    records = decompress(codec, records, EXPLAINED_BATCH_BYTES_MAX);
    base = 0;
    yield `${records.length} bytes of records follow.`;
  } else {
    yield 'Then the records, uncompressed. Lengths and deltas are zigzag varints (small numbers take one byte):';
  }
  yield* explainRecords(records, base, header.baseOffset, header.baseTimestamp, header.recordCount, offset);
}

function* explainRecords(records: Buffer, base: number, baseOffset: number, baseTimestamp: number, count: number, wanted: number | undefined): Generator<string> {
  const cursor = { position: 0 };
  const end = records.length;
  const field = (name: string, read: () => number, note?: (value: number) => string): { row: Row; value: number } => {
    const start = cursor.position;
    const value = read();
    return { row: { at: base + start, bytes: records.subarray(start, cursor.position), name, value: String(value), note: note?.(value) }, value };
  };
  const varint = () => readVarint(records, cursor, end);
  const varlong = () => readVarlong(records, cursor, end);
  const bytesField = (name: string, length: number): Row => {
    const start = cursor.position;
    cursor.position += Math.max(0, length);
    const value = length < 0 ? 'null' : printable(records.subarray(start, cursor.position));
    return { at: base + start, bytes: records.subarray(start, cursor.position), name, value };
  };
  for (let index = 0; index < count && cursor.position < end; index++) {
    const rows: Row[] = [];
    const length = field('length', varint, () => 'bytes of this record after this field');
    rows.push(length.row);
    const recordEnd = cursor.position + length.value;
    rows.push({ at: base + cursor.position, bytes: records.subarray(cursor.position, cursor.position + 1), name: 'attributes', value: String(records[cursor.position]), note: 'int8, unused' });
    cursor.position++;
    const timestampDelta = field('timestampDelta', varlong, (v) => `timestamp ${baseTimestamp + v} (${isoTime(baseTimestamp + v)})`);
    rows.push(timestampDelta.row);
    const offsetDelta = field('offsetDelta', varint, (v) => `offset ${baseOffset + v}`);
    rows.push(offsetDelta.row);
    const keyLength = field('keyLength', varint, (v) => (v < 0 ? 'null key' : 'bytes'));
    rows.push(keyLength.row, bytesField('key', keyLength.value));
    const valueLength = field('valueLength', varint, (v) => (v < 0 ? 'null value: a tombstone' : 'bytes'));
    rows.push(valueLength.row, bytesField('value', valueLength.value));
    const headerCount = field('headerCount', varint);
    rows.push(headerCount.row);
    for (let h = 0; h < headerCount.value; h++) {
      const headerKeyLength = field(`header[${h}].keyLength`, varint);
      rows.push(headerKeyLength.row, bytesField(`header[${h}].key`, headerKeyLength.value));
      const headerValueLength = field(`header[${h}].valueLength`, varint);
      rows.push(headerValueLength.row, bytesField(`header[${h}].value`, headerValueLength.value));
    }
    const recordOffset = baseOffset + offsetDelta.value;
    if (index < RECORDS_SHOWN || recordOffset === wanted) {
      yield `Record ${index} (offset ${recordOffset}):`;
      for (const row of rows) yield formatRow(row, '    ');
      if (cursor.position !== recordEnd) yield `    the length said the record ends at byte ${base + recordEnd}, but its fields end at ${base + cursor.position}`;
    } else if (index === RECORDS_SHOWN) {
      yield `Records ${RECORDS_SHOWN} to ${count - 1} follow with the same layout${wanted !== undefined && wanted > recordOffset ? ` (offset ${wanted} is shown)` : ''}.`;
    }
    cursor.position = recordEnd;
  }
}

/**
 * Explains how Kafka finds `offset` in a segment: the binary search over the offset index for the
 * last entry at or below it, then the scan of the log from that entry's position.
 */
export function* explainLookup(logPath: string, indexPath: string, offset: number): Generator<string> {
  const baseOffset = Number(path.basename(logPath).slice(0, 20));
  const index = fs.readFileSync(indexPath);
  const entries: { offset: number; position: number }[] = [];
  for (let at = 0; at + INDEX_ENTRY_BYTES <= index.length; at += INDEX_ENTRY_BYTES) {
    const relative = index.readInt32BE(at);
    const position = index.readInt32BE(at + 4);
    if (at > 0 && relative === 0 && position === 0) break; // preallocated, unused space
    entries.push({ offset: baseOffset + relative, position });
  }
  yield `Looking up offset ${offset} in the segment starting at offset ${baseOffset}.`;
  yield `1. The offset index ${path.basename(indexPath)} has ${entries.length} entries of 8 bytes (offset - ${baseOffset} as int32, then the byte position in the .log as int32).`;
  yield '   An entry is written about every index.interval.bytes (4096) of log, and names the LAST offset of the batch starting at that position.';
  let low = 0;
  let high = entries.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const entry = entries[middle] as { offset: number; position: number };
    const below = entry.offset <= offset;
    yield `   search entries ${low}..${high}: entry ${middle} is offset ${entry.offset} at position ${entry.position}: ${below ? `<= ${offset}, look right` : `> ${offset}, look left`}`;
    if (below) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  const start = found < 0 ? 0 : (entries[found] as { position: number }).position;
  yield found < 0
    ? `   no entry is at or below ${offset}: the scan starts at the beginning of the segment, byte 0.`
    : `   the last entry at or below ${offset} is entry ${found} (offset ${(entries[found] as { offset: number }).offset}): the batch at byte ${start} ends at or before ${offset}, so the scan starts there.`;
  yield `2. Scan ${path.basename(logPath)} from byte ${start}, reading only each batch's 61-byte header:`;
  const fd = fs.openSync(logPath, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    for (const batch of batchPositions(fd, size)) {
      if (batch.position < start) continue;
      const header = readBatchHeader(batch.head, 0);
      if (header.lastOffset < offset) {
        yield `   byte ${batch.position}: batch ${header.baseOffset}-${header.lastOffset} ends before ${offset}; skip its ${batch.sizeBytes} bytes`;
        continue;
      }
      yield `   byte ${batch.position}: batch ${header.baseOffset}-${header.lastOffset} holds offset ${offset}: a fetch at ${offset} returns the log from byte ${batch.position}, the whole batch (the consumer skips records before ${offset}).`;
      return;
    }
    yield `   no batch of this segment holds offset ${offset}: it is beyond the segment's end.`;
  } finally {
    fs.closeSync(fd);
  }
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) || ms < 0 ? 'no time' : date.toISOString();
}

function printable(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
  return !text.includes('\uFFFD') && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text) : `${bytes.length} bytes`;
}
