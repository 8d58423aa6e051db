/**
 * What the log does with damaged bytes, and how it tells the operator.
 *
 * - `WarningSink`: where the log (and the broker above it) reports damage it found and what it did
 *   about it, one line per event with structured fields. The server's `Logger` fits it. Every
 *   warning is also published on the `gregor:log:damage` diagnostics channel (`{ code, message,
 *   ...fields }`) for metrics and the console.
 * - Moving aside: bytes that recovery drops from a segment are first copied, verbatim, to
 *   `<segment>.log.<startPosition>.corrupt` next to it (write to a `.tmp`, fsync, rename), and only
 *   then cut from the segment. The name says which file and which byte the copy starts at, so
 *   `gregor dump-log` can print it with the original positions; the same damage found twice
 *   (a crash between the copy and the cut) writes the same name again. Nothing deletes these
 *   files but the operator (or deleting the partition).
 * - Resynchronisation: after a bad batch, `findNextValidBatch` searches forward for the next
 *   position where a whole valid batch starts (magic 2, plausible length, CRC-32C, offsets after the
 *   last good batch and below the segment's bound, and followed by the end of the file or another
 *   plausible header), so damage costs the bad bytes only, not everything after them.
 * Pure functions over a `File` the caller owns; not safe for concurrent use of that file.
 */
import diagnostics from 'node:diagnostics_channel';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_MIN, BATCH_OVERHEAD_BYTES, CURRENT_MAGIC, isBatchCrcValid } from '@gregor/records';
import type { File, FileSystem } from './fs.js';

export const CORRUPT_FILE_SUFFIX = '.corrupt';

/** The sink of the log's warnings. `fields` are JSON-friendly (numbers, strings). */
export interface WarningSink {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Warnings go to stderr, one line each (the default when no sink is given). */
export const stderrWarningSink: WarningSink = {
  warn(message, fields) {
    const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields)}`;
    process.stderr.write(`WARN gregor:log ${message}${suffix}\n`);
  },
};

export const damageChannel = diagnostics.channel('gregor:log:damage');

/** Reports one warning to `sink` and on the `gregor:log:damage` channel. */
export function reportDamage(sink: WarningSink, code: string, message: string, fields: Record<string, unknown>): void {
  sink.warn(message, { code, ...fields });
  if (damageChannel.hasSubscribers) damageChannel.publish({ code, message, ...fields });
}

/** Bytes of a segment that do not hold valid batches, and what they should have held. */
export interface DamagedRange {
  startPosition: number;
  endPosition: number;
  /** First offset the range may have held: one after the last good batch before it. */
  firstOffset: number;
  /** Last offset it may have held: one before the first good batch after it, or the last offset its headers claim (-1 when none is readable). */
  lastOffset: number;
  /** Records its readable headers claim (best effort: the headers are part of the damage). */
  recordCount: number;
  reason: string;
}

/** What every batch of a segment must satisfy besides its own framing and CRC. */
export interface BatchBounds {
  /** The segment's base offset: no batch starts below it. */
  segmentBaseOffset: number;
  /** Exclusive: no batch may hold this offset or above (the next segment's base offset). */
  upperBoundOffset: number;
  /** The largest `batchLength + 12` accepted (maxMessageBytes + 12). */
  batchBytesMax: number;
}

const SEARCH_CHUNK_BYTES = 1024 * 1024;

/** Framing of a header at `at` of `bytes` (which must hold 61 bytes there): a reason, or undefined when plausible. */
export function headerProblem(bytes: Buffer, at: number, position: number, fileSize: number, previousLastOffset: number, bounds: BatchBounds): string | undefined {
  const batchLength = bytes.readInt32BE(at + 8);
  const sizeBytes = batchLength + BATCH_OVERHEAD_BYTES;
  if (batchLength < BATCH_LENGTH_MIN || sizeBytes > bounds.batchBytesMax) return `batchLength ${batchLength} is outside [${BATCH_LENGTH_MIN}, maxMessageBytes]`;
  if (position + sizeBytes > fileSize) return `batch of ${sizeBytes} bytes runs past the end of the file at ${fileSize}`;
  if (bytes[at + 16] !== CURRENT_MAGIC) return `magic ${bytes[at + 16]} is not ${CURRENT_MAGIC}`;
  const baseOffset = Number(bytes.readBigInt64BE(at));
  const lastOffset = baseOffset + bytes.readInt32BE(at + 23);
  if (baseOffset <= previousLastOffset || baseOffset < bounds.segmentBaseOffset || lastOffset < baseOffset) {
    return `offsets ${baseOffset}..${lastOffset} do not follow ${previousLastOffset}`;
  }
  if (lastOffset >= bounds.upperBoundOffset || lastOffset - bounds.segmentBaseOffset > 0x7fffffff) {
    return `offsets ${baseOffset}..${lastOffset} run past the segment's bound ${bounds.upperBoundOffset}`;
  }
  return undefined;
}

