/**
 * Kafka's record-batch codecs, applied to the records section of a batch (everything after the
 * 61-byte header):
 *
 * - gzip (1): a gzip stream (node:zlib).
 * - snappy (2): written with the xerial framing of Kafka's Java client (snappy-java's
 *   SnappyOutputStream): magic `82 53 4e 41 50 50 59 00`, version i32 1, compatible i32 1, then
 *   blocks of i32 length + raw snappy block, each block compressing at most 32 KiB. Read: xerial
 *   framing or one raw snappy block (librdkafka and some clients write raw blocks).
 * - lz4 (3): the LZ4 frame format (magic 0x184D2204), written by lz4-napi with independent blocks,
 *   read by lz4.ts.
 * - zstd (4): one or more zstd frames (zstd-napi).
 *
 * Every decompression is bounded by `decompressedBytesMax` and throws DecompressedTooLargeError
 * before allocating an oversized result: declared sizes are checked first where the format has
 * them (snappy block lengths, zstd frame content size), and otherwise output is produced in
 * bounded steps (zlib `maxOutputLength`, zstd streaming with a running total and a window no
 * larger than the limit needs). LZ4 frames are decoded by lz4.ts (lz4-napi has no output limit)
 * into a buffer no larger than the limit. Malformed compressed data is CorruptRecordError.
 * Module-level state is one zstd context, used synchronously; everything runs on the calling thread.
 */
import { constants as bufferConstants } from 'node:buffer';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { CorruptRecordError, DecompressedTooLargeError, UnsupportedCompressionError } from './errors.js';
import { Compression } from './header.js';
import { decompressLz4Frames } from './lz4.js';

/** Default limit on the decompressed size of one batch's records. */
export const DECOMPRESSED_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** Input bytes per xerial snappy block, as snappy-java's default block size. */
export const SNAPPY_XERIAL_BLOCK_BYTES = 32 * 1024;
/** Output step of streaming zstd decompression. */
export const ZSTD_OUTPUT_CHUNK_BYTES = 128 * 1024;
/**
 * Smallest zstd window (log2 bytes) always accepted: level-19 compressors use 2^23. Larger windows
 * are accepted up to the decompressed-size limit, so a frame cannot make the decoder allocate a
 * window much larger than the output it is allowed to produce.
 */
export const ZSTD_WINDOW_LOG_MIN = 23;
/** zstd's own default ceiling (128 MiB windows). */
export const ZSTD_WINDOW_LOG_MAX = 27;

export const SNAPPY_XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const SNAPPY_XERIAL_HEADER_BYTES = 16;
const BUFFER_BYTES_MAX = bufferConstants.MAX_LENGTH;

interface SnappyModule {
  compressSync(input: Uint8Array, options: { copyOutputData: boolean }): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true; copyOutputData: boolean }): Buffer;
}
/**
 * snappy's outputs as ordinary (copied) buffers: its default external buffers cost more to create
 * and collect than the copy, about 5 times the whole call on 16 KiB batches.
 */
const SNAPPY_COMPRESS_OPTIONS = { copyOutputData: true };
const SNAPPY_UNCOMPRESS_OPTIONS = { asBuffer: true, copyOutputData: true } as const;
interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer;
}
type StreamResult = [returnValue: number, dstProduced: number, srcConsumed: number];
interface ZstdBinding {
  DCtx: new () => {
    decompress(dst: Uint8Array, src: Uint8Array): number;
    decompressStream(dst: Uint8Array, src: Uint8Array): StreamResult;
    reset(directive: number): void;
    setParameter(parameter: number, value: number): void;
  };
  ResetDirective: { sessionOnly: number };
  DParameter: { windowLogMax: number };
  getFrameContentSize(frame: Uint8Array): number | null;
  findFrameCompressedSize(frame: Uint8Array): number;
}
interface ZstdModule {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
}

const require = createRequire(import.meta.url);
// Native codecs load on first use, so a program that never compresses never loads them.
let snappyModule: SnappyModule | undefined;
let lz4Module: Lz4Module | undefined;
let zstdModule: ZstdModule | undefined;
let zstdBinding: ZstdBinding | undefined;
let zstdContext: InstanceType<ZstdBinding['DCtx']> | undefined;
let zstdContextWindowLog = 0;

