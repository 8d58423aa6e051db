/**
 * `gregor dump-log`: prints a segment file the way Kafka's DumpLogSegments does. For `.log`, one
 * line per batch (offsets, count, codec, timestamps, producer fields, flags, position, size, CRC
 * and whether it is valid) and, with `records`, one line per record. For `.index` / `.timeindex`,
 * their entries with absolute offsets. A `<base>.log.<position>.corrupt` file (bytes recovery moved
 * aside) is dumped like a segment, with the positions it had in its segment. Corrupt bytes get a
 * line saying where, and the dump goes on at the next valid batch; an absurd length is never
 * allocated. Callers: the CLI and tests; reads through `FileSystem`.
 */
import path from 'node:path';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_OVERHEAD_BYTES,
  decodeBatch,
  isBatchCrcValid,
  type KafkaRecord,
  readBatchHeader,
} from '@gregor/records';
import { findNextValidBatch } from './damage.js';
import type { File, FileSystem } from './fs.js';

export interface DumpOptions {
  /** Also print every record of every batch. */
  records?: boolean;
  /** Largest batch the dump will read; longer length fields are reported as corrupt. Default 64 MiB. */
  batchBytesMax?: number;
  /** Called for each problem the dump finds (corrupt or trailing bytes, a bad CRC, unreadable records), besides printing it. */
  onProblem?: (problem: string) => void;
  /** Replaces the key and payload text of a record (the CLI decodes `__consumer_offsets` records with it). */
  describeRecord?: (record: KafkaRecord) => { key: string; payload: string } | null;
}

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const DUMP_BATCH_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

export function* dumpLogFile(fs: FileSystem, filePath: string, options: DumpOptions = {}): Iterable<string> {
  const name = path.basename(filePath);
  const baseOffset = Number(name.slice(0, 20));
  yield `Dumping ${filePath}`;
  const file = fs.openFile(filePath);
  const movedAside = /^\d{20}\.log\.(\d+)\.corrupt$/.exec(name);
  try {
    if (movedAside) {
      yield `Bytes moved aside from ${name.slice(0, 24)} at position ${movedAside[1]} (positions below are the segment's)`;
      yield* dumpSegment(file, baseOffset, options, Number(movedAside[1]));
    } else if (name.endsWith('.log')) yield* dumpSegment(file, baseOffset, options);
    else if (name.endsWith('.timeindex')) yield* dumpIndex(file, 12, (b, at) => `timestamp: ${b.readBigInt64BE(at)} offset: ${baseOffset + b.readInt32BE(at + 8)}`);
    else if (name.endsWith('.index')) yield* dumpIndex(file, 8, (b, at) => `offset: ${baseOffset + b.readInt32BE(at)} position: ${b.readInt32BE(at + 4)}`);
    else yield reported(options, `unknown file type: ${name} (expected .log, .index, .timeindex or .log.<position>.corrupt)`);
  } finally {
    file.close();
  }
}

function* dumpIndex(file: File, entrySize: number, format: (buffer: Buffer, at: number) => string): Iterable<string> {
  const size = file.size();
  const buffer = Buffer.allocUnsafe(entrySize);
  for (let position = 0; position + entrySize <= size; position += entrySize) {
    file.read(buffer, 0, entrySize, position);
    // Preallocated space after the entries is zeros (an entry may be zero only if it is the first).
    if (position > 0 && buffer.every((byte) => byte === 0)) break;
    yield format(buffer, 0);
  }
}