/**
 * The CRC does not cover a batch's baseOffset (Kafka's format), so a flipped bit there shows only
 * as offsets that collide with the next batch's. The batch at `at` is blamed (a reason is
 * returned) when it does not directly follow its predecessor (`previousLastOffset`, unless
 * `trusted`: an index entry named it) and the next header, at `nextAt` of `next`, is sound, does
 * follow the predecessor, and starts at or below this batch's last offset. Undefined otherwise
 * (no next header at hand: the collision, if any, is found with the next batch).
 */
export function collisionProblem(
  bytes: Buffer, at: number, next: Buffer | undefined, nextAt: number, nextPosition: number,
  fileSize: number, previousLastOffset: number, bounds: BatchBounds, trusted = false,
): string | undefined {
  const baseOffset = Number(bytes.readBigInt64BE(at));
  const lastOffset = baseOffset + bytes.readInt32BE(at + 23);
  if (trusted || baseOffset === previousLastOffset + 1 || next === undefined) return undefined;
  if (headerProblem(next, nextAt, nextPosition, fileSize, previousLastOffset, bounds) !== undefined) return undefined;
  const nextBaseOffset = Number(next.readBigInt64BE(nextAt));
  if (nextBaseOffset > lastOffset) return undefined;
  return `offsets ${baseOffset}..${lastOffset} collide with the next batch's ${nextBaseOffset}: its baseOffset (not covered by the CRC) is damaged`;
}

/** A valid batch found by a search: where it starts, its size and offsets. */
export interface FoundBatch {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
}

/**
 * The first position at or after `from` where a whole valid batch starts (framing, magic, CRC,
 * offsets after `previousLastOffset` and within `bounds`) that is followed by the end of the file
 * or by another plausible header, or undefined. Candidates are the bytes equal to the magic (2)
 * 16 bytes in, so most of a damaged range is skipped by `indexOf`; reads are bounded by the chunk
 * size plus one batch.
 */
export function findNextValidBatch(file: File, from: number, fileSize: number, previousLastOffset: number, bounds: BatchBounds): FoundBatch | undefined {
  const chunk = Buffer.allocUnsafe(Math.min(SEARCH_CHUNK_BYTES, Math.max(0, fileSize - from)));
  let chunkStart = from;
  while (chunkStart + BATCH_HEADER_BYTES <= fileSize) {
    const length = file.read(chunk, 0, Math.min(chunk.length, fileSize - chunkStart), chunkStart);
    // Candidates whose header lies wholly in this chunk; the next chunk starts at the first that did not fit.
    const lastCandidate = length - BATCH_HEADER_BYTES;
    for (let magicAt = chunk.indexOf(CURRENT_MAGIC, 16); magicAt >= 0 && magicAt - 16 <= lastCandidate; magicAt = chunk.indexOf(CURRENT_MAGIC, magicAt + 1)) {
      const at = magicAt - 16;
      const position = chunkStart + at;
      if (headerProblem(chunk, at, position, fileSize, previousLastOffset, bounds) !== undefined) continue;
      const found = confirmBatch(file, chunk.subarray(0, length), at, position, fileSize, bounds);
      if (found) return found;
    }
    if (length < chunk.length || lastCandidate < 0) break;
    chunkStart += lastCandidate + 1;
  }
  return undefined;
}

/** CRC of the candidate, then a plausible header (or the end of the file) right after it. `chunk` holds file bytes only. */
function confirmBatch(file: File, chunk: Buffer, at: number, position: number, fileSize: number, bounds: BatchBounds): FoundBatch | undefined {
  const sizeBytes = chunk.readInt32BE(at + 8) + BATCH_OVERHEAD_BYTES;
  const batch = at + sizeBytes <= chunk.length ? chunk.subarray(at, at + sizeBytes) : readExactly(file, position, sizeBytes);
  if (batch === undefined || !isBatchCrcValid(batch, 0)) return undefined;
  const baseOffset = Number(batch.readBigInt64BE(0));
  const lastOffset = baseOffset + batch.readInt32BE(23);
  const next = position + sizeBytes;
  if (next < fileSize) {
    const header = next + BATCH_HEADER_BYTES <= fileSize ? readExactly(file, next, BATCH_HEADER_BYTES) : undefined;
    if (header === undefined || headerProblem(header, 0, next, fileSize, lastOffset, bounds) !== undefined) return undefined;
  }
  return { position, sizeBytes, baseOffset, lastOffset };
}

function readExactly(file: File, position: number, length: number): Buffer | undefined {
  const buffer = Buffer.allocUnsafe(length);
  return file.read(buffer, 0, length, position) === length ? buffer : undefined;
}

/**
 * Reads the headers a damaged range still has, in order, as far as their framing goes: the last
 * offset and the record count they claim (for the warning; the range is dropped either way).
 */
