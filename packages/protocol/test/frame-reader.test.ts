import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_POOL_MAX_BYTES, FRAME_POOL_MIN_BYTES, FramePool, FrameReader, FrameTooLargeError } from '../src/index.js';

function frameOf(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

describe('FrameReader', () => {
  it('defaults frameBytesMax to Kafka socket.request.max.bytes (100 MiB)', () => {
    expect(new FrameReader().frameBytesMax).toBe(100 * 1024 * 1024);
    expect(FRAME_BYTES_MAX_DEFAULT).toBe(104857600);
  });

  it('yields the same frames however the stream is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => frameOf(Buffer.from(p))));
          const reader = new FrameReader();
          const frames: Buffer[] = [];
          let position = 0;
          for (let i = 0; position < stream.length; i++) {
            const size = cuts[i % cuts.length];
            frames.push(...reader.push(stream.subarray(position, position + size)));
            position += size;
          }
          expect(frames.map((f) => Buffer.from(f))).toEqual(payloads.map((p) => Buffer.from(p)));
          expect(reader.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('returns several frames from one chunk as views without copying', () => {
    const chunk = Buffer.concat([frameOf(Buffer.from('ab')), frameOf(Buffer.from('cde')), Buffer.from([0, 0])]);
    const frames = new FrameReader().push(chunk);
    expect(frames.map(String)).toEqual(['ab', 'cde']);
    expect(frames[0].buffer).toBe(chunk.buffer);
  });

  it('keeps a partial frame until its last byte arrives', () => {
    const reader = new FrameReader();
    const frame = frameOf(Buffer.from('hello'));
    expect(reader.push(frame.subarray(0, 2))).toEqual([]);
    expect(reader.push(frame.subarray(2, 7))).toEqual([]);
    expect(reader.bufferedBytes).toBe(7);
    expect(reader.push(frame.subarray(7)).map(String)).toEqual(['hello']);
  });

  it('refuses a declared size above frameBytesMax before the payload arrives', () => {
    const reader = new FrameReader({ frameBytesMax: 10 });
    const header = Buffer.alloc(4);
    header.writeInt32BE(11);
    expect(() => reader.push(header)).toThrow(FrameTooLargeError);
  });

  it('refuses a 2 GiB declaration with the default limit without allocating it', () => {
    const reader = new FrameReader();
    const before = process.memoryUsage().arrayBuffers;
    expect(() => reader.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'FRAME_TOO_LARGE', sizeBytes: 0x7fffffff }),
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('refuses a negative declared size', () => {
    expect(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: 'FRAME_TOO_LARGE', sizeBytes: -2 }),
    );
  });

  it('reads a size prefix split across chunks', () => {
    const reader = new FrameReader();
    const frame = frameOf(Buffer.from('xyz'));
    expect(reader.push(frame.subarray(0, 1))).toEqual([]);
    expect(reader.push(frame.subarray(1, 3))).toEqual([]);
    expect(reader.push(frame.subarray(3)).map(String)).toEqual(['xyz']);
  });

  it('accepts an empty frame', () => {
    expect(new FrameReader().push(Buffer.alloc(4)).map((f) => f.length)).toEqual([0]);
  });
});

describe('FrameReader memory', () => {
  it('holds a spanning frame as its bytes arrive, not from the declared size', () => {
    const reader = new FrameReader();
    const header = Buffer.alloc(14);
    header.writeInt32BE(100 * 1024 * 1024);
    expect(reader.push(header)).toEqual([]);
    expect(reader.bufferedBytes).toBe(14);
    expect(reader.awaitedBytes).toBe(100 * 1024 * 1024 - 10);
    expect(reader.allocatedBytes).toBe(10);
    // A megabyte later it holds that megabyte, nowhere near 100 MiB.
    for (let i = 0; i < 16; i++) reader.push(Buffer.alloc(64 * 1024));
    expect(reader.allocatedBytes).toBe(1024 * 1024 + 10);
  });

  it('returns a frame of several megabytes that arrives in uneven chunks whole and byte-exact, with the frame after it', () => {
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >>> 11)) & 0xff;
    const next = Buffer.from('next');
    const stream = Buffer.concat([frameOf(payload), frameOf(next)]);
    const reader = new FrameReader();
    const frames: Buffer[] = [];
    for (let position = 0, i = 0; position < stream.length; i++) {
      const cut = [65_536, 1, 200_000, 7, 65_533][i % 5];
      frames.push(...reader.push(stream.subarray(position, position + cut)));
      position += cut;
      if (frames.length === 0) expect(reader.allocatedBytes).toBeLessThanOrEqual(reader.bufferedBytes);
    }
    expect(frames.map((frame) => frame.length)).toEqual([payload.length, next.length]);
    expect(frames[0].equals(payload)).toBe(true);
    expect(frames[1].equals(next)).toBe(true);
  });

  it('holds no more than the received bytes of a frame, and returns it at exactly its size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300_000 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 10 }), (size, cuts) => {
        const payload = Buffer.alloc(size, 7);
        payload[size - 1] = 9;
        const stream = frameOf(payload);
        const reader = new FrameReader();
        const frames: Buffer[] = [];
        let position = 0;
        for (let i = 0; position < stream.length; i++) {
          const cut = cuts[i % cuts.length];
          frames.push(...reader.push(stream.subarray(position, position + cut)));
          position += cut;
          if (frames.length === 0) expect(reader.allocatedBytes).toBeLessThanOrEqual(reader.bufferedBytes);
        }
        expect(frames.length).toBe(1);
        expect(frames[0].length).toBe(size);
        expect(frames[0].equals(payload)).toBe(true);
        expect(reader.allocatedBytes).toBe(0);
        expect(reader.awaitedBytes).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});

describe('FrameReader over a reused read buffer (chunksReused)', () => {
  it('returns every frame intact although each chunk is overwritten after push (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), (sizes, cuts) => {
        const payloads = sizes.map((size, n) => Buffer.alloc(size, n + 1));
        const stream = Buffer.concat(payloads.map(frameOf));
        const reader = new FrameReader({ chunksReused: true });
        const reused = Buffer.alloc(70_000);
        const frames: Buffer[] = [];
        let position = 0;
        for (let i = 0; position < stream.length; i++) {
          const count = Math.min(cuts[i % cuts.length], stream.length - position);
          stream.copy(reused, 0, position, position + count);
          frames.push(...reader.push(reused.subarray(0, count)));
          // The socket reads the next bytes into the same buffer.
          reused.fill(0xee);
          position += count;
        }
        expect(frames.length).toBe(payloads.length);
        frames.forEach((frame, n) => expect(frame.equals(payloads[n])).toBe(true));
      }),
      { numRuns: 80 },
    );
  });
});

