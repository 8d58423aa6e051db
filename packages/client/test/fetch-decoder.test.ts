import { inspect } from 'node:util';
import { Compression, ControlRecordType, encodeBatch, encodeControlRecord } from '@gregor/records';
import { describe, expect, it } from 'vitest';
import { decodeFetchedRecords, fetchedBatches } from '../src/consumer.js';
import { FetchedRecords } from '../src/fetched-records.js';
import type { FetchedMessage } from '../src/message.js';

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

describe('FetchedRecords', () => {
  it('appends each batch straight into the list it is given, and leaves the list as it was at a batch that does not decode', () => {
    const damaged = batch(3, ['d', 'e']);
    // Record length of the second record made larger than the section: framing breaks inside the batch.
    const good = Buffer.concat([batch(0, ['a', 'b']), batch(2, ['c'])]);
    const set = new FetchedRecords(0, Buffer.concat([good, damaged.subarray(0, damaged.length - 1), Buffer.from([0x7f])]), null, 1 << 20, false);
    const list: FetchedMessage[] = [];
    expect(set.readBatch(list)).toBe(2);
    expect(set.readBatch(list)).toBe(1);
    expect(list.map((m) => m.value!.toString())).toEqual(['a', 'b', 'c']);
    expect(set.nextPosition).toBe(3);
    expect(set.readBatch(list)).toBe(-1);
    expect(list).toHaveLength(3);
    expect(set.damage?.message).toMatch(/header count|bytes follow|record/);
    expect(set.nextPosition).toBe(3);
    expect(set.readBatch(list)).toBe(-1);
  });

  it('answers 0 for a control batch and moves the position past it', () => {
    const set = new FetchedRecords(0, Buffer.concat([abortMarker(0, 5), batch(1, ['x'])]), [], 1 << 20);
    const list: FetchedMessage[] = [];
    expect(set.readBatch(list)).toBe(0);
    expect(set.nextPosition).toBe(1);
    expect(set.readBatch(list)).toBe(1);
    expect(set.readBatch(list)).toBe(-1);
    expect(set.damage).toBeNull();
  });
});
