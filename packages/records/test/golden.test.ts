import { describe, expect, it } from 'vitest';
import { crc32c, decodeBatch, encodeBatch, isBatchCrcValid, readBatchHeader } from '@gregor/records';

/** Bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78): a reference independent of fast-crc32c. */
function referenceCrc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/*
 * One record, key "key", value "value", no headers, written by hand from Kafka's spec
 * (DefaultRecordBatch / DefaultRecord):
 *   record body: attributes 00, timestampDelta 00, offsetDelta 00, keyLength zigzag(3)=06, "key",
 *   valueLength zigzag(5)=0a, "value", headerCount 00 → 14 bytes, length zigzag(14)=1c.
 *   batch: 61 + 15 = 76 bytes, batchLength 64.
 */
const GOLDEN_RECORD = '1c 00 00 00 06 6b 65 79 0a 76 61 6c 75 65 00';
const GOLDEN_CRC = 'db 5e 9c dd'; // from the bit-at-a-time reference below
const GOLDEN_BATCH = Buffer.from(
  [
    '00 00 00 00 00 00 00 00', // baseOffset 0
    '00 00 00 40', // batchLength 64
    '00 00 00 00', // partitionLeaderEpoch 0
    '02', // magic
    GOLDEN_CRC, // crc of attributes..end
    '00 00', // attributes: no codec, create time
    '00 00 00 00', // lastOffsetDelta 0
    '00 00 01 8b cf e5 68 00', // baseTimestamp 1700000000000
    '00 00 01 8b cf e5 68 00', // maxTimestamp
    'ff ff ff ff ff ff ff ff', // producerId -1
    'ff ff', // producerEpoch -1
    'ff ff ff ff', // baseSequence -1
    '00 00 00 01', // recordCount 1
    GOLDEN_RECORD,
  ]
    .join(' ')
    .replace(/ /g, ''),
  'hex',
);

describe('golden RecordBatch v2 vector', () => {
  it('the hand-written CRC is the CRC-32C of attributes..end', () => {
    const covered = GOLDEN_BATCH.subarray(21);
    expect(referenceCrc32c(covered)).toBe(GOLDEN_BATCH.readUInt32BE(17));
    expect(crc32c(covered)).toBe(GOLDEN_BATCH.readUInt32BE(17));
    expect(isBatchCrcValid(GOLDEN_BATCH, 0)).toBe(true);
  });

  it('encodes to exactly the bytes of the spec', () => {
    const encoded = encodeBatch({
      partitionLeaderEpoch: 0,
      records: [{ key: Buffer.from('key'), value: Buffer.from('value'), timestamp: 1_700_000_000_000 }],
    });
    expect(encoded.toString('hex')).toBe(GOLDEN_BATCH.toString('hex'));
  });

  it('decodes every field of the vector', () => {
    const batch = decodeBatch(GOLDEN_BATCH);
    expect(readBatchHeader(GOLDEN_BATCH, 0).sizeBytes).toBe(76);
    expect(batch.recordCount).toBe(1);
    const records = [...batch.records()];
    expect(records).toHaveLength(1);
    expect(records[0].offset).toBe(0);
    expect(records[0].timestamp).toBe(1_700_000_000_000);
    expect(records[0].key?.toString()).toBe('key');
    expect(records[0].value?.toString()).toBe('value');
    expect(records[0].headers).toEqual([]);
  });

  it('agrees with the reference CRC on random data', () => {
    for (let length = 0; length < 300; length += 7) {
      const data = Buffer.from(Array.from({ length }, (_, index) => (index * 131 + length) & 0xff));
      expect(crc32c(data)).toBe(referenceCrc32c(data));
    }
  });
});