export function claimedContents(file: File, range: { startPosition: number; endPosition: number }, bounds: BatchBounds): { lastOffset: number; recordCount: number } {
  let position = range.startPosition;
  let lastOffset = -1;
  let recordCount = 0;
  const header = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  while (position + BATCH_HEADER_BYTES <= range.endPosition && file.read(header, 0, BATCH_HEADER_BYTES, position) === BATCH_HEADER_BYTES) {
    // A batch cut short (a torn write) still has a readable header: it is counted, and ends the walk.
    if (headerProblem(header, 0, position, Number.MAX_SAFE_INTEGER, lastOffset, { ...bounds, upperBoundOffset: Number.MAX_SAFE_INTEGER }) !== undefined) break;
    lastOffset = Number(header.readBigInt64BE(0)) + header.readInt32BE(23);
    recordCount += Math.max(0, header.readInt32BE(57));
    position += header.readInt32BE(8) + BATCH_OVERHEAD_BYTES;
  }
  return { lastOffset, recordCount };
}

/**
 * Views of a file's bytes through one reused chunk, so a scan costs one read per chunk, not one
 * per batch. A view is valid until the next call. The chunk grows to the largest view asked for
 * (callers bound that by maxMessageBytes).
 */
export class ChunkedReader {
  private chunk: Buffer;
  private chunkStart = 0;
  private chunkLength = 0;

  constructor(
    private readonly file: File,
    readonly fileSize: number,
    chunkBytes: number,
  ) {
    this.chunk = Buffer.allocUnsafe(Math.max(BATCH_HEADER_BYTES, Math.min(chunkBytes, fileSize)));
  }

  /** `length` bytes at `position`, or undefined when the file ends before them. */
  view(position: number, length: number): Buffer | undefined {
    if (position + length > this.fileSize) return undefined;
    if (position < this.chunkStart || position + length > this.chunkStart + this.chunkLength) {
      if (this.chunk.length < length) this.chunk = Buffer.allocUnsafe(length);
      this.chunkStart = position;
      this.chunkLength = this.file.read(this.chunk, 0, Math.min(this.chunk.length, this.fileSize - position), position);
      if (this.chunkLength < length) return undefined;
    }
    const at = position - this.chunkStart;
    return this.chunk.subarray(at, at + length);
  }
}

/**
 * Where reading can resume after a bad batch at `position`: when its header is plausible and only
 * its CRC failed (`claimedSizeBytes`), the batch right after it if that one is valid; otherwise the
 * first valid batch found from the next byte on.
 */
export function resyncAfter(file: File, position: number, claimedSizeBytes: number | undefined, fileSize: number, previousLastOffset: number, bounds: BatchBounds): FoundBatch | undefined {
  if (claimedSizeBytes !== undefined) {
    const direct = findNextValidBatch(file, position + claimedSizeBytes, fileSize, previousLastOffset, bounds);
    if (direct?.position === position + claimedSizeBytes) return direct;
  }
  return findNextValidBatch(file, position + 1, fileSize, previousLastOffset, bounds);
}

/** Copies `[start, end)` of `from` to `to` at `toPosition`, in bounded chunks; returns bytes copied. */
export function copyBytes(from: File, start: number, end: number, to: File, toPosition: number): number {
  const chunk = Buffer.allocUnsafe(Math.min(SEARCH_CHUNK_BYTES, Math.max(1, end - start)));
  let copied = 0;
  while (start + copied < end) {
    const read = from.read(chunk, 0, Math.min(chunk.length, end - start - copied), start + copied);
    if (read === 0) break;
    to.write(chunk, 0, read, toPosition + copied);
    copied += read;
  }
  return copied;
}

/** Renames an unreadable checkpoint file to `<name>.corrupt` (replacing an older one); returns the new path. */
export function moveCheckpointAside(fs: FileSystem, filePath: string): string {
  const target = `${filePath}${CORRUPT_FILE_SUFFIX}`;
  fs.rename(filePath, target);
  return target;
}

/** Path of the copy of a segment's bytes from `startPosition` on. */
export function corruptCopyPath(logPath: string, startPosition: number): string {
  return `${logPath}.${startPosition}${CORRUPT_FILE_SUFFIX}`;
}

/**
 * Copies `[startPosition, endPosition)` of `file` (the segment at `logPath`) to its `.corrupt`
 * path, durably, in bounded chunks; returns that path.
 */
export function copyAside(fs: FileSystem, file: File, logPath: string, startPosition: number, endPosition: number): string {
  const target = corruptCopyPath(logPath, startPosition);
  const temporary = `${target}.tmp`;
  const out = fs.openFile(temporary, { create: true, truncate: true });
  try {
    copyBytes(file, startPosition, endPosition, out, 0);
    out.sync();
  } finally {
    out.close();
  }
  fs.rename(temporary, target);
  return target;
}
