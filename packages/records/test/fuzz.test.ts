import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchesIn, Compression, decodeBatch, encodeBatch, isBatchCrcValid, readBatchHeader, RecordsError, writeBatchCrc } from '@gregor/records';
import { mutate, mutation } from './mutations.js';

const DECOMPRESSED_BYTES_MAX = 256 * 1024;
/** No single JavaScript allocation while decoding may exceed this (the limit plus one zstd step). */
const ALLOCATION_BYTES_MAX = DECOMPRESSED_BYTES_MAX + 256 * 1024;

const record = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fc.option(fc.uint8Array({ maxLength: 10 }).map((array) => Buffer.from(array)), { nil: null }) }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});
const batch = fc
  .record({ compression: fc.constantFrom(...Object.values(Compression)), records: fc.array(record, { minLength: 1, maxLength: 12 }) })
  .map((input) => encodeBatch(input));

/** Decodes and reads everything; returns normally or throws. */
function readEverything(bytes: Buffer): void {
  for (const { position } of batchesIn(bytes)) {
    readBatchHeader(bytes, position);
    isBatchCrcValid(bytes, position);
    const decoded = decodeBatch(bytes, position, { decompressedBytesMax: DECOMPRESSED_BYTES_MAX, verifyCrc: false });
    for (const entry of decoded.records()) void entry.headers.length;
    decoded.forEachRecord((view) => void view.headers());
  }
}

function expectOnlyTypedErrors(bytes: Buffer): void {
  try {
    readEverything(bytes);
  } catch (error) {
    if (!(error instanceof RecordsError)) throw error;
  }
}

describe('decoding corrupted batches', () => {
  let largestAllocation = 0;
  const originals = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  beforeEach(() => {
    largestAllocation = 0;
    for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const original = originals[name] as (size: number, ...rest: unknown[]) => Buffer;
      (Buffer as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
        largestAllocation = Math.max(largestAllocation, size);
        return original.call(Buffer, size, ...rest);
      };
    }
  });
  afterEach(() => Object.assign(Buffer, originals));

  it('throws only typed errors and allocates boundedly after random mutations (CRC not checked)', () => {
    fc.assert(
      fc.property(batch, fc.array(mutation, { minLength: 1, maxLength: 4 }), (original, mutations) => {
        expectOnlyTypedErrors(mutate(original, mutations));
        expect(largestAllocation).toBeLessThanOrEqual(ALLOCATION_BYTES_MAX);
      }),
      { numRuns: 700 },
    );
  });

  it('throws only typed errors when the records section is mutated under a recomputed CRC', () => {
    fc.assert(
      fc.property(batch, fc.array(mutation, { minLength: 1, maxLength: 3 }), (original, mutations) => {
        const tail = mutate(original.subarray(61), mutations);
        const bytes = Buffer.concat([original.subarray(0, 61), tail]);
        bytes.writeInt32BE(bytes.length - 12, 8);
        writeBatchCrc(bytes, 0, bytes.length);
        expectOnlyTypedErrors(bytes);
        expect(largestAllocation).toBeLessThanOrEqual(ALLOCATION_BYTES_MAX);
      }),
      { numRuns: 700 },
    );
  });

  it('rejects every truncation of a batch with a typed error', () => {
    fc.assert(
      fc.property(batch, (original) => {
        for (let length = 1; length < original.length; length++) {
          expect(() => readEverything(original.subarray(0, length)), `length ${length}`).toThrow(RecordsError);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rejects record counts beyond the bytes available without iterating them', () => {
    const original = encodeBatch({ records: [{ value: Buffer.from('v') }] });
    for (const count of [2, 1000, 2 ** 31 - 1, -1]) {
      const bytes = Buffer.from(original);
      bytes.writeInt32BE(count, 57);
      writeBatchCrc(bytes, 0, bytes.length);
      expect(() => [...decodeBatch(bytes).records()], `count ${count}`).toThrow(RecordsError);
    }
  });

  it('rejects a batch whose CRC does not match by default', () => {
    const bytes = encodeBatch({ records: [{ value: Buffer.from('value') }] });
    bytes[bytes.length - 2] ^= 1;
    expect(() => decodeBatch(bytes)).toThrow(RecordsError);
  });
});
