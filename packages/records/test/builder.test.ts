import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBuilder, Compression, decodeBatch, encodeBatch, readBatchHeader } from '@gregor/records';

const value = Buffer.alloc(100, 'x');

describe('BatchBuilder', () => {
  it('refuses a record that would pass batchBytesMax, and reports size and count', () => {
    const builder = new BatchBuilder({ batchBytesMax: 1024 });
    let appended = 0;
    while (builder.tryAppend(1000 + appended, null, value, null)) appended++;
    expect(appended).toBeGreaterThan(5);
    expect(builder.recordCount).toBe(appended);
    expect(builder.sizeInBytes).toBeLessThanOrEqual(1024);
    expect(builder.sizeInBytes + 100).toBeGreaterThan(1024);
    const batch = builder.build();
    expect(batch.length).toBe(builder.sizeInBytes);
    expect(readBatchHeader(batch, 0).recordCount).toBe(appended);
  });

  it('always accepts the first record, however large', () => {
    const builder = new BatchBuilder({ batchBytesMax: 64 });
    expect(builder.tryAppend(1, null, Buffer.alloc(5000), null)).toBe(true);
    expect(builder.tryAppend(1, null, Buffer.alloc(1), null)).toBe(false);
    const [record] = decodeBatch(builder.build()).records();
    expect(record.value?.length).toBe(5000);
  });

  it('grows its buffer from a small initial size without losing records', () => {
    const builder = new BatchBuilder({ initialBytes: 16 });
    for (let index = 0; index < 500; index++) builder.tryAppend(index, Buffer.from(`k${index}`), value, [{ key: 'n', value: Buffer.from(String(index)) }]);
    const records = [...decodeBatch(builder.build()).records()];
    expect(records).toHaveLength(500);
    expect(records[499].headers[0].value?.toString()).toBe('499');
    expect(records[499].timestamp).toBe(499);
  });

  it('compresses on build and counts uncompressed bytes against the limit', () => {
    const builder = new BatchBuilder({ compression: Compression.lz4, batchBytesMax: 16 * 1024 });
    while (builder.tryAppend(5, null, value, null));
    const uncompressedBytes = builder.sizeInBytes;
    const batch = builder.build();
    expect(batch.length).toBeLessThan(uncompressedBytes / 4);
    expect(readBatchHeader(batch, 0).compression).toBe(Compression.lz4);
    expect([...decodeBatch(batch).records()]).toHaveLength(builder.recordCount);
  });

  it('cannot be appended to after build', () => {
    const builder = new BatchBuilder();
    builder.tryAppend(1, null, value, null);
    builder.build();
    expect(() => builder.tryAppend(1, null, value, null)).toThrow();
  });

  it('accepts exactly the records that keep the batch within the limit, against a reference model', () => {
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 50 }).map((array) => Buffer.from(array)), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 400 }).map((array) => Buffer.from(array)), { nil: null }),
      timestamp: fc.integer({ min: 1_000_000, max: 2_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), fc.integer({ min: 61, max: 6000 }), (records, batchBytesMax) => {
        const builder = new BatchBuilder({ batchBytesMax, initialBytes: 64 });
        const accepted: typeof records = [];
        for (const entry of records) {
          // Model: the batch the builder would have after this record, encoded from scratch.
          const candidate = encodeBatch({ records: [...accepted, entry] });
          const fits = accepted.length === 0 || candidate.length <= batchBytesMax;
          expect(builder.tryAppend(entry.timestamp, entry.key, entry.value, null)).toBe(fits);
          if (fits) accepted.push(entry);
          expect(builder.recordCount).toBe(accepted.length);
          expect(builder.sizeInBytes).toBe(encodeBatch({ records: accepted }).length);
        }
        const built = builder.build();
        expect(built.equals(encodeBatch({ records: accepted }))).toBe(true);
        expect([...decodeBatch(built).records()].map((entry) => entry.value)).toEqual(accepted.map((entry) => entry.value));
      }),
      { numRuns: 100 },
    );
  });
});

describe('BatchBuilder writing into a caller buffer', () => {
  it('writes the same bytes as its own buffer would, at the given position, and leaves the rest alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.option(fc.uint8Array({ maxLength: 20 })), value: fc.option(fc.uint8Array({ maxLength: 200 })), delta: fc.nat(1000) }), { minLength: 1, maxLength: 30 }),
        fc.nat(500),
        (records, start) => {
          const region = Buffer.alloc(start + 16 * 1024, 0xab);
          const identity = { producerId: 7, producerEpoch: 1, baseSequence: 42 };
          const own = new BatchBuilder({ batchBytesMax: 8 * 1024, ...identity });
          const placed = new BatchBuilder({ batchBytesMax: 8 * 1024, ...identity, into: { buffer: region, start } });
          let timestamp = 1_700_000_000_000;
          for (const record of records) {
            timestamp += record.delta;
            const key = record.key === null ? null : Buffer.from(record.key);
            const value = record.value === null ? null : Buffer.from(record.value);
            expect(placed.tryAppend(timestamp, key, value)).toBe(own.tryAppend(timestamp, key, value));
          }
          const expected = own.build();
          const batch = placed.build();
          expect(batch.buffer).toBe(region.buffer);
          expect(batch.byteOffset - region.byteOffset).toBe(start);
          expect(batch.equals(expected)).toBe(true);
          expect(region.subarray(0, start).every((byte) => byte === 0xab)).toBe(true);
          expect(region.subarray(start + batch.length).every((byte) => byte === 0xab)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses a codec, and a record the caller buffer cannot hold, with an assertion', () => {
    expect(() => new BatchBuilder({ compression: Compression.gzip, into: { buffer: Buffer.alloc(1024), start: 0 } })).toThrow(/uncompressed/);
    const builder = new BatchBuilder({ into: { buffer: Buffer.alloc(200), start: 0 } });
    expect(() => builder.tryAppend(0, null, Buffer.alloc(500))).toThrow(/never grown/);
  });
});
