import { describe, expect, it } from 'vitest';
import { ControlRecordType, CorruptRecordError, decodeBatch, decodeControlRecord, encodeBatch, encodeControlRecord } from '@gregor/records';

describe('control records', () => {
  it('encode an end-transaction marker as Kafka does', () => {
    const { key, value } = encodeControlRecord(ControlRecordType.commit, 7);
    expect(key.toString('hex')).toBe('00000001');
    expect(value.toString('hex')).toBe('000000000007');
    expect(encodeControlRecord(ControlRecordType.abort, 0).key.toString('hex')).toBe('00000000');
  });

  it('round-trip through a transactional control batch', () => {
    const marker = encodeControlRecord(ControlRecordType.abort, 3);
    const batch = decodeBatch(encodeBatch({ isControl: true, isTransactional: true, producerId: 9, producerEpoch: 1, records: [{ ...marker, timestamp: 5 }] }));
    expect(batch.isControl).toBe(true);
    expect(batch.isTransactional).toBe(true);
    const [record] = batch.records();
    expect(decodeControlRecord(record.key, record.value)).toEqual({ version: 0, type: ControlRecordType.abort, coordinatorEpoch: 3 });
  });

  it('decode other control types without a coordinator epoch', () => {
    expect(decodeControlRecord(Buffer.from('00000002', 'hex'), Buffer.alloc(0))).toEqual({ version: 0, type: 2, coordinatorEpoch: null });
  });

  it('reject keys and marker values that are too short', () => {
    expect(() => decodeControlRecord(Buffer.from('0000', 'hex'), null)).toThrow(CorruptRecordError);
    expect(() => decodeControlRecord(null, null)).toThrow(CorruptRecordError);
    expect(() => decodeControlRecord(Buffer.from('00000001', 'hex'), Buffer.from('0000', 'hex'))).toThrow(CorruptRecordError);
  });
});
