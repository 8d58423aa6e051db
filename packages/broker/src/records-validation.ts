/**
 * Checks the record set of one partition of a Produce request before anything is appended (Kafka's
 * LogValidator): whole batches only, magic 2, a CRC that matches (here, or by the log just before
 * it writes), each batch within `max.message.bytes`, no control batches from clients, a sequence
 * number on every batch with a producer id and such a batch alone in its record set, and then
 * every record of every batch, compressed or not: a compressed batch is decompressed within
 * `decompressedBytesMax`, and the records are walked without a per-record allocation
 * (`checkRecords`: record lengths, varint bounds, key, value and header lengths, header counts,
 * exactly `recordCount` records and nothing after them, offset deltas 0, 1, 2, ... up to
 * lastOffsetDelta, timestamps in range).
 *
 * Error codes follow Kafka's: bytes that are not a batch (bad length, magic or CRC) and a codec
 * payload that cannot be decompressed (or inflates past the limit) are CORRUPT_MESSAGE, which
 * clients retry, as a batch damaged on the way may arrive whole next time; a well-formed batch
 * whose records break a rule is INVALID_RECORD (Kafka's InvalidRecordException), which they do
 * not. A batch that fails a record rule is first checked against its CRC, so damage in transit is
 * still CORRUPT_MESSAGE. Pure; the Partition calls it on the produce path.
 */
import { ErrorCode } from '@gregor/protocol';
import {
  batchesIn, checkRecords, Compression, decodeBatch, isBatchCrcValid, MAGIC_OFFSET, readBatchHeader, RecordsError, type BatchHeader, type DecodedBatch,
} from '@gregor/records';

export type RecordsCheck =
  | { ok: true; headers: BatchHeader[]; sizeBytes: number }
  | { ok: false; errorCode: number; message: string; batchIndex: number };

/**
 * `verifyCrc: false` leaves the CRC to the log, which checks every batch before writing any: the
 * produce path then computes each CRC once, and calls this again with the check only to name the
 * bad batch when the log refuses the set. `walkRecords: false` checks the batch headers only, for
 * batches Gregor's producer has just built in this process (BatchBuilder writes every record's
 * framing from the lengths it computed, and asserts that they match): decoding and walking them
 * again would cost a fifth of the in-process produce path and could find nothing.
 */
export function validateProducedRecords(records: Buffer | null, maxMessageBytes: number, decompressedBytesMax: number, verifyCrc = true, walkRecords = true): RecordsCheck {
  if (records === null || records.length === 0) return refuse(ErrorCode.CORRUPT_MESSAGE, 'Produce request has no records', -1);
  const headers: BatchHeader[] = [];
  // Old message sets (magic 0 and 1, Produce v0-2 clients) keep the magic byte at the same place.
  if (records.length > MAGIC_OFFSET && (records[MAGIC_OFFSET] === 0 || records[MAGIC_OFFSET] === 1)) {
    return refuse(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Message format v${records[MAGIC_OFFSET]} is not supported; only RecordBatch v2 (magic 2)`, 0);
  }
  const limits = { maxMessageBytes, decompressedBytesMax, verifyCrc, walkRecords };
  try {
    for (const { position, sizeBytes } of batchesIn(records)) {
      const refused = checkBatch(records, position, sizeBytes, headers.length, headers, limits);
      if (refused !== null) return refused;
    }
  } catch (error) {
    // batchesIn throws CorruptRecordError for a length that does not fit or a cut batch.
    if (!(error instanceof RecordsError)) throw error;
    return refuse(ErrorCode.CORRUPT_MESSAGE, error.message, headers.length);
  }
  return { ok: true, headers, sizeBytes: records.length };
}

interface Limits {
  maxMessageBytes: number;
  decompressedBytesMax: number;
  verifyCrc: boolean;
  walkRecords: boolean;
}

/** Checks one batch and pushes its header onto `headers`; the refusal, or null when it passes. */
function checkBatch(records: Buffer, position: number, sizeBytes: number, batchIndex: number, headers: BatchHeader[], limits: Limits): RecordsCheck | null {
  if (sizeBytes > limits.maxMessageBytes) {
    return refuse(ErrorCode.MESSAGE_TOO_LARGE, `Batch of ${sizeBytes} bytes exceeds max.message.bytes ${limits.maxMessageBytes}`, batchIndex);
  }
  const crcProblem = (): RecordsCheck | null => (isBatchCrcValid(records, position) ? null : refuse(ErrorCode.CORRUPT_MESSAGE, `Batch ${batchIndex} fails its CRC check`, batchIndex));
  if (limits.verifyCrc) {
    const refused = crcProblem();
    if (refused !== null) return refused;
  }
  let header: BatchHeader;
  try {
    header = readBatchHeader(records, position);
  } catch (error) {
    return refuse(ErrorCode.CORRUPT_MESSAGE, `Batch ${batchIndex}: ${(error as Error).message}`, batchIndex);
  }
  const invalid = (message: string): RecordsCheck => crcProblem() ?? refuse(ErrorCode.INVALID_RECORD, `Batch ${batchIndex}: ${message}`, batchIndex);
  if (header.isControl) return invalid('clients may not produce control batches');
  if (header.producerId >= 0 && header.baseSequence < 0) return invalid(`producer id ${header.producerId} but no sequence number`);
  // Kafka takes exactly one batch per partition from Produce v3 on. Gregor's producer sends
  // several plain batches at once, so only a batch with a producer id must come alone: its
  // sequence check and a retry's answer concern that one batch.
  if (batchIndex > 0 && (header.producerId >= 0 || headers[0].producerId >= 0)) {
    return invalid('a batch with a producer id must be the only record batch of its partition in a Produce request');
  }
  if (!limits.walkRecords) {
    headers.push(header);
    return null;
  }
  let decoded: DecodedBatch;
  try {
    decoded = decodeBatch(records, position, { verifyCrc: false, decompressedBytesMax: limits.decompressedBytesMax });
  } catch (error) {
    // An unknown codec keeps its own Kafka code; a payload that cannot be decompressed, or that
    // inflates past the limit, is corrupt.
    if (!(error instanceof RecordsError)) throw error;
    if (error.errorCode === ErrorCode.UNSUPPORTED_COMPRESSION_TYPE) return refuse(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, error.message, batchIndex);
    if (header.compression === Compression.none) return invalid(error.message);
    return crcProblem() ?? refuse(ErrorCode.CORRUPT_MESSAGE, `Batch ${batchIndex}: ${error.message}`, batchIndex);
  }
  try {
    checkRecords(decoded);
  } catch (error) {
    if (!(error instanceof RecordsError)) throw error;
    return invalid(error.message);
  }
  headers.push(header);
  return null;
}

function refuse(errorCode: number, message: string, batchIndex: number): RecordsCheck {
  return { ok: false, errorCode, message, batchIndex };
}
