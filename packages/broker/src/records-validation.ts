/**
 * Checks the record set of one partition of a Produce request before anything is appended (Kafka's
 * LogValidator, the parts that need no decompression): whole batches only, magic 2, a CRC that
 * matches (here, or by the log just before it writes), a record count that agrees with
 * lastOffsetDelta, no control batches from clients, and each batch within `max.message.bytes`.
 * Pure; the Partition calls it on the produce path. Deviation: compressed records are not
 * decompressed here (Kafka's LogValidator decompresses to check them), so a compressed batch's
 * inner records are trusted once its CRC and header agree.
 */
import { ErrorCode } from '@gregor/protocol';
import { batchesIn, isBatchCrcValid, MAGIC_OFFSET, readBatchHeader, type BatchHeader } from '@gregor/records';

export type RecordsCheck =
  | { ok: true; headers: BatchHeader[]; sizeBytes: number }
  | { ok: false; errorCode: number; message: string; batchIndex: number };

/**
 * `verifyCrc: false` leaves the CRC to the log, which checks every batch before writing any: the
 * produce path then computes each CRC once, and calls this again with the check only to name the
 * bad batch when the log refuses the set.
 */
export function validateProducedRecords(records: Buffer | null, maxMessageBytes: number, verifyCrc = true): RecordsCheck {
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
      headers.push(header);
    }
  } catch (error) {
    // batchesIn and readBatchHeader throw CorruptRecordError for bad lengths or magic.
    return refuse(ErrorCode.CORRUPT_MESSAGE, (error as Error).message, headers.length);
  }
  return { ok: true, headers, sizeBytes: records.length };
}

function refuse(errorCode: number, message: string, batchIndex: number): RecordsCheck {
  return { ok: false, errorCode, message, batchIndex };
}
