/**
 * Every record of every produced batch is checked before anything is appended, compressed or not
 * (Kafka's LogValidator): a batch with a valid CRC whose records lie about their lengths, counts,
 * offsets, headers or varints is refused with INVALID_RECORD, and the same damage with a CRC that
 * no longer matches (damage in transit) with CORRUPT_MESSAGE. The batches here are built byte by
 * byte, then given a correct CRC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@gregor/protocol';
import {
  BATCH_HEADER_BYTES, Compression, compress, CRC_OFFSET, writeBatchCrc, writeInt64, writeVarint, writeVarlong,
} from '@gregor/records';
import { batch, createTopic, openTestBroker, produce, type TestBroker } from './helpers.js';

interface RawRecord {
  /** Overrides the record's length prefix (the body's true length otherwise). */
  length?: number;
  timestampDelta?: number;
  offsetDelta: number;
  key?: Buffer | null;
  value?: Buffer | null;
  /** Raw bytes written where the key length and key go (replaces `key`). */
  rawKey?: Buffer;
  headers?: { key: string; value: Buffer | null }[];
  /** Overrides the header count. */
  headerCount?: number;
}

function varint(value: number): Buffer {
  const buffer = Buffer.alloc(5);
  return buffer.subarray(0, writeVarint(buffer, 0, value));
}

function varlong(value: number): Buffer {
  const buffer = Buffer.alloc(10);
  return buffer.subarray(0, writeVarlong(buffer, 0, value));
}

function bytesField(bytes: Buffer | null | undefined): Buffer {
  return bytes === null || bytes === undefined ? varint(-1) : Buffer.concat([varint(bytes.length), bytes]);
}

function encodeRecord(record: RawRecord): Buffer {
  const headers = record.headers ?? [];
  const body = Buffer.concat([
    Buffer.from([0]),
    varlong(record.timestampDelta ?? 0),
    varint(record.offsetDelta),
    record.rawKey ?? bytesField(record.key ?? null),
    bytesField(record.value === undefined ? Buffer.from(`value-${record.offsetDelta}`) : record.value),
    varint(record.headerCount ?? headers.length),
    ...headers.flatMap((header) => [bytesField(Buffer.from(header.key)), bytesField(header.value)]),
  ]);
  return Buffer.concat([varint(record.length ?? body.length), body]);
}

/** A batch around `section` (the records, uncompressed) with a correct CRC. */
function rawBatch(section: Buffer, options: { recordCount: number; lastOffsetDelta: number; compression?: number; baseTimestamp?: number }): Buffer {
  const compression = options.compression ?? Compression.none;
  const payload = compression === Compression.none ? section : compress(compression, section);
  const batchBytes = Buffer.alloc(BATCH_HEADER_BYTES + payload.length);
  writeInt64(batchBytes, 0, 0);
  batchBytes.writeInt32BE(batchBytes.length - 12, 8);
  batchBytes.writeInt32BE(-1, 12);
  batchBytes.writeInt8(2, 16);
  batchBytes.writeInt16BE(compression, 21);
  batchBytes.writeInt32BE(options.lastOffsetDelta, 23);
  writeInt64(batchBytes, 27, options.baseTimestamp ?? 1_700_000_000_000);
  writeInt64(batchBytes, 35, options.baseTimestamp ?? 1_700_000_000_000);
  writeInt64(batchBytes, 43, -1);
  batchBytes.writeInt16BE(-1, 51);
  batchBytes.writeInt32BE(-1, 53);
  batchBytes.writeInt32BE(options.recordCount, 57);
  payload.copy(batchBytes, BATCH_HEADER_BYTES);
  writeBatchCrc(batchBytes, 0, batchBytes.length);
  return batchBytes;
}

function records(...list: RawRecord[]): Buffer {
  return Buffer.concat(list.map(encodeRecord));
}

const longRecordValue = Buffer.alloc(120, 0x61);
const tooLongVarint = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);

