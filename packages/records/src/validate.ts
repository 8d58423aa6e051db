/**
 * Kafka's checks of the records inside one batch, as its broker makes them before an append
 * (DefaultRecord.readFrom and the batch's record iterator, called by LogValidator): exactly
 * `recordCount` records, each holding exactly its declared length, varints within their bounds,
 * key, value and header lengths inside the record, a header count the bytes can hold, no bytes
 * after the last record, offset deltas 0, 1, 2, ... so that the last one is lastOffsetDelta, and
 * timestamps within the safe-integer range. The walk allocates nothing per record. Pure.
 */
import { CorruptRecordError } from './errors.js';
import type { DecodedBatch } from './decode.js';

/** Throws CorruptRecordError naming the first record (by index) that breaks a rule. */
export function checkRecords(batch: DecodedBatch): void {
  if (batch.recordCount <= 0 || batch.lastOffsetDelta !== batch.recordCount - 1) {
    throw new CorruptRecordError(`batch holds ${batch.recordCount} records but lastOffsetDelta ${batch.lastOffsetDelta}`);
  }
  const baseOffset = batch.baseOffset;
  let index = 0;
  // forEachRecord checks every length and varint, and that the records fill the section exactly.
  batch.forEachRecord((record) => {
    if (record.offset - baseOffset !== index) throw new CorruptRecordError(`record ${index} has offset delta ${record.offset - baseOffset}, expected ${index}`);
    if (!Number.isSafeInteger(record.timestamp)) throw new CorruptRecordError(`record ${index} has timestamp ${record.timestamp}, outside the safe-integer range`);
    index++;
  });
  if (index !== batch.recordCount) throw new CorruptRecordError(`batch declares ${batch.recordCount} records but holds ${index}`);
}
