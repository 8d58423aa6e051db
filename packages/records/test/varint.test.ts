import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '@gregor/records';

/** Reference: protobuf zigzag varlong through BigInt. */
function referenceVarlong(value: number): Buffer {
  let zigzag = (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
  zigzag = BigInt.asUintN(64, zigzag);
  const bytes: number[] = [];
  while (zigzag >= 0x80n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  bytes.push(Number(zigzag));
  return Buffer.from(bytes);
}

function encode(write: (buffer: Buffer, position: number, value: number) => number, value: number): Buffer {
  const buffer = Buffer.alloc(10);
  return buffer.subarray(0, write(buffer, 0, value));
}

describe('varints', () => {
  it('encode known values as Kafka does', () => {
    expect(encode(writeVarint, 0).toString('hex')).toBe('00');
    expect(encode(writeVarint, -1).toString('hex')).toBe('01');
    expect(encode(writeVarint, 1).toString('hex')).toBe('02');
    expect(encode(writeVarint, 63).toString('hex')).toBe('7e');
    expect(encode(writeVarint, -64).toString('hex')).toBe('7f');
    expect(encode(writeVarint, 64).toString('hex')).toBe('8001');
    expect(encode(writeVarint, 2147483647).toString('hex')).toBe('feffffff0f');
    expect(encode(writeVarint, -2147483648).toString('hex')).toBe('ffffffff0f');
    expect(encode(writeUnsignedVarint, 300).toString('hex')).toBe('ac02');
  });

  it('round-trip every int32 with the predicted size', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (value) => {
        const bytes = encode(writeVarint, value);
        expect(bytes.length).toBe(sizeOfVarint(value));
        expect(bytes).toEqual(referenceVarlong(value));
        const cursor = { position: 0 };
        expect(readVarint(bytes, cursor, bytes.length)).toBe(value);
        expect(cursor.position).toBe(bytes.length);
      }),
    );
  });

  it('round-trip every unsigned int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const bytes = encode(writeUnsignedVarint, value);
        expect(bytes.length).toBe(sizeOfUnsignedVarint(value));
        expect(readUnsignedVarint(bytes, { position: 0 }, bytes.length)).toBe(value);
      }),
    );
  });

  it('round-trip every safe integer as a varlong, byte-identical to the reference', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })), (value) => {
        const bytes = encode(writeVarlong, value);
        expect(bytes).toEqual(referenceVarlong(value));
        expect(bytes.length).toBe(sizeOfVarlong(value));
        const cursor = { position: 0 };
        expect(readVarlong(bytes, cursor, bytes.length)).toBe(value);
        expect(cursor.position).toBe(bytes.length);
      }),
    );
  });

  it('reject a varint longer than 5 bytes and a varlong longer than 10', () => {
    expect(() => readVarint(Buffer.from('ffffffffff01', 'hex'), { position: 0 }, 6)).toThrow(CorruptRecordError);
    expect(() => readVarlong(Buffer.from('ffffffffffffffffffff01', 'hex'), { position: 0 }, 11)).toThrow(CorruptRecordError);
  });

  it('reject a varint that runs past its end', () => {
    expect(() => readVarint(Buffer.from('ff', 'hex'), { position: 0 }, 1)).toThrow(CorruptRecordError);
    expect(() => readVarint(Buffer.from('8001', 'hex'), { position: 0 }, 1)).toThrow(CorruptRecordError);
    expect(() => readVarlong(Buffer.from('808080808001', 'hex'), { position: 0 }, 5)).toThrow(CorruptRecordError);
  });

  it('reject a varlong outside the safe-integer range', () => {
    expect(() => readVarlong(referenceVarlong(0), { position: 0 }, 1)).not.toThrow();
    const unsafe = Buffer.from('feffffffffffffff01', 'hex'); // zigzag of 2^62 - 1
    expect(() => readVarlong(unsafe, { position: 0 }, unsafe.length)).toThrow(CorruptRecordError);
  });
});
