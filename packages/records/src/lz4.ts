/**
 * The LZ4 frame format (magic 0x184D2204) as Kafka's record batches carry it, read in JavaScript
 * so the output is bounded exactly and lands in one buffer of our own: lz4-napi has no output
 * limit, and on small batches its external result buffers cost about as much as the decoding.
 *
 * Frame: magic u32 LE | FLG | BD | content size u64 LE (FLG bit 3) | dictionary id u32 (bit 0) |
 * header checksum | blocks: u32 LE size (high bit = stored uncompressed), data, block checksum
 * (bit 4) | end mark 0 | content checksum (bit 2). Several frames may follow each other.
 * Checksums are skipped, not verified: the batch CRC already covers these bytes. Matches may
 * reach back into earlier blocks of the same frame, so linked blocks decode too.
 * Pure functions; the one module-level scratch buffer is used synchronously.
 */
import { CorruptRecordError, DecompressedTooLargeError } from './errors.js';

const LZ4_FRAME_MAGIC = 0x184d2204;
/** Block maximum sizes by the BD byte's block-size id (4..7). */
const LZ4_BLOCK_BYTES_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/**
 * LZ4 cannot expand one input byte into more than 255 output bytes (a match costs at least one
 * byte per 255 bytes of length), so a compressed block's output is bounded by its size too.
 */
const LZ4_EXPANSION_MAX = 256;
/** Scratch output kept between calls up to this size; larger outputs get their own buffer. */
export const LZ4_SCRATCH_BYTES_MAX = 4 * 1024 * 1024;

let scratch = Buffer.allocUnsafe(0);

interface FrameVisitor {
  block(data: Buffer, start: number, end: number, isUncompressed: boolean): void;
  frameEnd(): void;
}

/**
 * Walks the frames and blocks of `data`, checking every size against the bytes present, and
 * returns an upper bound of the decompressed size. Calls `visitor` per block when given.
 */
function walkFrames(data: Buffer, visitor?: FrameVisitor): number {
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
      const isUncompressed = word >>> 31 === 1;
      if (blockBytes > blockBytesMax || blockBytes + (hasBlockChecksum ? 4 : 0) > data.length - position) throw new CorruptRecordError('lz4: bad block size');
      frameBound += isUncompressed ? blockBytes : Math.min(blockBytesMax, blockBytes * LZ4_EXPANSION_MAX);
      visitor?.block(data, position, position + blockBytes, isUncompressed);
      position += blockBytes + (hasBlockChecksum ? 4 : 0);
    }
    if ((flags & 0x04) !== 0) position += 4;
    if (position > data.length) throw new CorruptRecordError('lz4: truncated frame');
    // A declared size larger than the blocks can produce is a lie.
    if (contentSize > frameBound) throw new CorruptRecordError(`lz4: content size ${contentSize} exceeds what the blocks can hold`);
    bound += contentSize >= 0 ? contentSize : frameBound;
    visitor?.frameEnd();
  }
  return bound;
}

/**
 * An upper bound of the decompressed size of the LZ4 frames in `data`, from their headers and
 * block sizes, without decompressing. Throws CorruptRecordError on a malformed frame.
 */
export function lz4DecompressedBound(data: Buffer): number {
  return walkFrames(data);
}

/** Thrown by decodeBlock when the output buffer is full; the caller decides what that means. */
class OutputFullError extends Error {}

/**
 * Decompresses LZ4 frames into at most `decompressedBytesMax` bytes. The output buffer is sized
 * by the smaller of the limit and the frames' bound, so nothing larger is ever allocated, and a
 * frame is refused exactly when its output would pass the limit.
 */
export function decompressLz4Frames(data: Buffer, decompressedBytesMax: number): Buffer {
  const bound = walkFrames(data);
  const outputBytesMax = Math.min(bound, decompressedBytesMax);
  let output: Buffer;
  if (outputBytesMax <= LZ4_SCRATCH_BYTES_MAX) {
    if (scratch.length < outputBytesMax) scratch = Buffer.allocUnsafe(Math.max(outputBytesMax, 64 * 1024));
    output = scratch;
  } else {
    output = Buffer.allocUnsafe(outputBytesMax);
  }
  let outputPosition = 0;
  let frameStart = 0;
  try {
    walkFrames(data, {
      block(input, start, end, isUncompressed) {
        if (isUncompressed) {
          if (end - start > outputBytesMax - outputPosition) throw new OutputFullError();
          outputPosition += input.copy(output, outputPosition, start, end);
        } else {
          outputPosition = decodeBlock(input, start, end, output, outputPosition, frameStart, outputBytesMax);
        }
      },
      frameEnd() {
        frameStart = outputPosition;
      },
    });
  } catch (error) {
    if (!(error instanceof OutputFullError)) throw error;
    if (bound > decompressedBytesMax) throw new DecompressedTooLargeError(decompressedBytesMax, 'lz4 output');
    throw new CorruptRecordError('lz4: a block decodes to more than its frame allows');
  }
  return output === scratch ? Buffer.from(output.subarray(0, outputPosition)) : output.subarray(0, outputPosition);
}

/** Reads an LZ4 length continuation (bytes of 255 add up until a smaller byte). */
function readLengthExtension(input: Buffer, cursor: { position: number }, end: number): number {
  let length = 0;
  let byte: number;
  do {
    if (cursor.position >= end) throw new CorruptRecordError('lz4: truncated length');
    byte = input[cursor.position++];
    length += byte;
  } while (byte === 255);
  return length;
}

/**
 * Decodes one LZ4 block (input[start, end)) into output at `outputStart`, never writing at or past
 * `outputEnd`; matches may reach back to `windowStart`. Returns the output position after the block.
 */
function decodeBlock(input: Buffer, start: number, end: number, output: Buffer, outputStart: number, windowStart: number, outputEnd: number): number {
  const cursor = { position: start };
  let out = outputStart;
  while (cursor.position < end) {
    const token = input[cursor.position++];
    let literalLength = token >>> 4;
    if (literalLength === 15) literalLength += readLengthExtension(input, cursor, end);
    let position = cursor.position;
    if (literalLength > end - position) throw new CorruptRecordError('lz4: literals run past the block');
    if (literalLength > outputEnd - out) throw new OutputFullError();
    if (literalLength < 32) {
      for (let index = 0; index < literalLength; index++) output[out + index] = input[position + index];
    } else {
      input.copy(output, out, position, position + literalLength);
    }
    out += literalLength;
    position += literalLength;
    if (position === end) return out; // the last sequence has literals only
    if (end - position < 2) throw new CorruptRecordError('lz4: truncated match offset');
    const offset = input[position] | (input[position + 1] << 8);
    cursor.position = position + 2;
    if (offset === 0 || offset > out - windowStart) throw new CorruptRecordError('lz4: match offset outside the window');
    let matchLength = token & 0x0f;
    if (matchLength === 15) matchLength += readLengthExtension(input, cursor, end);
    matchLength += 4;
    if (matchLength > outputEnd - out) throw new OutputFullError();
    let from = out - offset;
    if (offset >= matchLength && matchLength >= 32) {
      output.copyWithin(out, from, from + matchLength);
      out += matchLength;
    } else {
      // Overlapping matches repeat the bytes just written, so they are copied one by one.
      const matchEnd = out + matchLength;
      while (out < matchEnd) output[out++] = output[from++];
    }
  }
  throw new CorruptRecordError('lz4: block ends without literals');
}