describe('FrameReader over a reused read buffer, at the seams', () => {
  it('copies a frame whose size prefix ended the previous chunk and whose bytes fill the next one', () => {
    const reader = new FrameReader({ chunksReused: true });
    const reused = Buffer.alloc(16);
    const stream = frameOf(Buffer.from('0123456789'));
    stream.copy(reused, 0, 0, 4);
    expect(reader.push(reused.subarray(0, 4))).toEqual([]);
    stream.copy(reused, 0, 4);
    const [frame] = reader.push(reused.subarray(0, 10));
    reused.fill(0);
    expect(frame.toString()).toBe('0123456789');
  });
});

describe('FrameReader with a FramePool', () => {
  it('keeps every frame intact until its caller gives it back, whatever order frames are given back in (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400_000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        (sizes, cuts, giveNow) => {
          const payloads = sizes.map((size, n) => Buffer.alloc(size, n + 1));
          const stream = Buffer.concat(payloads.map(frameOf));
          const pool = new FramePool();
          const reader = new FrameReader({ chunksReused: true, pool });
          const reused = Buffer.alloc(70_000);
          const held: { frame: Buffer; n: number }[] = [];
          let received = 0;
          let position = 0;
          for (let i = 0; position < stream.length; i++) {
            const count = Math.min(cuts[i % cuts.length], stream.length - position);
            stream.copy(reused, 0, position, position + count);
            for (const frame of reader.push(reused.subarray(0, count))) held.push({ frame, n: received++ });
            reused.fill(0xee);
            position += count;
            // The caller is done with some frames: each is checked as it is given back, so a
            // frame overwritten while still held fails here.
            while (held.length > 0 && giveNow[(i + held.length) % giveNow.length]) {
              const { frame, n } = held.shift() as { frame: Buffer; n: number };
              expect(frame.equals(payloads[n])).toBe(true);
              pool.give(frame);
            }
          }
          expect(received).toBe(payloads.length);
          for (const { frame, n } of held) expect(frame.equals(payloads[n])).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('copies the next frame into the memory of one given back', () => {
    const pool = new FramePool();
    const reader = new FrameReader({ chunksReused: true, pool });
    const first = reader.push(frameOf(Buffer.alloc(200_000, 1)))[0] as Buffer;
    expect(pool.holds(first)).toBe(true);
    pool.give(first);
    expect(pool.holds(first)).toBe(false);
    const second = reader.push(frameOf(Buffer.alloc(150_000, 2)))[0] as Buffer;
    expect(second.buffer).toBe(first.buffer);
    expect(second.equals(Buffer.alloc(150_000, 2))).toBe(true);
  });

  it('hands a buffer out once at a time: giving a frame back twice, or a buffer it did not hand out, changes nothing', () => {
    const pool = new FramePool();
    const a = pool.take(100_000);
    pool.give(a);
    pool.give(a);
    pool.give(Buffer.alloc(1_000_000));
    const b = pool.take(100_000);
    const c = pool.take(100_000);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(b.buffer);
  });

  it('does not pool small frames or frames above FRAME_POOL_MAX_BYTES', () => {
    const pool = new FramePool();
    for (const size of [FRAME_POOL_MIN_BYTES - 1, FRAME_POOL_MAX_BYTES + 1]) {
      const frame = pool.take(size);
      expect(frame.length).toBe(size);
      expect(pool.holds(frame)).toBe(false);
      pool.give(frame);
      expect(pool.take(size).buffer).not.toBe(frame.buffer);
    }
  });
});