function* dumpSegment(file: File, baseOffset: number, options: DumpOptions, positionInSegment = 0): Iterable<string> {
  const size = file.size();
  const limit = options.batchBytesMax ?? DUMP_BATCH_BYTES_MAX_DEFAULT;
  const bounds = { segmentBaseOffset: baseOffset, upperBoundOffset: Number.MAX_SAFE_INTEGER, batchBytesMax: limit };
  yield `Log starting offset: ${baseOffset}`;
  const head = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  let position = 0;
  let previousLastOffset = baseOffset - 1;
  while (position < size) {
    let problem: string | undefined;
    if (size - position < BATCH_HEADER_BYTES) problem = `Found ${size - position} trailing bytes at position ${positionInSegment + position}, less than a batch header`;
    else {
      file.read(head, 0, BATCH_HEADER_BYTES, position);
      const batchLength = head.readInt32BE(8);
      const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
      if (batchLength < BATCH_LENGTH_MIN || sizeBytes > limit || position + sizeBytes > size) {
        problem = `Corrupt batch at position ${positionInSegment + position}: batchLength ${batchLength} with ${size - position} bytes left`;
      } else {
        const bytes = Buffer.allocUnsafe(sizeBytes);
        file.read(bytes, 0, sizeBytes, position);
        yield* dumpBatch(bytes, positionInSegment + position, options);
        previousLastOffset = Math.max(previousLastOffset, Number(bytes.readBigInt64BE(0)) + bytes.readInt32BE(23));
        position += sizeBytes;
        continue;
      }
    }
    yield reported(options, problem);
    const next = findNextValidBatch(file, position + 1, size, previousLastOffset, bounds);
    if (next === undefined) {
      if (size - position >= BATCH_HEADER_BYTES) yield `No valid batch in the ${size - position} bytes after it`;
      return;
    }
    yield `Skipped ${next.position - position} bytes; the next valid batch starts at position ${positionInSegment + next.position}`;
    position = next.position;
  }
}

function* dumpBatch(bytes: Buffer, position: number, options: DumpOptions): Iterable<string> {
  let header: ReturnType<typeof readBatchHeader>;
  try {
    header = readBatchHeader(bytes, 0);
  } catch (error) {
    yield reported(options, `Corrupt batch at position ${position}: ${(error as Error).message}`);
    return;
  }
  const valid = isBatchCrcValid(bytes, 0);
  if (!valid) options.onProblem?.(`batch at position ${position} (offsets ${header.baseOffset}-${header.lastOffset}) fails its CRC check`);
  const timestampName = header.timestampType === 1 ? 'LogAppendTime' : 'CreateTime';
  const lastSequence = header.baseSequence < 0 ? -1 : header.baseSequence + header.lastOffsetDelta;
  yield [
    `baseOffset: ${header.baseOffset} lastOffset: ${header.lastOffset} count: ${header.recordCount}`,
    `baseSequence: ${header.baseSequence} lastSequence: ${lastSequence} producerId: ${header.producerId} producerEpoch: ${header.producerEpoch}`,
    `partitionLeaderEpoch: ${header.partitionLeaderEpoch} isTransactional: ${header.isTransactional} isControl: ${header.isControl}`,
    `position: ${position} baseTimestamp: ${header.baseTimestamp} ${timestampName}: ${header.maxTimestamp} size: ${header.sizeBytes}`,
    `magic: ${header.magic} compresscodec: ${CODEC_NAMES[header.compression] ?? `unknown(${header.compression})`} crc: ${header.crc} isvalid: ${valid}`,
  ].join(' ');
  if (options.records !== true) return;
  try {
    for (const record of decodeBatch(bytes, 0, { verifyCrc: false }).records()) yield formatRecord(record, timestampName, header.isControl ? undefined : options.describeRecord);
  } catch (error) {
    yield reported(options, `| records unreadable: ${(error as Error).message}`);
  }
}

/** Passes a problem line to `onProblem` too (without the record-line prefix) and returns it. */
function reported(options: DumpOptions, line: string): string {
  options.onProblem?.(line.replace(/^\| /, ''));
  return line;
}

function formatRecord(record: KafkaRecord, timestampName: string, describeRecord: DumpOptions['describeRecord']): string {
  const headers = record.headers.map((header) => `${header.key}=${text(header.value)}`).join(', ');
  const described = describeRecord?.(record) ?? { key: text(record.key), payload: text(record.value) };
  return (
    `| offset: ${record.offset} ${timestampName}: ${record.timestamp} keySize: ${record.key?.length ?? -1} valueSize: ${record.value?.length ?? -1}` +
    ` headers: [${headers}] key: ${described.key} payload: ${described.payload}`
  );
}

/** Printable UTF-8 as text, anything else as hex; null as `null`. */
function text(bytes: Buffer | null): string {
  if (bytes === null) return 'null';
  const decoded = bytes.toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
  const printable = !decoded.includes('\uFFFD') && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(decoded);
  return printable ? JSON.stringify(decoded) : `0x${bytes.toString('hex')}`;
}