function snappy(): SnappyModule {
  snappyModule ??= require('snappy') as SnappyModule;
  return snappyModule;
}
function lz4(): Lz4Module {
  lz4Module ??= require('lz4-napi') as Lz4Module;
  return lz4Module;
}
function zstd(): ZstdModule {
  zstdModule ??= require('zstd-napi') as ZstdModule;
  return zstdModule;
}
function zstdNative(): ZstdBinding {
  zstdBinding ??= require('zstd-napi/binding') as ZstdBinding;
  return zstdBinding;
}

/** Compresses `data` with Kafka codec `codec` (0 none returns `data` itself). */
export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return zlib.gzipSync(data);
    case Compression.snappy:
      return compressSnappyXerial(data);
    case Compression.lz4:
      return lz4().compressFrameSync(data);
    case Compression.zstd:
      return zstd().compress(data);
    default:
      throw new UnsupportedCompressionError(codec);
  }
}

/**
 * Decompresses `data` compressed with Kafka codec `codec`, refusing results larger than
 * `decompressedBytesMax`.
 */
export function decompress(codec: number, data: Buffer, decompressedBytesMax: number = DECOMPRESSED_BYTES_MAX_DEFAULT): Buffer {
  switch (codec) {
    case Compression.none:
      if (data.length > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, `${data.length} uncompressed bytes`);
      return data;
    case Compression.gzip:
      return decompressGzip(data, decompressedBytesMax);
    case Compression.snappy:
      return decompressSnappy(data, decompressedBytesMax);
    case Compression.lz4:
      return decompressLz4(data, decompressedBytesMax);
    case Compression.zstd:
      return decompressZstd(data, decompressedBytesMax);
    default:
      throw new UnsupportedCompressionError(codec);
  }
}

function decompressGzip(data: Buffer, decompressedBytesMax: number): Buffer {
  try {
    // zlib accepts limits from 1 to the largest Buffer; an unlimited caller gets the largest Buffer.
    return zlib.gunzipSync(data, { maxOutputLength: Math.max(1, Math.min(decompressedBytesMax, BUFFER_BYTES_MAX)) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecompressedTooLargeError(decompressedBytesMax, 'gzip output');
    }
    throw new CorruptRecordError(`gzip: ${(error as Error).message}`);
  }
}

// ---- snappy ----

/** Kafka's xerial snappy framing: header, then (i32 length, raw snappy block) per 32 KiB of input. */
export function compressSnappyXerial(data: Buffer): Buffer {
  const codec = snappy();
  const blocks: Buffer[] = [];
  let totalBytes = SNAPPY_XERIAL_HEADER_BYTES;
  for (let start = 0; start < data.length; start += SNAPPY_XERIAL_BLOCK_BYTES) {
    const block = codec.compressSync(data.subarray(start, Math.min(data.length, start + SNAPPY_XERIAL_BLOCK_BYTES)), SNAPPY_COMPRESS_OPTIONS);
    blocks.push(block);
    totalBytes += 4 + block.length;
  }
  const output = Buffer.allocUnsafe(totalBytes);
  SNAPPY_XERIAL_MAGIC.copy(output, 0);
  output.writeInt32BE(1, 8);
  output.writeInt32BE(1, 12);
  let position = SNAPPY_XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    output.writeInt32BE(block.length, position);
    block.copy(output, position + 4);
    position += 4 + block.length;
  }
  return output;
}

function isXerialFramed(data: Buffer): boolean {
  return data.length >= SNAPPY_XERIAL_HEADER_BYTES && data.compare(SNAPPY_XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

/** The uncompressed length a raw snappy block declares in its leading varint (max 5 bytes). */
function snappyDeclaredLength(block: Buffer): number {
  let value = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index];
    value += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) return value;
  }
  throw new CorruptRecordError('snappy block has no valid length preamble');
}

function decompressSnappy(data: Buffer, decompressedBytesMax: number): Buffer {
  const blocks: Buffer[] = [];
  let declaredBytes = 0;
  if (isXerialFramed(data)) {
    let position = SNAPPY_XERIAL_HEADER_BYTES;
    while (position < data.length) {
      if (data.length - position < 4) throw new CorruptRecordError('xerial snappy block length is truncated');
      const blockBytes = data.readInt32BE(position);
      if (blockBytes < 0 || blockBytes > data.length - position - 4) {
        throw new CorruptRecordError(`xerial snappy block length ${blockBytes} exceeds the ${data.length - position - 4} bytes left`);
      }
      const block = data.subarray(position + 4, position + 4 + blockBytes);
      declaredBytes += snappyDeclaredLength(block);
      if (declaredBytes > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, 'snappy declared length');
      blocks.push(block);
      position += 4 + blockBytes;
    }
  } else {
    declaredBytes = snappyDeclaredLength(data);
    if (declaredBytes > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, 'snappy declared length');
    blocks.push(data);
  }
  return uncompressSnappyBlocks(blocks, declaredBytes);
}

