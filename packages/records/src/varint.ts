/**
 * Kafka's variable-length integers (protobuf encoding): unsigned varints (7 bits per byte, low
 * group first, high bit = more), and signed values zigzag-encoded first. A varint is at most 5
 * bytes, a varlong at most 10; longer encodings are CorruptRecordError, as in Kafka's ByteUtils.
 * Varlongs are JavaScript numbers, exact within the safe-integer range.
 *
 * Readers return the value and leave the position after it in `cursor.position`, so the hot
 * decode loop allocates nothing. Pure functions over caller-owned buffers.
 */
import { CorruptRecordError } from './errors.js';

/** A position in a buffer that readers advance. */
export interface Cursor {
  position: number;
}

const TWO_POW_32 = 4294967296;

/** Bytes needed for `value` (an unsigned 32-bit number) as an unsigned varint. */
export function sizeOfUnsignedVarint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes needed for `value` (a signed 32-bit integer) as a zigzag varint. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
}

/** Bytes needed for `value` (a safe integer) as a zigzag varlong. */
export function sizeOfVarlong(value: number): number {
  if (value >= -0x8000000 && value < 0x8000000) return sizeOfVarint(value);
  // zigzag(value) = 2m + sign, with m below 2^53: the first byte holds 6 bits of m, the rest 7.
  let rest = Math.floor((value >= 0 ? value : -value - 1) / 64);
  let bytes = 1;
  while (rest > 0) {
    rest = Math.floor(rest / 128);
    bytes++;
  }
  return bytes;
}

/** Writes `value` (unsigned 32-bit) at `position`; returns the position after it. */
export function writeUnsignedVarint(buffer: Buffer, position: number, value: number): number {
  let remaining = value >>> 0;
  while (remaining >= 0x80) {
    buffer[position++] = (remaining & 0x7f) | 0x80;
    remaining >>>= 7;
  }
  buffer[position++] = remaining;
  return position;
}

/** Writes `value` (signed 32-bit) zigzag-encoded at `position`; returns the position after it. */
export function writeVarint(buffer: Buffer, position: number, value: number): number {
  const zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  // Fast path: most record fields (lengths under 64, small deltas) take one byte.
  if (zigzag < 0x80) {
    buffer[position] = zigzag;
    return position + 1;
  }
  return writeUnsignedVarint(buffer, position, zigzag);
}

/** Writes `value` (a safe integer) as a zigzag varlong; returns the position after it. */
export function writeVarlong(buffer: Buffer, position: number, value: number): number {
  if (value >= -0x8000000 && value < 0x8000000) return writeVarint(buffer, position, value);
  // zigzag(value) = 2m + sign can reach 2^54, beyond exact doubles, so it is never formed: the
  // first byte takes the sign and 6 bits of m, the following bytes 7 bits each.
  const magnitude = value >= 0 ? value : -value - 1;
  let rest = Math.floor(magnitude / 64);
  buffer[position++] = ((magnitude % 64) * 2 + (value >= 0 ? 0 : 1)) | (rest > 0 ? 0x80 : 0);
  while (rest >= 128) {
    buffer[position++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  if (rest > 0) buffer[position++] = rest;
  return position;
}

/** Reads an unsigned varint (at most 5 bytes) at `cursor.position`, never past `end`. */
export function readUnsignedVarint(buffer: Buffer, cursor: Cursor, end: number): number {
  let position = cursor.position;
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (position >= end) throw new CorruptRecordError('varint runs past the end of its data');
    const byte = buffer[position++];
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.position = position;
      return value >>> 0;
    }
  }
  throw new CorruptRecordError('varint is longer than 5 bytes');
}

/** Reads a zigzag varint (signed 32-bit) at `cursor.position`, never past `end`. */
export function readVarint(buffer: Buffer, cursor: Cursor, end: number): number {
  // Fast path: most record fields fit in one byte.
  const position = cursor.position;
  if (position < end) {
    const byte = buffer[position];
    if (byte < 0x80) {
      cursor.position = position + 1;
      return (byte >>> 1) ^ -(byte & 1);
    }
  }
  const raw = readUnsignedVarint(buffer, cursor, end);
  return (raw >>> 1) ^ -(raw & 1);
}

/** Reads a zigzag varlong (at most 10 bytes) at `cursor.position`, never past `end`. */
export function readVarlong(buffer: Buffer, cursor: Cursor, end: number): number {
  let position = cursor.position;
  let low = 0;
  // The first four bytes fit a 28-bit integer; only longer values need floating-point arithmetic.
  for (let shift = 0; shift < 28; shift += 7) {
    if (position >= end) throw new CorruptRecordError('varlong runs past the end of its data');
    const byte = buffer[position++];
    low |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.position = position;
      return (low >>> 1) ^ -(low & 1);
    }
  }
  // Longer values: accumulate m = zigzag >> 1 (exact below 2^53) and the sign bit separately.
  const sign = low & 1;
  let magnitude = low >>> 1;
  let multiplier = 0x8000000;
  for (let index = 4; index < 10; index++) {
    if (position >= end) throw new CorruptRecordError('varlong runs past the end of its data');
    const byte = buffer[position++];
    magnitude += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      cursor.position = position;
      if (magnitude > Number.MAX_SAFE_INTEGER - sign) throw new CorruptRecordError('varlong is outside the safe-integer range');
      return sign === 0 ? magnitude : -magnitude - 1;
    }
    multiplier *= 128;
  }
  throw new CorruptRecordError('varlong is longer than 10 bytes');
}

/** Reads a big-endian int64 as a number; values outside the safe-integer range are corrupt. */
export function readInt64(buffer: Buffer, position: number): number {
  const high = buffer.readInt32BE(position);
  const low = buffer.readUInt32BE(position + 4);
  if (high > 0x1fffff || high < -0x200000) throw new CorruptRecordError(`int64 at ${position} is not a safe integer`);
  return high * TWO_POW_32 + low;
}

/** Writes a safe integer as a big-endian int64. */
export function writeInt64(buffer: Buffer, position: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buffer.writeInt32BE(high, position);
  buffer.writeUInt32BE(value - high * TWO_POW_32, position + 4);
}
