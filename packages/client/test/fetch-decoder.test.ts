import { Compression, ControlRecordType, encodeBatch, encodeControlRecord } from '@gregor/records';
import { describe, expect, it } from 'vitest';
import { decodeFetchedRecords } from '../src/consumer.js';

const batch = (baseOffset: number, values: string[], options: { producerId?: number; isTransactional?: boolean; compression?: number } = {}) =>
  encodeBatch({ baseOffset, producerId: options.producerId ?? -1, isTransactional: options.isTransactional, compression: options.compression, timestamp: 1000, records: values.map((v) => ({ value: Buffer.from(v) })) });
const abortMarker = (offset: number, producerId: number) => {
  const { key, value } = encodeControlRecord(ControlRecordType.abort, 0);
  return encodeBatch({ baseOffset: offset, producerId, isTransactional: true, isControl: true, timestamp: 1000, records: [{ key, value }] });
};
const values = (r: ReturnType<typeof decodeFetchedRecords>) => r.list.map((m) => m.value!.toString());

describe('decodeFetchedRecords', () => {
  it('skips records below the fetch offset inside the first batch', () => {
    const result = decodeFetchedRecords(2, batch(0, ['a', 'b', 'c', 'd'], { compression: Compression.lz4 }), null, 1 << 20);
    expect(values(result)).toEqual(['c', 'd']);
    expect(result.offsets).toEqual([2, 3]);
    expect(result.nextPosition).toBe(4);
  });

  it('skips control batches and the batches of aborted transactions under read_committed', () => {
    const records = Buffer.concat([batch(0, ['t1', 't2'], { producerId: 5, isTransactional: true }), batch(2, ['plain']), abortMarker(3, 5), batch(4, ['after'], { producerId: 5, isTransactional: true })]);
    const committed = decodeFetchedRecords(0, records, [{ producerId: 5, firstOffset: 0 }], 1 << 20);
    expect(values(committed)).toEqual(['plain', 'after']);
    const uncommitted = decodeFetchedRecords(0, records, null, 1 << 20);
    expect(values(uncommitted)).toEqual(['t1', 't2', 'plain', 'after']);
    expect(committed.nextPosition).toBe(5);
  });

  it('ignores a partial batch at the end of the record set', () => {
    const full = batch(0, ['x']);
    const partial = batch(1, ['y']).subarray(0, 30);
    expect(values(decodeFetchedRecords(0, Buffer.concat([full, partial]), null, 1 << 20))).toEqual(['x']);
  });
});
