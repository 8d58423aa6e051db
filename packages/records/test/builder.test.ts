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

describe('BatchBuilder.appendPlainRecords (the send-array encoder)', () => {
  const bytes = (maxLength: number) => fc.option(fc.uint8Array({ maxLength }).map((array) => Buffer.from(array)), { nil: null });
  // Plain records, and now and then one the run must stop at (headers, its own timestamp or partition, a string).
  const input = fc.oneof(
    { weight: 6, arbitrary: fc.record({ key: bytes(200), value: bytes(300) }) },
    { weight: 1, arbitrary: fc.record({ key: bytes(20), value: bytes(20), headers: fc.constant({ h: 'x' }) }) },
    { weight: 1, arbitrary: fc.record({ key: bytes(20), value: bytes(20), timestamp: fc.integer({ min: 0, max: 3_000_000 }) }) },
    { weight: 1, arbitrary: fc.record({ key: bytes(20), value: bytes(20), partition: fc.constant(0) }) },
    { weight: 1, arbitrary: fc.record({ key: fc.constant('text'), value: bytes(20) }) },
  );
  type Input = { key: Buffer | string | null; value: Buffer | null; headers?: unknown; timestamp?: number; partition?: number };
  const isPlain = (entry: Input) => entry.headers === undefined && entry.timestamp === undefined && entry.partition === undefined && typeof entry.key !== 'string';

  it('writes exactly the batch that tryAppend of the same records writes, and stops where tryAppend is needed', () => {
    fc.assert(
      fc.property(
        fc.array(input, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 61, max: 8000 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.boolean(),
        (records: Input[], batchBytesMax, now, intoCaller) => {
          const make = () => (intoCaller ? new BatchBuilder({ batchBytesMax, into: { buffer: Buffer.alloc(Math.max(batchBytesMax, 20_000) + 61 + 20_000), start: 7 } }) : new BatchBuilder({ batchBytesMax, initialBytes: 64 }));
          const fast = make();
          const reference = make();
          let index = 0;
          let full = false;
          while (index < records.length && !full) {
            const appended = fast.appendPlainRecords(records, index, records.length, now);
            // The run: the longest prefix of plain records that tryAppend accepts one by one.
            let expected = 0;
            while (index + expected < records.length && isPlain(records[index + expected])) {
              const entry = records[index + expected];
              if (!reference.tryAppend(now, (entry.key as Buffer | null) ?? null, entry.value, null)) break;
              expected++;
            }
            expect(appended).toBe(expected);
            index += appended;
            if (index === records.length) break;
            const entry = records[index];
            if (!isPlain(entry)) {
              // What the producer does with such a record: tryAppend, with its own timestamp.
              const key = typeof entry.key === 'string' ? Buffer.from(entry.key) : entry.key;
              const timestamp = entry.timestamp ?? now;
              const headers = entry.headers === undefined ? null : [{ key: 'h', value: Buffer.from('x') }];
              const accepted = fast.tryAppend(timestamp, key, entry.value, headers);
              expect(reference.tryAppend(timestamp, key, entry.value, headers)).toBe(accepted);
              if (!accepted) full = true;
              else index++;
            } else full = true;
          }
          expect(fast.recordCount).toBe(reference.recordCount);
          expect(fast.sizeInBytes).toBe(reference.sizeInBytes);
          expect(fast.build().equals(reference.build())).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes long keys and values, null ones, timestamp deltas and offset deltas past one varint byte', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ key: i % 3 === 0 ? null : Buffer.alloc(i, 1), value: i % 5 === 0 ? null : Buffer.alloc(i * 3, 2) }));
    const fast = new BatchBuilder({ batchBytesMax: 1 << 20, initialBytes: 64 });
    fast.tryAppend(5, null, null, null);
    expect(fast.appendPlainRecords(records, 0, records.length, 1_000_000_000_000)).toBe(300);
    const decoded = [...decodeBatch(fast.build()).records()];
    expect(decoded).toHaveLength(301);
    expect(decoded[300].offset).toBe(300);
    expect(decoded[300].timestamp).toBe(1_000_000_000_000);
    expect(decoded.slice(1).map((record) => record.key)).toEqual(records.map((record) => record.key));
    expect(decoded.slice(1).map((record) => record.value)).toEqual(records.map((record) => record.value));
  });

  it('appends nothing to a built batch, and nothing for an empty run', () => {
    const builder = new BatchBuilder();
    expect(builder.appendPlainRecords([{ key: null, value: value }], 1, 1, 5)).toBe(0);
    expect(builder.recordCount).toBe(0);
    builder.build();
    expect(() => builder.appendPlainRecords([{ key: null, value: value }], 0, 1, 5)).toThrow();
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
