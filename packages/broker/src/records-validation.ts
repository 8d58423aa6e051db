/**
 * Checks the record set of one partition of a Produce request before anything is appended (Kafka's
 * LogValidator): whole batches only, magic 2, a CRC that matches (here, or by the log just before
 * it writes), a record count that agrees with lastOffsetDelta, no control batches from clients,
 * a sequence number on every batch with a producer id, such a batch alone in its record set, and
 * each batch within `max.message.bytes`. A compressed batch is decompressed, within
 * `decompressedBytesMax`, and its records walked (no per-record allocation), so a batch whose
 * codec payload is corrupt or inflates past the limit is refused rather than stored. Uncompressed
 * records are not walked: their CRC and header checks stand for them (the cost per record on the
 * hot path would be Kafka's, but the consumer's decoder checks them again anyway).
 * Pure; the Partition calls it on the produce path.
 */
import { ErrorCode } from '@gregor/protocol';
import { batchesIn, Compression, decodeBatch, isBatchCrcValid, MAGIC_OFFSET, readBatchHeader, type BatchHeader } from '@gregor/records';

export type RecordsCheck =
  | { ok: true; headers: BatchHeader[]; sizeBytes: number }
  | { ok: false; errorCode: number; message: string; batchIndex: number };

/**
 * `verifyCrc: false` leaves the CRC to the log, which checks every batch before writing any: the
 * produce path then computes each CRC once, and calls this again with the check only to name the
 * bad batch when the log refuses the set.
 */
export function validateProducedRecords(records: Buffer | null, maxMessageBytes: number, decompressedBytesMax: number, verifyCrc = true): RecordsCheck {
  if (records === null || records.length === 0) return refuse(ErrorCode.CORRUPT_MESSAGE, 'Produce request has no records', -1);
  const headers: BatchHeader[] = [];
  // Old message sets (magic 0 and 1, Produce v0-2 clients) keep the magic byte at the same place.
  if (records.length > MAGIC_OFFSET && (records[MAGIC_OFFSET] === 0 || records[MAGIC_OFFSET] === 1)) {
    return refuse(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Message format v${records[MAGIC_OFFSET]} is not supported; only RecordBatch v2 (magic 2)`, 0);
  }
  try {
    for (const { position, sizeBytes } of batchesIn(records)) {
      const batchIndex = headers.length;
      if (sizeBytes > maxMessageBytes) {
        return refuse(ErrorCode.MESSAGE_TOO_LARGE, `Batch of ${sizeBytes} bytes exceeds max.message.bytes ${maxMessageBytes}`, batchIndex);
      }
      if (verifyCrc && !isBatchCrcValid(records, position)) return refuse(ErrorCode.CORRUPT_MESSAGE, `Batch ${batchIndex} fails its CRC check`, batchIndex);
      const header = readBatchHeader(records, position);
      if (header.recordCount <= 0 || header.lastOffsetDelta !== header.recordCount - 1) {
        return refuse(ErrorCode.CORRUPT_MESSAGE, `Batch ${batchIndex} holds ${header.recordCount} records but lastOffsetDelta ${header.lastOffsetDelta}`, batchIndex);
      }
      if (header.isControl) return refuse(ErrorCode.INVALID_RECORD, 'Clients may not produce control batches', batchIndex);
      if (header.producerId >= 0 && header.baseSequence < 0) return refuse(ErrorCode.INVALID_RECORD, `Batch ${batchIndex} has producer id ${header.producerId} but no sequence number`, batchIndex);
      // Kafka takes exactly one batch per partition from Produce v3 on. Gregor's producer sends
      // several plain batches at once, so only a batch with a producer id must come alone: its
      // sequence check and a retry's answer concern that one batch.
      if (headers.length > 0 && (header.producerId >= 0 || headers[0].producerId >= 0)) {
        return refuse(ErrorCode.INVALID_RECORD, 'A batch with a producer id must be the only record batch of its partition in a Produce request', batchIndex);
      }
      if (header.compression !== Compression.none) {
        // Throws CorruptRecordError / DecompressedTooLargeError / UnsupportedCompressionError.
        decodeBatch(records, position, { verifyCrc: false, decompressedBytesMax }).forEachRecord(ignoreRecord);
      }
      headers.push(header);
    }
  } catch (error) {
    // batchesIn and readBatchHeader throw CorruptRecordError for bad lengths or magic; decoding a
    // compressed batch throws the codec's typed errors (an unknown codec has its own Kafka code).
    const errorCode = (error as { errorCode?: number }).errorCode === ErrorCode.UNSUPPORTED_COMPRESSION_TYPE ? ErrorCode.UNSUPPORTED_COMPRESSION_TYPE : ErrorCode.CORRUPT_MESSAGE;
    return refuse(errorCode, (error as Error).message, headers.length);
  }
  return { ok: true, headers, sizeBytes: records.length };
}

function refuse(errorCode: number, message: string, batchIndex: number): RecordsCheck {
  return { ok: false, errorCode, message, batchIndex };
}

function ignoreRecord(): void {}
