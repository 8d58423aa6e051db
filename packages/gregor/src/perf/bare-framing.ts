/**
 * The physical baseline of the keyed workload (issue 9): Kafka's RecordBatch v2 framing written by
 * hand, with nothing of Gregor's on the path but the CRC-32C function (fast-crc32c, which the
 * format needs). `writeBareBatches` frames `perBatch` records into one reused buffer and writes it
 * with `fs.writeSync` (plus `fdatasync` when asked); `readBareBatches` reads the file back in large
 * chunks, checks each batch's CRC and walks every record to its key and value. This is the least
 * work that produces and reads the same bytes Gregor's log holds, so `ours / bare` is what the
 * library costs on top of the format. Each batch is
 *
 *   header (61 bytes, see @gregor/records header.ts) |
 *   per record: length varint | attributes i8 | timestampDelta varint | offsetDelta varint |
 *               keyLength varint | key | valueLength varint | value | headerCount varint (0)
 *
 * with zigzag varints. Pure functions over the caller's file and buffers; single caller.
 */
import fs from 'node:fs';
import { crc32c } from '@gregor/records';

export interface BareRecord {
  key: Buffer | null;
  value: Buffer | null;
}

const HEADER_BYTES = 61;
const CRC_START = 21;

function zigzagSize(value: number): number {
  const zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  return zigzag < 0x80 ? 1 : zigzag < 0x4000 ? 2 : zigzag < 0x200000 ? 3 : zigzag < 0x10000000 ? 4 : 5;
}

function writeZigzag(buffer: Buffer, position: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag >= 0x80) {
    buffer[position++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  buffer[position++] = zigzag;
  return position;
}

/** Upper bound of the framed size of `records[0..count)`. */
export function bareBatchBytesMax(records: readonly BareRecord[], count: number): number {
  let bytes = HEADER_BYTES;
  for (let i = 0; i < count; i++) bytes += 30 + (records[i].key?.length ?? 0) + (records[i].value?.length ?? 0);
  return bytes;
}

/** Frames `records[0..count)` as one batch at the start of `target`; returns its length. */
export function encodeBareBatch(target: Buffer, baseOffset: number, records: readonly BareRecord[], count: number, timestampMs: number): number {
  let position = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const { key, value } = records[i];
    const keyLength = key === null ? -1 : key.length;
    const valueLength = value === null ? -1 : value.length;
    const body = 1 + 1 + zigzagSize(i) + zigzagSize(keyLength) + Math.max(0, keyLength) + zigzagSize(valueLength) + Math.max(0, valueLength) + 1;
    position = writeZigzag(target, position, body);
    target[position++] = 0; // attributes
    target[position++] = 0; // timestampDelta 0: every record carries the batch's timestamp
    position = writeZigzag(target, position, i);
    position = writeZigzag(target, position, keyLength);
    if (key !== null) position += key.copy(target, position);
    position = writeZigzag(target, position, valueLength);
    if (value !== null) position += value.copy(target, position);
    target[position++] = 0; // no headers
  }
  target.writeBigInt64BE(BigInt(baseOffset), 0);
  target.writeInt32BE(position - 12, 8);
  target.writeInt32BE(0, 12); // partitionLeaderEpoch
  target[16] = 2; // magic
  target.writeInt16BE(0, 21); // attributes: no codec, CreateTime
  target.writeInt32BE(count - 1, 23);
  target.writeBigInt64BE(BigInt(timestampMs), 27);
  target.writeBigInt64BE(BigInt(timestampMs), 35);
  target.writeBigInt64BE(-1n, 43); // producerId
  target.writeInt16BE(-1, 51);
  target.writeInt32BE(-1, 53);
  target.writeInt32BE(count, 57);
  target.writeUInt32BE(crc32c(target.subarray(CRC_START, position)), 17);
  return position;
}

export interface BareWriteResult {
  records: number;
  bytes: number;
  seconds: number;
}

