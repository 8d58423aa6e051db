/**
 * Kafka's check of CreateTime record timestamps (LogValidator.validateTimestamp, KIP-937): a
 * record whose timestamp lies more than message.timestamp.before.max.ms in the past of the
 * broker's clock, or more than message.timestamp.after.max.ms in its future, makes the whole
 * partition's append fail with INVALID_TIMESTAMP, naming the record. Records without a timestamp
 * (-1) pass. Only run when a bound is finite, since it walks every record. Pure.
 */
import { batchesIn, decodeBatch } from '@gregor/records';
import { ErrorCode } from '@gregor/protocol';

export interface TimestampBounds {
  nowMs: number;
  /** message.timestamp.before.max.ms (or the deprecated difference setting). */
  beforeMaxMs: number;
  /** message.timestamp.after.max.ms (or the deprecated difference setting). */
  afterMaxMs: number;
}

export interface TimestampProblem {
  errorCode: number;
  message: string;
  /** The record's index in its batch (Kafka's RecordError batchIndex). */
  batchIndex: number;
}

export function timestampProblem(records: Buffer, bounds: TimestampBounds, decompressedBytesMax: number): TimestampProblem | null {
  const { nowMs, beforeMaxMs, afterMaxMs } = bounds;
  let problem: TimestampProblem | null = null;
  for (const { position } of batchesIn(records)) {
    let recordIndex = 0;
    decodeBatch(records, position, { verifyCrc: false, decompressedBytesMax }).forEachRecord((record) => {
      const difference = nowMs - record.timestamp;
      if (problem === null && record.timestamp !== -1 && (difference > beforeMaxMs || -difference > afterMaxMs)) {
        problem = {
          errorCode: ErrorCode.INVALID_TIMESTAMP,
          message: `Timestamp ${record.timestamp} of message with offset ${record.offset} is out of range. The timestamp should be within [${nowMs - beforeMaxMs}, ${nowMs + afterMaxMs}]`,
          batchIndex: recordIndex,
        };
      }
      recordIndex++;
    });
    if (problem !== null) return problem;
  }
  return null;
}
