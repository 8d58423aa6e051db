/**
 * Batches written by librdkafka 2.0.2 (kcat 1.7.1 `-P -z <codec>`), captured from a Gregor
 * broker's segment files: the broker assigned the base offset and leader epoch, the bytes are
 * otherwise librdkafka's. Twelve records: {"id":i,"user":"user-<i%17>","event":"click","pad":"x"*40}.
 * librdkafka writes raw snappy blocks (no xerial framing) and LZ4 frames with independent 64 KiB
 * blocks and no content size.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Compression, decodeBatch, isBatchCrcValid, readBatchHeader, SNAPPY_XERIAL_MAGIC } from '@gregor/records';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/librdkafka-2.0.2-batches.json', import.meta.url), 'utf8')) as Record<string, string>;
const expectedValues = Array.from({ length: 12 }, (_, index) => JSON.stringify({ id: index, user: `user-${index % 17}`, event: 'click', pad: 'x'.repeat(40) }));

describe('batches written by librdkafka', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`decode (${codec})`, () => {
      const batch = Buffer.from(fixtures[codec], 'hex');
      expect(isBatchCrcValid(batch, 0)).toBe(true);
      const header = readBatchHeader(batch, 0);
      expect(header.compression).toBe(Compression[codec]);
      expect(header.sizeBytes).toBe(batch.length);
      const records = [...decodeBatch(batch).records()];
      expect(records.map((record) => record.value?.toString())).toEqual(expectedValues);
      expect(records.map((record) => record.offset)).toEqual(expectedValues.map((_, index) => header.baseOffset + index));
      expect(records.every((record) => record.key === null && record.timestamp >= header.baseTimestamp)).toBe(true);
    });
  }

  it('write snappy as a raw block and lz4 as a frame with independent blocks', () => {
    const snappySection = Buffer.from(fixtures.snappy, 'hex').subarray(61);
    expect(snappySection.subarray(0, 8).equals(SNAPPY_XERIAL_MAGIC)).toBe(false);
    const lz4Section = Buffer.from(fixtures.lz4, 'hex').subarray(61);
    expect(lz4Section.readUInt32LE(0)).toBe(0x184d2204);
    expect(lz4Section[4] & 0x20).toBe(0x20);
  });
});
