/**
 * Kafka's record-batch codecs, applied to the records section of a batch (everything after the
 * 61-byte header):
 *
 * - gzip (1): a gzip stream (node:zlib).
 * - snappy (2): written with the xerial framing of Kafka's Java client (snappy-java's
 *   SnappyOutputStream): magic `82 53 4e 41 50 50 59 00`, version i32 1, compatible i32 1, then
 *   blocks of i32 length + raw snappy block, each block compressing at most 32 KiB. Read: xerial
 *   framing or one raw snappy block (librdkafka and some clients write raw blocks).
 * - lz4 (3): the LZ4 frame format (magic 0x184D2204) with independent blocks (lz4-napi).
 * - zstd (4): one or more zstd frames (zstd-napi).
 *
 * Every decompression is bounded by `decompressedBytesMax` and throws DecompressedTooLargeError
 * before allocating an oversized result: declared sizes are checked first where the format has
 * them (snappy block lengths, zstd frame content size), and otherwise output is produced in
 * bounded steps (zlib `maxOutputLength`, zstd streaming with a running total and a window no
 * larger than the limit needs). lz4-napi has no output limit, so the LZ4 frame's block headers
 * are read first and the frame is refused when the sum of its blocks' maximum outputs exceeds the
 * limit. That bound can overestimate by up to one block per frame (64 KiB for Kafka's Java client
 * and librdkafka, 256 KiB for lz4-napi), so a frame within that distance of the limit is refused
 * although it would fit. Malformed compressed data is CorruptRecordError. Module-level state is one zstd context, used
 * synchronously; everything here runs on the calling thread.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { CorruptRecordError, DecompressedTooLargeError, UnsupportedCompressionError } from './errors.js';
import { Compression } from './header.js';

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

interface SnappyModule {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer;
}
interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
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
    return zlib.gunzipSync(data, { maxOutputLength: Math.max(1, decompressedBytesMax) });
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
    const block = codec.compressSync(data.subarray(start, Math.min(data.length, start + SNAPPY_XERIAL_BLOCK_BYTES)));
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
    if (blocks.length === 1) return codec.uncompressSync(blocks[0], { asBuffer: true });
    const output = Buffer.allocUnsafe(declaredBytes);
    let position = 0;
    for (const block of blocks) {
      const plain = codec.uncompressSync(block, { asBuffer: true });
      position += plain.copy(output, position);
    }
    return output.subarray(0, position);
  } catch (error) {
    throw new CorruptRecordError(`snappy: ${(error as Error).message}`);
  }
}

// ---- lz4 ----

const LZ4_FRAME_MAGIC = 0x184d2204;
/** Block maximum sizes by the BD byte's block-size id (4..7). */
const LZ4_BLOCK_BYTES_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/**
 * LZ4 cannot expand one input byte into more than 255 output bytes (a match costs at least one
 * byte per 255 bytes of length), so a compressed block's output is bounded by its size too.
 */
const LZ4_EXPANSION_MAX = 256;

/**
 * An upper bound of the decompressed size of the LZ4 frames in `data`, from their headers and
 * block sizes, without decompressing. Throws CorruptRecordError on a malformed frame.
 */
export function lz4DecompressedBound(data: Buffer): number {
  let position = 0;
  let bound = 0;
  while (position < data.length) {
    if (data.length - position < 7 || data.readUInt32LE(position) !== LZ4_FRAME_MAGIC) throw new CorruptRecordError('lz4: bad frame magic');
    const flags = data[position + 4];
    const blockBytesMax = LZ4_BLOCK_BYTES_MAX[(data[position + 5] >> 4) & 0x07];
    if (flags >> 6 !== 1 || blockBytesMax === 0) throw new CorruptRecordError('lz4: bad frame descriptor');
    const hasBlockChecksum = (flags & 0x10) !== 0;
    let contentSize = -1;
    position += 6;
    if ((flags & 0x08) !== 0) {
      if (data.length - position < 8) throw new CorruptRecordError('lz4: truncated content size');
      contentSize = data.readUInt32LE(position) + data.readUInt32LE(position + 4) * 4294967296;
      position += 8;
    }
    if ((flags & 0x01) !== 0) position += 4;
    position += 1; // header checksum
    let frameBound = 0;
    for (;;) {
      if (data.length - position < 4) throw new CorruptRecordError('lz4: truncated block size');
      const word = data.readUInt32LE(position);
      position += 4;
      if (word === 0) break;
      const blockBytes = word & 0x7fffffff;
      if (blockBytes > blockBytesMax || blockBytes > data.length - position) throw new CorruptRecordError('lz4: bad block size');
      const isUncompressed = word >>> 31 === 1;
      frameBound += isUncompressed ? blockBytes : Math.min(blockBytesMax, blockBytes * LZ4_EXPANSION_MAX);
      position += blockBytes + (hasBlockChecksum ? 4 : 0);
    }
    if ((flags & 0x04) !== 0) position += 4;
    if (position > data.length) throw new CorruptRecordError('lz4: truncated frame');
    // A declared size larger than the blocks can produce is a lie; rejecting it here also keeps a
    // decoder that pre-allocates by the declared size from allocating beyond the bound.
    if (contentSize > frameBound) throw new CorruptRecordError(`lz4: content size ${contentSize} exceeds what the blocks can hold`);
    bound += contentSize >= 0 ? contentSize : frameBound;
  }
  return bound;
}

function decompressLz4(data: Buffer, decompressedBytesMax: number): Buffer {
  const bound = lz4DecompressedBound(data);
  if (bound > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, `lz4 frame bound ${bound}`);
  let output: Buffer;
  try {
    output = lz4().decompressFrameSync(data);
  } catch (error) {
    throw new CorruptRecordError(`lz4: ${(error as Error).message}`);
  }
  if (output.length > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, 'lz4 output');
  return output;
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
