import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_BYTES,
  CorruptRecordError,
  crc32c,
  crc32cImplementation,
  decodeBatch,
  encodeBatch,
  forEachBatch,
  batchesIn,
  isBatchCrcValid,
  patchBaseOffset,
  patchMaxTimestampForLogAppendTime,
  patchPartitionLeaderEpoch,
  patchProducerState,
  readBatchHeader,
  TimestampType,
} from '@gregor/records';

function sampleBatch(recordCount = 3): Buffer {
  return encodeBatch({
    timestamp: 1_700_000_000_000,
    producerId: 77,
    producerEpoch: 2,
    baseSequence: 10,
    records: Array.from({ length: recordCount }, (_, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.from(`value-${index}`) })),
  });
}

describe('CRC-32C', () => {
  it('matches the standard check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
  it('reports which fast-crc32c implementation is loaded', () => {
    expect(['sse4.2', 'javascript']).toContain(crc32cImplementation());
  });
});

describe('batch header', () => {
  it('reads back every field the encoder wrote', () => {
    const header = readBatchHeader(sampleBatch(3), 0);
    expect(header).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      magic: 2,
      compression: 0,
      timestampType: TimestampType.createTime,
      isTransactional: false,
      isControl: false,
      lastOffsetDelta: 2,
      lastOffset: 2,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
      producerId: 77,
      producerEpoch: 2,
      baseSequence: 10,
      recordCount: 3,
    });
    expect(header.sizeBytes).toBe(sampleBatch(3).length);
  });

  it('keeps the CRC valid when baseOffset and partitionLeaderEpoch are patched', () => {
    const batch = sampleBatch();
    patchBaseOffset(batch, 0, 2 ** 40 + 5);
    patchPartitionLeaderEpoch(batch, 0, 9);
    expect(isBatchCrcValid(batch, 0)).toBe(true);
    const header = readBatchHeader(batch, 0);
    expect(header.baseOffset).toBe(2 ** 40 + 5);
    expect(header.lastOffset).toBe(2 ** 40 + 7);
    expect(header.partitionLeaderEpoch).toBe(9);
    expect([...decodeBatch(batch).records()].map((record) => record.offset)).toEqual([2 ** 40 + 5, 2 ** 40 + 6, 2 ** 40 + 7]);
  });

  it('invalidates the CRC for a bit flipped anywhere from attributes to the end, and not before', () => {
    const batch = sampleBatch();
    for (let position = 0; position < batch.length; position++) {
      for (const bit of [0, 7]) {
        const copy = Buffer.from(batch);
        copy[position] ^= 1 << bit;
        const isCovered = position >= ATTRIBUTES_OFFSET;
        const isHeaderOnlyField = position < 8 || (position >= 12 && position < 16);
        if (isCovered) expect(isBatchCrcValid(copy, 0), `position ${position}`).toBe(false);
        else if (isHeaderOnlyField) expect(isBatchCrcValid(copy, 0), `position ${position}`).toBe(true);
      }
    }
  });

  it('recomputes the CRC when stamping log-append time', () => {
    const batch = sampleBatch();
    patchMaxTimestampForLogAppendTime(batch, 0, 1_800_000_000_000);
    expect(isBatchCrcValid(batch, 0)).toBe(true);
    const decoded = decodeBatch(batch);
    expect(decoded.timestampType).toBe(TimestampType.logAppendTime);
    expect([...decoded.records()].every((record) => record.timestamp === 1_800_000_000_000)).toBe(true);
  });

  it('restamps producer id, epoch and base sequence with a fresh CRC', () => {
    const batch = sampleBatch();
    patchProducerState(batch, 0, 2 ** 40, 7, 123);
    expect(isBatchCrcValid(batch, 0)).toBe(true);
    expect(readBatchHeader(batch, 0)).toMatchObject({ producerId: 2 ** 40, producerEpoch: 7, baseSequence: 123 });
    expect([...decodeBatch(batch).records()]).toHaveLength(3);
  });

  it('rejects a header shorter than 61 bytes or a magic other than 2', () => {
    const batch = sampleBatch();
    expect(() => readBatchHeader(batch.subarray(0, BATCH_HEADER_BYTES - 1), 0)).toThrow(CorruptRecordError);
    batch[16] = 1;
    expect(() => readBatchHeader(batch, 0)).toThrow(CorruptRecordError);
  });
});

describe('record sets', () => {
  it('walks consecutive batches and rejects a length beyond the buffer', () => {
    const set = Buffer.concat([sampleBatch(1), sampleBatch(2), sampleBatch(3)]);
    const seen: number[] = [];
    forEachBatch(set, (position) => seen.push(readBatchHeader(set, position).recordCount));
    expect(seen).toEqual([1, 2, 3]);
    expect([...batchesIn(set)].map((batch) => batch.sizeBytes)).toEqual([sampleBatch(1).length, sampleBatch(2).length, sampleBatch(3).length]);
    expect(() => forEachBatch(set.subarray(0, set.length - 1), () => {})).toThrow(CorruptRecordError);
  });

  it('skips a truncated last batch when a partial tail is allowed', () => {
    const set = Buffer.concat([sampleBatch(1), sampleBatch(2)]);
    const truncated = set.subarray(0, set.length - 5);
    expect([...batchesIn(truncated, { allowPartialTail: true })]).toHaveLength(1);
  });

  it('rejects a negative batch length', () => {
    const batch = sampleBatch();
    batch.writeInt32BE(-5, 8);
    expect(() => [...batchesIn(batch)]).toThrow(CorruptRecordError);
    expect(isBatchCrcValid(batch, 0)).toBe(false);
  });
});
