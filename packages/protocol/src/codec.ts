/**
 * Kafka's primitive wire types: big-endian fixed-width integers, unsigned varints (compact
 * lengths, tagged-field headers), classic (int16/int32 length) and compact (uvarint length + 1)
 * strings, bytes, arrays, uuids. `Reader` checks every length against the bytes left before it
 * reads or allocates; `Writer` grows one buffer and can leave large payloads (record sets) as
 * separate chunks so they are never copied. Neither is shared between callers: one per message.
 */
import { ProtocolDecodeError, ProtocolEncodeError } from './errors.js';

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TWO_32 = 2 ** 32;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export class Reader {
  buffer: Buffer;
  offset: number;
  end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  need(bytes: number): void {
    if (this.end - this.offset < bytes) {
      throw new ProtocolDecodeError(`needs ${bytes} bytes, only ${this.end - this.offset} left`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buffer.readInt8(this.offset++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  uint16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Read as high and low halves: exact for safe integers, rounded once (like Number(bigint)) beyond. */
  int64(): number {
    this.need(8);
    const high = this.buffer.readInt32BE(this.offset);
    const low = this.buffer.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return high * TWO_32 + low;
  }

  float64(): number {
    this.need(8);
    const value = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return value;
  }

  /** Unsigned varint of at most 5 bytes (a 32-bit value); longer is malformed. */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const byte = this.buffer[this.offset++];
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw new ProtocolDecodeError('unsigned varint exceeds 32 bits');
        return value;
      }
    }
    throw new ProtocolDecodeError('unsigned varint longer than 5 bytes');
  }

  uuid(): string {
    this.need(16);
    const hex = this.buffer.toString('hex', this.offset, this.offset + 16);
    this.offset += 16;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Length of a string/bytes/array, -1 for null. Compact lengths are uvarint N+1 (0 = null). */
  length(compact: boolean, width: 2 | 4): number {
    if (compact) return this.uvarint() - 1;
    const value = width === 2 ? this.int16() : this.int32();
    if (value < -1) throw new ProtocolDecodeError(`negative length ${value}`);
    return value;
  }

  /** A byte range of `length` bytes: checked against the bytes left before anything is read. */
  take(length: number): Buffer {
    this.need(length);
    const view = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  utf8(length: number): string {
    this.need(length);
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  skip(length: number): void {
    this.need(length);
    this.offset += length;
  }
}

export interface WriterOptions {
  /** Payloads (record sets) longer than this stay separate chunks instead of being copied. */
  inlineBytesMax?: number;
  initialBytes?: number;
}

/** Default for `WriterOptions.inlineBytesMax`: below this, one copy is cheaper than another chunk. */
export const INLINE_BYTES_MAX_DEFAULT = 4096;

export class Writer {
  private buffer: Buffer;
  offset = 0;
  /** Start of the part of `buffer` not yet handed out as a chunk. */
  private chunkStart = 0;
  private readonly chunks: Buffer[] = [];
  private readonly inlineBytesMax: number;
  /** Bytes in `chunks` (handed out) before `chunkStart`. */
  private chunkedBytes = 0;

  constructor(options: WriterOptions = {}) {
    this.buffer = Buffer.allocUnsafe(options.initialBytes ?? 256);
    this.inlineBytesMax = options.inlineBytesMax ?? INLINE_BYTES_MAX_DEFAULT;
  }

  /** Total bytes written so far, chunks included. */
  get size(): number {
    return this.chunkedBytes + (this.offset - this.chunkStart);
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.offset + bytes) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  int8(value: number): void {
    this.ensure(1);
    this.buffer.writeInt8(value, this.offset++);
  }

  bool(value: boolean): void {
    this.int8(value ? 1 : 0);
  }

  int16(value: number): void {
    this.ensure(2);
    this.buffer.writeInt16BE(value, this.offset);
    this.offset += 2;
  }

  uint16(value: number): void {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.offset);
    this.offset += 2;
  }

  int32(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.offset);
    this.offset += 4;
  }

  /** Numbers (safe integers exactly; larger ones clamped to int64) or bigints from callers that keep int64 as bigint. */
  int64(value: number | bigint): void {
    this.ensure(8);
    if (typeof value === 'bigint') {
      if (value > INT64_MAX || value < INT64_MIN) throw new ProtocolEncodeError(`int64 value ${value} out of range`);
      this.buffer.writeBigInt64BE(value, this.offset);
    } else if (Number.isSafeInteger(value)) {
      const high = Math.floor(value / TWO_32);
      this.buffer.writeInt32BE(high, this.offset);
      this.buffer.writeUInt32BE(value - high * TWO_32, this.offset + 4);
    } else {
      if (!Number.isFinite(value)) throw new ProtocolEncodeError(`int64 value ${value} is not finite`);
      // Kafka's Long.MAX_VALUE arrives here as 2^63 (doubles cannot hold 2^63 - 1): clamp.
      let big = BigInt(Math.trunc(value));
      if (big > INT64_MAX) big = INT64_MAX;
      if (big < INT64_MIN) big = INT64_MIN;
      this.buffer.writeBigInt64BE(big, this.offset);
    }
    this.offset += 8;
  }

  float64(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleBE(value, this.offset);
    this.offset += 8;
  }

  uvarint(value: number): void {
    this.ensure(5);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.offset++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buffer[this.offset++] = rest;
  }

  uuid(value: string): void {
    if (!UUID_PATTERN.test(value)) throw new ProtocolEncodeError(`invalid uuid ${JSON.stringify(value)}`);
    this.ensure(16);
    this.buffer.write(value.replace(/-/g, ''), this.offset, 16, 'hex');
    this.offset += 16;
  }

  /** Length prefix: compact = uvarint(length + 1), with -1 meaning null in both forms. */
  length(compact: boolean, width: 2 | 4, length: number): void {
    if (compact) this.uvarint(length + 1);
    else if (width === 2) this.int16(length);
    else this.int32(length);
  }

  utf8(value: string, byteLength: number): void {
    this.ensure(byteLength);
    this.buffer.write(value, this.offset, byteLength, 'utf8');
    this.offset += byteLength;
  }

  /** Copy small payloads; leave large ones as their own chunk (no copy). */
  bytes(value: Buffer): void {
    if (value.length <= this.inlineBytesMax) {
      this.ensure(value.length);
      value.copy(this.buffer, this.offset);
      this.offset += value.length;
      return;
    }
    if (this.offset > this.chunkStart) this.chunks.push(this.buffer.subarray(this.chunkStart, this.offset));
    this.chunks.push(value);
    this.chunkedBytes += this.offset - this.chunkStart + value.length;
    // The handed-out view must never be written again, so continue in a fresh buffer.
    this.buffer = Buffer.allocUnsafe(Math.max(256, this.buffer.length - this.offset));
    this.offset = 0;
    this.chunkStart = 0;
  }

  /** Overwrite a big-endian int32 at an absolute position of the current buffer (size prefixes). */
  patchInt32(position: number, value: number): void {
    this.buffer.writeInt32BE(value, position);
  }

  /** The written bytes as chunks in order; payloads above inlineBytesMax are the caller's own buffers. */
  finishChunks(): Buffer[] {
    const result = this.chunks.slice();
    if (this.offset > this.chunkStart) result.push(this.buffer.subarray(this.chunkStart, this.offset));
    return result;
  }

  /** The written bytes as one buffer (copies only if payloads were left as chunks). */
  finish(): Buffer {
    if (this.chunks.length === 0) return this.buffer.subarray(this.chunkStart, this.offset);
    return Buffer.concat(this.finishChunks(), this.size);
  }
}