/** Each: a name, the records section, and the count and lastOffsetDelta the header declares. */
const malformed: { name: string; section: Buffer; recordCount: number; lastOffsetDelta: number; baseTimestamp?: number }[] = [
  // The case: the first record's length field says 63 bytes in a longer record.
  { name: 'a record length shorter than its record', section: records({ offsetDelta: 0, value: longRecordValue, length: 63 }, { offsetDelta: 1 }), recordCount: 2, lastOffsetDelta: 1 },
  { name: 'a record length beyond the batch', section: records({ offsetDelta: 0, length: 500 }), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a record count that disagrees with lastOffsetDelta', section: records({ offsetDelta: 0 }, { offsetDelta: 1 }, { offsetDelta: 2 }), recordCount: 3, lastOffsetDelta: 1 },
  { name: 'fewer records than the count', section: records({ offsetDelta: 0 }, { offsetDelta: 1 }), recordCount: 3, lastOffsetDelta: 2 },
  { name: 'bytes after the last record', section: Buffer.concat([records({ offsetDelta: 0 }), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'offset deltas that skip', section: records({ offsetDelta: 0 }, { offsetDelta: 2 }), recordCount: 2, lastOffsetDelta: 1 },
  { name: 'offset deltas out of order', section: records({ offsetDelta: 1 }, { offsetDelta: 0 }), recordCount: 2, lastOffsetDelta: 1 },
  { name: 'a negative header count', section: records({ offsetDelta: 0, headerCount: -1 }), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a header count the record cannot hold', section: records({ offsetDelta: 0, headers: [{ key: 'h', value: null }], headerCount: 40 }), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a negative header key length', section: Buffer.concat([varint(9), Buffer.from([0]), varlong(0), varint(0), varint(-1), varint(-1), varint(1), varint(-3), varint(-1)]), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a key length below -1', section: records({ offsetDelta: 0, rawKey: varint(-2) }), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a varint longer than five bytes', section: records({ offsetDelta: 0, rawKey: tooLongVarint }), recordCount: 1, lastOffsetDelta: 0 },
  { name: 'a timestamp outside the safe-integer range', section: records({ offsetDelta: 0, timestampDelta: 2 ** 52 }), recordCount: 1, lastOffsetDelta: 0, baseTimestamp: 2 ** 52 },
];

describe('validation of every produced record', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  for (const compression of [Compression.none, Compression.gzip, Compression.zstd]) {
    for (const { name, section, recordCount, lastOffsetDelta, baseTimestamp } of malformed) {
      it(`refuses ${name} with INVALID_RECORD, codec ${compression}, appending nothing`, async () => {
        test = await openTestBroker();
        await createTopic(test.broker, 't');
        const answer = await produce(test.broker, 't', 0, rawBatch(section, { recordCount, lastOffsetDelta, compression, baseTimestamp }));
        expect(answer).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1, recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: expect.any(String) }] });
        expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
        expect(await produce(test.broker, 't', 0, batch(['after']))).toMatchObject({ errorCode: 0, baseOffset: 0 });
      });
    }
  }

  it('answers CORRUPT_MESSAGE, which clients retry, when the damaged batch also fails its CRC', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const damaged = rawBatch(malformed[0].section, { recordCount: 2, lastOffsetDelta: 1 });
    damaged[CRC_OFFSET] ^= 0x10;
    expect(await produce(test.broker, 't', 0, damaged)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    const compressed = rawBatch(malformed[0].section, { recordCount: 2, lastOffsetDelta: 1, compression: Compression.lz4 });
    compressed[CRC_OFFSET] ^= 0x10;
    expect(await produce(test.broker, 't', 0, compressed)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
  });

  it('names the refused batch and appends none of the set when a later batch is bad', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const bad = rawBatch(malformed[5].section, { recordCount: 2, lastOffsetDelta: 1 });
    const answer = await produce(test.broker, 't', 0, Buffer.concat([batch(['ok']), bad]));
    expect(answer).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, recordErrors: [{ batchIndex: 1 }] });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
  });

  it('stores well-formed batches whatever their headers, nulls and timestamp deltas (negative ones too)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const section = records(
      { offsetDelta: 0, key: Buffer.from('k'), headers: [{ key: 'a', value: Buffer.from('1') }, { key: '', value: null }] },
      { offsetDelta: 1, key: null, value: null, timestampDelta: -5000 },
      { offsetDelta: 2, value: Buffer.alloc(0), timestampDelta: 2 ** 40 },
    );
    for (const compression of [Compression.none, Compression.snappy, Compression.lz4]) {
      expect(await produce(test.broker, 't', 0, rawBatch(section, { recordCount: 3, lastOffsetDelta: 2, compression }))).toMatchObject({ errorCode: 0 });
    }
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(9);
  });
});
