import { inspect } from 'node:util';
import { Compression, ControlRecordType, encodeBatch, encodeControlRecord } from '@gregor/records';
import { describe, expect, it } from 'vitest';
import { decodeFetchedRecords, fetchedBatches } from '../src/consumer.js';

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

  it('decodes key, value, offset and timestamp of a message on first read, and keeps what is assigned', () => {
    const records = encodeBatch({ baseOffset: 7, timestamp: 1000, records: [{ key: Buffer.from('k'), value: Buffer.from('v') }, { key: null, value: null }] });
    const [first, second] = decodeFetchedRecords(7, records, null, 1 << 20).list;
    expect([first.key!.toString(), first.value!.toString(), first.offset, first.timestamp]).toEqual(['k', 'v', '7', '1000']);
    expect(first.value).toBe(first.value);
    expect([second.key, second.value, second.offset]).toEqual([null, null, '8']);
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({ key: { type: 'Buffer' }, value: { type: 'Buffer', data: [0x76] }, offset: '7', timestamp: '1000', headers: {} });
    expect(inspect(first)).toContain("offset: '7'");
    second.value = Buffer.from('changed');
    second.offset = '99';
    expect([second.value.toString(), second.offset]).toEqual(['changed', '99']);
  });

  it('checks batch CRCs unless told the broker already did', () => {
    const records = batch(0, ['a', 'b']);
    records[records.length - 2] ^= 0xff; // the last value byte (the last byte is its header count), covered by the CRC
    expect(() => [...fetchedBatches(0, records, null, 1 << 20)]).toThrow(/CRC/);
    expect([...fetchedBatches(0, records, null, 1 << 20, false)].flatMap((part) => part.list)).toHaveLength(2);
  });
});
