import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES_OFFSET,
  Compression,
  compress,
  compressSnappyXerial,
  CorruptRecordError,
  decodeBatch,
  DecompressedTooLargeError,
  decompress,
  encodeBatch,
  lz4DecompressedBound,
  UnsupportedCompressionError,
  writeBatchCrc,
} from '@gregor/records';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { compressSync(data: Buffer): Buffer };
const lz4 = require('lz4-napi') as { compressFrameSync(data: Buffer): Buffer };
const zstd = require('zstd-napi') as { compress(data: Buffer): Buffer; CompressStream: new (parameters?: { windowLog?: number }) => NodeJS.ReadWriteStream };

const MiB = 1024 * 1024;
const codecs = [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];

function jsonLike(count: number): Buffer {
  const lines: string[] = [];
  for (let index = 0; index < count; index++) lines.push(JSON.stringify({ id: index, user: `user-${index % 97}`, event: 'page_view', path: `/items/${index * 7}` }));
  return Buffer.from(lines.join('\n'));
}

describe('codecs', () => {
  it('round-trip arbitrary bytes through every codec', () => {
    fc.assert(
      fc.property(fc.constantFrom(...codecs), fc.uint8Array({ maxLength: 40_000 }), (codec, array) => {
        const data = Buffer.from(array);
        expect(decompress(codec, compress(codec, data), MiB).equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('writes the xerial snappy framing byte for byte', () => {
    // "hello" has no repeats: one raw snappy block = length varint 05, literal tag (5-1)<<2 = 0x10, the bytes.
    const expected = '8253 4e41 5050 5900' + '00000001' + '00000001' + '00000007' + '05 10 68656c6c6f';
    expect(compressSnappyXerial(Buffer.from('hello')).toString('hex')).toBe(expected.replace(/ /g, ''));
  });

  it('splits xerial snappy input into blocks of at most 32 KiB', () => {
    const data = jsonLike(2000);
    const framed = compressSnappyXerial(data);
    let position = 16;
    const blockSizes: number[] = [];
    while (position < framed.length) {
      const blockBytes = framed.readInt32BE(position);
      const block = framed.subarray(position + 4, position + 4 + blockBytes);
      blockSizes.push(decompress(Compression.snappy, block, MiB).length);
      position += 4 + blockBytes;
    }
    expect(blockSizes.slice(0, -1).every((size) => size === 32 * 1024)).toBe(true);
    expect(blockSizes.reduce((sum, size) => sum + size, 0)).toBe(data.length);
    expect(decompress(Compression.snappy, framed, MiB).equals(data)).toBe(true);
  });

  it('accepts a raw snappy block (no xerial framing), as librdkafka and @platformatic/kafka write', () => {
    const data = jsonLike(300);
    expect(decompress(Compression.snappy, snappy.compressSync(data), MiB).equals(data)).toBe(true);
    expect(decompress(Compression.snappy, Buffer.from('0510' + '68656c6c6f', 'hex'), MiB).toString()).toBe('hello');
  });

  it('reads an lz4 frame that declares its content size', () => {
    // Frame: magic, FLG 0x68 (version 1, independent blocks, content size), BD 0x40 (64 KiB),
    // content size 5 (u64 LE), header checksum, one uncompressed block of 5 bytes, end mark.
    const frame = Buffer.from('04224d18' + '68' + '40' + '0500000000000000' + '00' + '05000080' + '68656c6c6f' + '00000000', 'hex');
    expect(lz4DecompressedBound(frame)).toBe(5);
  });

  it('decodes lz4 frames with linked blocks, whose matches reach into the previous block', () => {
    // FLG 0x40: version 1, blocks not independent. Block 1: literals "abcd". Block 2: a match of 4
    // at offset 4 (into block 1), then the literal "e".
    const frame = Buffer.from('04224d18' + '40' + '40' + '00' + '05000000' + '4061626364' + '05000000' + '0004001065' + '00000000', 'hex');
    expect(decompress(Compression.lz4, frame, MiB).toString()).toBe('abcdabcde');
  });

  it('rejects lz4 matches before the start of the output', () => {
    const frame = Buffer.from('04224d18' + '40' + '40' + '00' + '05000000' + '0005001065' + '00000000', 'hex');
    expect(() => decompress(Compression.lz4, frame, MiB)).toThrow(CorruptRecordError);
  });

  it('rejects unknown codec ids with Kafka error 76', () => {
    for (const codec of [5, 6, 7]) {
      expect(() => compress(codec, Buffer.from('x'))).toThrow(UnsupportedCompressionError);
      expect(() => decompress(codec, Buffer.from('x'), MiB)).toThrow(UnsupportedCompressionError);
    }
    const batch = encodeBatch({ records: [{ value: Buffer.from('x') }] });
    batch.writeInt16BE(6, ATTRIBUTES_OFFSET);
    writeBatchCrc(batch, 0, batch.length);
    const error = (() => {
      try {
        decodeBatch(batch);
      } catch (caught) {
        return caught as UnsupportedCompressionError;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedCompressionError);
    expect(error?.errorCode).toBe(76);
  });

  it('reports malformed compressed data as CorruptRecordError', () => {
    const garbage = Buffer.from('this is not compressed data at all');
    for (const codec of codecs) expect(() => decompress(codec, garbage, MiB), `codec ${codec}`).toThrow(CorruptRecordError);
    for (const codec of codecs) {
      const compressed = compress(codec, jsonLike(200));
      expect(() => decompress(codec, compressed.subarray(0, compressed.length - 9), MiB), `truncated codec ${codec}`).toThrow(CorruptRecordError);
    }
  });
});

describe('decompression bombs', () => {
  const zeros = Buffer.alloc(8 * MiB);

  it('are rejected for every codec', () => {
    for (const codec of codecs) {
      const bomb = compress(codec, zeros);
      expect(bomb.length).toBeLessThan(MiB);
      expect(() => decompress(codec, bomb, MiB), `codec ${codec}`).toThrow(DecompressedTooLargeError);
      expect(decompress(codec, bomb, 8 * MiB).length).toBe(8 * MiB);
    }
  });

  it('are measured exactly: output of exactly the limit passes, one byte more does not', () => {
    const data = jsonLike(3000);
    for (const codec of codecs) {
      const compressed = compress(codec, data);
      expect(decompress(codec, compressed, data.length).equals(data), `codec ${codec}`).toBe(true);
      expect(() => decompress(codec, compressed, data.length - 1), `codec ${codec}`).toThrow(DecompressedTooLargeError);
    }
  });

  it('are rejected from a lying snappy length before anything is allocated', () => {
    // Raw block declaring 2^32 - 1 bytes; xerial frame whose blocks together declare more than the limit.
    expect(() => decompress(Compression.snappy, Buffer.from('ffffffff0f00', 'hex'), MiB)).toThrow(DecompressedTooLargeError);
    const block = snappy.compressSync(Buffer.alloc(600 * 1024));
    const header = compressSnappyXerial(Buffer.alloc(0));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length);
    const framed = Buffer.concat([header, length, block, length, block]);
    expect(() => decompress(Compression.snappy, framed, MiB)).toThrow(DecompressedTooLargeError);
    expect(decompress(Compression.snappy, framed, 2 * MiB).length).toBe(1200 * 1024);
  });

  it('reject an lz4 frame that declares more content than its blocks can hold', () => {
    const frame = Buffer.from('04224d18' + '68' + '70' + '0000000001000000' + '00' + '05000080' + '68656c6c6f' + '00000000', 'hex');
    expect(() => lz4DecompressedBound(frame)).toThrow(CorruptRecordError);
    expect(() => decompress(Compression.lz4, frame, MiB)).toThrow(CorruptRecordError);
    const bomb = lz4.compressFrameSync(zeros);
    expect(lz4DecompressedBound(bomb)).toBeGreaterThanOrEqual(zeros.length);
  });

  it('are rejected for zstd frames without a content size, through streaming', async () => {
    const stream = new zstd.CompressStream();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const finished = new Promise((resolve) => stream.on('end', resolve));
    stream.end(zeros);
    await finished;
    const frame = Buffer.concat(chunks);
    expect(() => decompress(Compression.zstd, frame, MiB)).toThrow(DecompressedTooLargeError);
    expect(decompress(Compression.zstd, frame, 8 * MiB).length).toBe(8 * MiB);
  });

  it('are refused for zstd frames that ask for a window far beyond the limit', async () => {
    const stream = new zstd.CompressStream({ windowLog: 27 });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const finished = new Promise((resolve) => stream.on('end', resolve));
    stream.end(Buffer.alloc(1000, 'a'));
    await finished;
    const frame = Buffer.concat(chunks);
    expect(frame[5] >> 3).toBe(17); // window descriptor: 2^(10 + 17) bytes
    expect(() => decompress(Compression.zstd, frame, MiB)).toThrow(CorruptRecordError);
  });

  it('are rejected for several zstd frames that each fit but together do not', () => {
    const frame = zstd.compress(Buffer.alloc(700 * 1024));
    const twoFrames = Buffer.concat([frame, frame]);
    expect(() => decompress(Compression.zstd, twoFrames, MiB)).toThrow(DecompressedTooLargeError);
    expect(decompress(Compression.zstd, twoFrames, 2 * MiB).length).toBe(1400 * 1024);
  });

  it('are rejected for a gzip stream of several members', () => {
    const member = zlib.gzipSync(Buffer.alloc(700 * 1024));
    expect(() => decompress(Compression.gzip, Buffer.concat([member, member]), MiB)).toThrow(DecompressedTooLargeError);
  });

  it('are rejected inside decodeBatch with the configured limit', () => {
    const batch = encodeBatch({ compression: Compression.zstd, records: [{ value: Buffer.alloc(2 * MiB) }] });
    expect(() => decodeBatch(batch, 0, { decompressedBytesMax: MiB })).toThrow(DecompressedTooLargeError);
    expect([...decodeBatch(batch, 0, { decompressedBytesMax: 3 * MiB }).records()]).toHaveLength(1);
  });
});