function uncompressSnappyBlocks(blocks: Buffer[], declaredBytes: number): Buffer {
  const codec = snappy();
  try {
    if (blocks.length === 1) return codec.uncompressSync(blocks[0], SNAPPY_UNCOMPRESS_OPTIONS);
    const output = Buffer.allocUnsafe(declaredBytes);
    let position = 0;
    for (const block of blocks) {
      const plain = codec.uncompressSync(block, SNAPPY_UNCOMPRESS_OPTIONS);
      position += plain.copy(output, position);
    }
    return output.subarray(0, position);
  } catch (error) {
    throw new CorruptRecordError(`snappy: ${(error as Error).message}`);
  }
}

// ---- lz4 ----

function decompressLz4(data: Buffer, decompressedBytesMax: number): Buffer {
  return decompressLz4Frames(data, decompressedBytesMax);
}

// ---- zstd ----

function decompressZstd(data: Buffer, decompressedBytesMax: number): Buffer {
  const binding = zstdNative();
  zstdContext ??= new binding.DCtx();
  const context = zstdContext;
  const windowLog = Math.min(ZSTD_WINDOW_LOG_MAX, Math.max(ZSTD_WINDOW_LOG_MIN, Math.ceil(Math.log2(decompressedBytesMax))));
  if (windowLog !== zstdContextWindowLog) {
    context.setParameter(binding.DParameter.windowLogMax, windowLog);
    zstdContextWindowLog = windowLog;
  }
  let contentSize: number | null;
  let firstFrameBytes: number;
  try {
    contentSize = binding.getFrameContentSize(data);
    firstFrameBytes = contentSize === null ? -1 : binding.findFrameCompressedSize(data);
  } catch (error) {
    throw new CorruptRecordError(`zstd: ${(error as Error).message}`);
  }
  if (contentSize !== null && contentSize > decompressedBytesMax) {
    throw new DecompressedTooLargeError(decompressedBytesMax, `zstd frame content size ${contentSize}`);
  }
  try {
    // One frame with a declared size: decompress straight into an exact buffer. A frame whose
    // data is larger than it declares fails inside zstd without writing past the buffer.
    if (contentSize !== null && firstFrameBytes === data.length) {
      const output = Buffer.allocUnsafe(contentSize);
      const written = context.decompress(output, data);
      return output.subarray(0, written);
    }
    return decompressZstdStreaming(context, data, decompressedBytesMax);
  } catch (error) {
    if (error instanceof DecompressedTooLargeError || error instanceof CorruptRecordError) throw error;
    context.reset(binding.ResetDirective.sessionOnly);
    throw new CorruptRecordError(`zstd: ${(error as Error).message}`);
  }
}

function decompressZstdStreaming(context: InstanceType<ZstdBinding['DCtx']>, data: Buffer, decompressedBytesMax: number): Buffer {
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  let input = data;
  let frameIncomplete = false;
  // Every step consumes input or produces output; one that does neither means truncated data.
  while (input.length > 0 || frameIncomplete) {
    const chunk = Buffer.allocUnsafe(Math.min(ZSTD_OUTPUT_CHUNK_BYTES, decompressedBytesMax - totalBytes + 1));
    const [remainingHint, produced, consumed] = context.decompressStream(chunk, input);
    if (produced === 0 && consumed === 0) throw new CorruptRecordError('zstd: truncated frame');
    totalBytes += produced;
    if (totalBytes > decompressedBytesMax) {
      context.reset(zstdNative().ResetDirective.sessionOnly);
      throw new DecompressedTooLargeError(decompressedBytesMax, 'zstd output');
    }
    if (produced > 0) chunks.push(chunk.subarray(0, produced));
    input = input.subarray(consumed);
    frameIncomplete = remainingHint !== 0;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, totalBytes);
}
