import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bufferView } from '../src/buffer-view.js';

describe('bufferView', () => {
  it('is a Buffer equal to subarray over the same memory, and what derives from it is a plain Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        // A Buffer inside a larger ArrayBuffer, as fetched records are.
        const data = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
        const start = a % data.length;
        const length = b % (data.length - start + 1);
        const view = bufferView(data, start, length);
        const expected = data.subarray(start, start + length);
        expect(Buffer.isBuffer(view)).toBe(true);
        expect(view instanceof Buffer).toBe(true);
        expect(view.constructor).toBe(Buffer);
        expect(view.equals(expected)).toBe(true);
        expect(view.toString('hex')).toBe(expected.toString('hex'));
        expect(JSON.stringify(view)).toBe(JSON.stringify(expected));
        expect(Object.getPrototypeOf(view.subarray(0)).constructor).toBe(Buffer);
        expect(Buffer.isBuffer(view.slice(0))).toBe(true);
        if (length > 0) {
          data[start] ^= 0xff; // shares the memory, no copy
          expect(view[0]).toBe(data[start]);
        }
      }),
    );
  });
});
