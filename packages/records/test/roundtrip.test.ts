import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Compression, decodeBatch, encodeBatch, isBatchCrcValid, readBatchHeader, TimestampType } from '@gregor/records';

const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const nullableBytes = fc.option(bytes, { nil: null, freq: 4 });
const header = fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 12 }), value: nullableBytes });
const record = fc.record({
  key: nullableBytes,
  value: nullableBytes,
  headers: fc.array(header, { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});
const batchInput = fc.record({
  compression: fc.constantFrom(...Object.values(Compression)),
  baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  timestampType: fc.constantFrom(TimestampType.createTime, TimestampType.logAppendTime),
  producerId: fc.integer({ min: -1, max: 2 ** 52 }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  isTransactional: fc.boolean(),
  isControl: fc.boolean(),
  records: fc.array(record, { minLength: 1, maxLength: 25 }),
});

/** The reference model: what decoding must give back for an input. */
type GeneratedInput = typeof batchInput extends fc.Arbitrary<infer T> ? T : never;

function expectedRecords(input: GeneratedInput) {
  const maxTimestamp = Math.max(...input.records.map((entry) => entry.timestamp));
  return input.records.map((entry, index) => ({
    offset: input.baseOffset + index,
    timestamp: input.timestampType === TimestampType.logAppendTime ? maxTimestamp : entry.timestamp,
    key: entry.key,
    value: entry.value,
    headers: entry.headers,
    attributes: 0,
  }));
}

describe('RecordBatch round trip', () => {
  it('decodes every field of random batches, for every codec', () => {
    fc.assert(
      fc.property(batchInput, (input) => {
        const batch = encodeBatch(input);
        expect(isBatchCrcValid(batch, 0)).toBe(true);
        const header = readBatchHeader(batch, 0);
        expect(header).toMatchObject({
          baseOffset: input.baseOffset,
          partitionLeaderEpoch: input.partitionLeaderEpoch,
          compression: input.compression,
          timestampType: input.timestampType,
          producerId: input.producerId,
          producerEpoch: input.producerEpoch,
          baseSequence: input.baseSequence,
          isTransactional: input.isTransactional,
          isControl: input.isControl,
          recordCount: input.records.length,
          lastOffsetDelta: input.records.length - 1,
          baseTimestamp: input.records[0].timestamp,
          maxTimestamp: Math.max(...input.records.map((entry) => entry.timestamp)),
          sizeBytes: batch.length,
        });
        const decoded = decodeBatch(batch);
        expect([...decoded.records()]).toEqual(expectedRecords(input));
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same records through forEachRecord as through records()', () => {
    fc.assert(
      fc.property(batchInput, (input) => {
        const decoded = decodeBatch(encodeBatch(input));
        const visited: unknown[] = [];
        decoded.forEachRecord((view) => {
          visited.push({ offset: view.offset, timestamp: view.timestamp, key: view.key(), value: view.value(), headers: view.headers(), attributes: view.attributes });
          expect(view.keyLength).toBe(view.key() === null ? -1 : view.key()?.length);
          expect(view.valueLength).toBe(view.value() === null ? -1 : view.value()?.length);
        });
        expect(visited).toEqual([...decoded.records()]);
      }),
      { numRuns: 60 },
    );
  });

  it('returns views into the batch, not copies, for uncompressed batches', () => {
    const batch = encodeBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] });
    const [first] = decodeBatch(batch).records();
    expect(first.value?.buffer).toBe(batch.buffer);
    expect(first.key?.buffer).toBe(batch.buffer);
  });

  it('keeps explicit offset deltas with gaps, as compaction writes them', () => {
    const batch = encodeBatch({
      baseOffset: 100,
      records: [
        { value: Buffer.from('a'), offsetDelta: 0 },
        { value: Buffer.from('b'), offsetDelta: 5 },
      ],
    });
    expect(readBatchHeader(batch, 0).lastOffsetDelta).toBe(5);
    expect([...decodeBatch(batch).records()].map((entry) => entry.offset)).toEqual([100, 105]);
  });

  it('reads timestamps earlier than the base timestamp (negative deltas)', () => {
    const batch = encodeBatch({ records: [{ value: null, timestamp: 5000 }, { value: null, timestamp: 10 }, { value: null, timestamp: 2 ** 44 }] });
    expect([...decodeBatch(batch).records()].map((entry) => entry.timestamp)).toEqual([5000, 10, 2 ** 44]);
  });

  it('stores a delete horizon as the base timestamp with attribute bit 6, keeping record timestamps', () => {
    const batch = encodeBatch({ deleteHorizonMs: 1_800_000_000_000, records: [{ value: null, timestamp: 1_700_000_000_000 }, { value: null, timestamp: 1_700_000_000_500 }] });
    const header = readBatchHeader(batch, 0);
    expect(header.hasDeleteHorizon).toBe(true);
    expect(header.deleteHorizonMs).toBe(1_800_000_000_000);
    expect(header.baseTimestamp).toBe(1_800_000_000_000);
    expect(header.maxTimestamp).toBe(1_700_000_000_500);
    expect([...decodeBatch(batch).records()].map((entry) => entry.timestamp)).toEqual([1_700_000_000_000, 1_700_000_000_500]);
    expect(readBatchHeader(encodeBatch({ records: [{ value: null }] }), 0).deleteHorizonMs).toBeNull();
  });

  it('writes ASCII and non-ASCII header keys as UTF-8', () => {
    const headers = [
      { key: 'trace-id', value: Buffer.from('1') },
      { key: 'clé-ü', value: null },
      { key: '🔑', value: Buffer.alloc(0) },
    ];
    const [record] = decodeBatch(encodeBatch({ records: [{ value: null, headers }] })).records();
    expect(record.headers).toEqual(headers);
  });
});

describe('recordCursor', () => {
  it('walks the same records as forEachRecord, and checks the section is filled exactly at the end', () => {
    const records = [{ key: Buffer.from('k1'), value: Buffer.from('v1') }, { key: null, value: Buffer.from('v2'), headers: [{ key: 'h', value: Buffer.from('x') }] }, { key: Buffer.from('k3'), value: null }];
    const encoded = encodeBatch({ baseOffset: 10, timestamp: 5, records });
    const visited: string[] = [];
    decodeBatch(encoded).forEachRecord((r) => visited.push(`${r.offset}:${r.key()?.toString()}:${r.value()?.toString()}:${r.headerCount}`));
    const walked: string[] = [];
    const cursor = decodeBatch(encoded).recordCursor();
    while (cursor.next()) walked.push(`${cursor.offset}:${cursor.key()?.toString()}:${cursor.value()?.toString()}:${cursor.headerCount}`);
    expect(walked).toEqual(visited);
    expect(walked).toHaveLength(3);
    // One record fewer declared than written: the bytes left over are found when the cursor ends.
    const short = Buffer.from(encoded);
    short.writeInt32BE(2, 57);
    const shortCursor = decodeBatch(short, 0, { verifyCrc: false }).recordCursor();
    expect(() => {
      while (shortCursor.next());
    }).toThrow(/bytes follow the last of 2 records/);
  });
});