/**
 * Writes `total` records to `file` (created or truncated) as batches of `perBatch`, taking records
 * round-robin from `chunks`, one `fs.writeSync` per batch and, with `fdatasync`, one fdatasync
 * after each. The clock covers framing and writing, not opening the file.
 */
export function writeBareBatches(file: string, chunks: readonly (readonly BareRecord[])[], total: number, perBatch: number, fdatasync: boolean): BareWriteResult {
  let bufferBytes = 0;
  for (const chunk of chunks) bufferBytes = Math.max(bufferBytes, bareBatchBytesMax(chunk, Math.min(perBatch, chunk.length)));
  const buffer = Buffer.allocUnsafe(bufferBytes);
  const fd = fs.openSync(file, 'w');
  try {
    const timestampMs = Date.now();
    let written = 0;
    let bytes = 0;
    let chunkIndex = 0;
    const started = performance.now();
    while (written < total) {
      const chunk = chunks[chunkIndex];
      chunkIndex = (chunkIndex + 1) % chunks.length;
      const count = Math.min(perBatch, chunk.length, total - written);
      const length = encodeBareBatch(buffer, written, chunk, count, timestampMs);
      fs.writeSync(fd, buffer, 0, length, bytes);
      if (fdatasync) fs.fdatasyncSync(fd);
      written += count;
      bytes += length;
    }
    return { records: written, bytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    fs.closeSync(fd);
  }
}

export interface BareReadResult {
  records: number;
  /** Batches with a codec: not decoded (their records are not counted); the bare path has none. */
  compressedBatches: number;
  /** Sum of every key's and value's length: proof that each record was reached. */
  payloadBytes: number;
  seconds: number;
}

/**
 * Reads `file` in `chunkBytes` reads and decodes every batch: CRC check, then each record's
 * varints up to its key and value (whose lengths are summed). A batch split by a chunk boundary is
 * read again from its start with the next read.
 */
export function readBareBatches(file: string, chunkBytes = 4 * 1024 * 1024): BareReadResult {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const fd = fs.openSync(file, 'r');
  try {
    let records = 0;
    let compressedBatches = 0;
    let payloadBytes = 0;
    let filePosition = 0;
    const cursor = { position: 0 };
    const started = performance.now();
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, chunkBytes, filePosition);
      if (read === 0) break;
      let position = 0;
      while (position + HEADER_BYTES <= read) {
        const end = position + 12 + buffer.readInt32BE(position + 8);
        if (end > read) break;
        if (crc32c(buffer.subarray(position + CRC_START, end)) !== buffer.readUInt32BE(position + 17)) throw new Error(`bare batch at ${filePosition + position} fails its CRC`);
        if ((buffer[position + 22] & 0x07) !== 0) {
          compressedBatches++;
          position = end;
          continue;
        }
        const count = buffer.readInt32BE(position + 57);
        cursor.position = position + HEADER_BYTES;
        for (let i = 0; i < count; i++) {
          const length = readZigzag(buffer, cursor);
          const recordEnd = cursor.position + length;
          cursor.position += 1; // attributes
          readZigzag(buffer, cursor); // timestampDelta
          readZigzag(buffer, cursor); // offsetDelta
          const keyLength = readZigzag(buffer, cursor);
          if (keyLength > 0) cursor.position += keyLength;
          const valueLength = readZigzag(buffer, cursor);
          payloadBytes += Math.max(0, keyLength) + Math.max(0, valueLength);
          cursor.position = recordEnd;
        }
        records += count;
        position = end;
      }
      if (position === 0) throw new Error(`a batch at ${filePosition} is larger than the ${chunkBytes}-byte read`);
      filePosition += position;
    }
    return { records, compressedBatches, payloadBytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    fs.closeSync(fd);
  }
}

function readZigzag(buffer: Buffer, cursor: { position: number }): number {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buffer[cursor.position++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80 && shift < 35);
  return (value >>> 1) ^ -(value & 1);
}
