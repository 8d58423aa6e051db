/**
 * Kafka's two segment indexes, `.index` and `.timeindex`, in Kafka's byte layout.
 *
 * - Offset index: 8-byte entries, offset relative to the segment base (i32) then file position
 *   (i32), one per `indexIntervalBytes` of log. Each entry names the LAST offset of the batch that
 *   starts at that position (as Kafka, so DumpLogSegments' check `batch.lastOffset == entry.offset`
 *   holds).
 * - Time index: 12-byte entries, timestamp (i64) then relative offset (i32), appended with an
 *   offset-index entry when the segment's max timestamp has grown.
 *
 * Files are preallocated to `segmentIndexBytes` while their segment is active (zeros after the
 * entries, so an entry of zeros ends the list) and trimmed to their entries when it is rolled or
 * closed. Lookups binary-search an in-memory copy; new entries are written to the file in groups
 * (on flush, roll, close, or every `pendingEntriesMax`), much like Kafka's mmap'ed pages reach the
 * file when the kernel writes them back: the index can always be rebuilt from the log.
 * Not safe for concurrent use; owned by one `LogSegment`.
 */
import assert from 'node:assert';
import type { File, FileSystem } from './fs.js';

/** Entries kept in memory before they are written to the file, bounding the unwritten tail. */
const pendingEntriesMax = 256;

/** Thrown by `open` when an index file fails its sanity check; the segment rebuilds the index. */
export class IndexCorruptError extends Error {
  readonly code = 'INDEX_CORRUPT';
  readonly retriable = false;
}

abstract class IndexFile {
  protected keys = new Float64Array(64);
  protected values = new Int32Array(64);
  count = 0;
  private writtenCount = 0;
  readonly maxEntries: number;

  protected constructor(
    protected readonly fs: FileSystem,
    readonly path: string,
    protected file: File,
    readonly baseOffset: number,
    maxIndexBytes: number,
    protected readonly entrySize: number,
  ) {
    this.maxEntries = Math.floor(maxIndexBytes / entrySize);
  }

  /** Opens (creating) the file, loads and checks its entries; closes the file if they are bad. */
  protected static openWith<T extends IndexFile>(fs: FileSystem, path: string, options: IndexOpenOptions, make: (file: File) => T): T {
    const file = fs.openFile(path, { create: true, truncate: options.truncate });
    const index = make(file);
    try {
      index.load(options.limits);
    } catch (error) {
      file.close();
      throw error;
    }
    return index;
  }

  protected abstract encode(buffer: Buffer, position: number, key: number, value: number): void;
  protected abstract decode(buffer: Buffer, position: number): [key: number, value: number];
  /** Whether `(key, value)` may follow the entry before it (index `count - 1`). */
  protected abstract isValidNext(key: number, value: number, limits: IndexLimits): boolean;

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeBytes(): number {
    return this.count * this.entrySize;
  }

  protected push(key: number, value: number): void {
    assert(!this.isFull, `index ${this.path} is full`);
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.keys.length * 2);
      keys.set(this.keys);
      const values = new Int32Array(this.values.length * 2);
      values.set(this.values);
      this.keys = keys;
      this.values = values;
    }
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
    if (this.count - this.writtenCount >= pendingEntriesMax) this.writePending();
  }

  /** Index of the last entry whose key is ≤ target (< target when `strict`), or -1. */
  protected floor(target: number, strict: boolean): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const key = this.keys[middle];
      if (strict ? key < target : key <= target) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Loads entries from the file, stopping at the first all-zero entry; throws IndexCorruptError on nonsense. */
  protected load(limits: IndexLimits): void {
    const fileSize = this.file.size();
    if (fileSize % this.entrySize !== 0 && fileSize < this.maxEntries * this.entrySize) {
      throw new IndexCorruptError(`index ${this.path} size ${fileSize} is not a multiple of ${this.entrySize}`);
    }
    // A preallocated file (active segment) ends its entries with zeros; a trimmed one is all entries,
    // so a first entry of zeros (timestamp 0 at the base offset) stays an entry there.
    const isPreallocated = fileSize >= this.maxEntries * this.entrySize;
    const chunk = Buffer.allocUnsafe(this.entrySize * 8192);
    for (let position = 0; position + this.entrySize <= fileSize; ) {
      const length = this.file.read(chunk, 0, Math.min(chunk.length, fileSize - position - ((fileSize - position) % this.entrySize)), position);
      for (let at = 0; at + this.entrySize <= length; at += this.entrySize) {
        if (isPreallocated && isZero(chunk, at, this.entrySize)) {
          this.markWritten();
          return;
        }
        const [key, value] = this.decode(chunk, at);
        if (!this.isValidNext(key, value, limits)) throw new IndexCorruptError(`index ${this.path} entry ${this.count} (${key}, ${value}) is out of order or out of range`);
        if (this.isFull) throw new IndexCorruptError(`index ${this.path} has more than ${this.maxEntries} entries`);
        this.push(key, value);
      }
      if (length === 0) break;
      position += length;
    }
    this.markWritten();
  }

  private markWritten(): void {
    this.writtenCount = this.count;
  }

  /** Writes entries not yet in the file (no fsync). */
  writePending(): void {
    if (this.writtenCount >= this.count) return;
    const pending = this.count - this.writtenCount;
    const buffer = Buffer.allocUnsafe(pending * this.entrySize);
    for (let i = 0; i < pending; i++) this.encode(buffer, i * this.entrySize, this.keys[this.writtenCount + i], this.values[this.writtenCount + i]);
    this.file.write(buffer, 0, buffer.length, this.writtenCount * this.entrySize);
    this.writtenCount = this.count;
  }

  flush(): void {
    this.writePending();
    this.file.sync();
  }

  /** Keeps the first `count` entries, zeroing the dropped ones in the file. */
  protected keep(count: number): void {
    if (count >= this.count) return;
    if (count < this.writtenCount) {
      const zeros = Buffer.alloc((this.writtenCount - count) * this.entrySize);
      this.file.write(zeros, 0, zeros.length, count * this.entrySize);
      this.writtenCount = count;
    }
    this.count = count;
  }

  reset(): void {
    this.keep(0);
  }

  /** Trims the file to its entries (segment rolled or closed). */
  trim(): void {
    this.writePending();
    this.file.truncate(this.count * this.entrySize);
  }

  /** Preallocates the file to `segmentIndexBytes` (segment becomes or stays active). */
  preallocate(): void {
    this.writePending();
    this.file.truncate(this.maxEntries * this.entrySize);
  }

  close(): void {
    this.file.close();
  }

  /** Renames the file (compaction swap); the handle stays valid. */
  renameTo(path: string): void {
    this.fs.rename(this.path, path);
    (this as { path: string }).path = path;
  }
}

function isZero(buffer: Buffer, start: number, length: number): boolean {
  for (let i = start; i < start + length; i++) if (buffer[i] !== 0) return false;
  return true;
}

export interface IndexLimits {
  /** Size of the segment's log file: no entry may point at or past it. */
  logSizeBytes: number;
}

export interface IndexOpenOptions {
  baseOffset: number;
  maxIndexBytes: number;
  /** Truncate an existing file to empty (rebuild). */
  truncate?: boolean;
  limits: IndexLimits;
}

/** `.index`: relative offset → file position of the batch starting there. */
export class OffsetIndex extends IndexFile {
  static readonly entrySize = 8;

  static open(fs: FileSystem, path: string, options: IndexOpenOptions): OffsetIndex {
    return IndexFile.openWith(fs, path, options, (file) => new OffsetIndex(fs, path, file, options.baseOffset, options.maxIndexBytes, OffsetIndex.entrySize));
  }

  protected encode(buffer: Buffer, position: number, key: number, value: number): void {
    buffer.writeInt32BE(key, position);
    buffer.writeInt32BE(value, position + 4);
  }
  protected decode(buffer: Buffer, position: number): [number, number] {
    return [buffer.readInt32BE(position), buffer.readInt32BE(position + 4)];
  }
  protected isValidNext(key: number, value: number, limits: IndexLimits): boolean {
    if (key < 0 || value < 0 || value >= limits.logSizeBytes) return false;
    return this.count === 0 || (key > this.keys[this.count - 1] && value > this.values[this.count - 1]);
  }

  /** Adds an entry for the batch at `position` whose last offset is `offset`. */
  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    assert(relative >= 0 && relative <= 0x7fffffff, 'offset index entry out of relative range');
    assert(this.count === 0 || (relative > this.keys[this.count - 1] && position > this.values[this.count - 1]), 'offset index entries must increase');
    this.push(relative, position);
  }

  /** Position of the last indexed batch whose last offset is ≤ `offset`, or 0. Scan forward from there. */
  lookup(offset: number): number {
    const found = this.floor(offset - this.baseOffset, false);
    return found < 0 ? 0 : this.values[found];
  }

  /** The last entry whose offset is ≤ `offset` (absolute offset and position), or undefined. */
  floorEntry(offset: number): { offset: number; position: number } | undefined {
    const found = this.floor(offset - this.baseOffset, false);
    return found < 0 ? undefined : { offset: this.baseOffset + this.keys[found], position: this.values[found] };
  }

  /** Position of the last entry, or 0. */
  get lastPosition(): number {
    return this.count === 0 ? 0 : this.values[this.count - 1];
  }

  /** Drops entries at or past `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    let keepCount = this.count;
    while (keepCount > 0 && this.values[keepCount - 1] >= position) keepCount--;
    this.keep(keepCount);
  }

  /** Entries as absolute offsets (dump, tests). */
  entries(): { offset: number; position: number }[] {
    return Array.from({ length: this.count }, (_, i) => ({ offset: this.baseOffset + this.keys[i], position: this.values[i] }));
  }
}

/** `.timeindex`: max timestamp so far → relative offset of the batch that holds it. */
export class TimeIndex extends IndexFile {
  static readonly entrySize = 12;

  static open(fs: FileSystem, path: string, options: IndexOpenOptions): TimeIndex {
    return IndexFile.openWith(fs, path, options, (file) => new TimeIndex(fs, path, file, options.baseOffset, options.maxIndexBytes, TimeIndex.entrySize));
  }

  protected encode(buffer: Buffer, position: number, key: number, value: number): void {
    buffer.writeBigInt64BE(BigInt(key), position);
    buffer.writeInt32BE(value, position + 8);
  }
  protected decode(buffer: Buffer, position: number): [number, number] {
    const timestamp = buffer.readBigInt64BE(position);
    const safe = timestamp > BigInt(Number.MAX_SAFE_INTEGER) || timestamp < BigInt(Number.MIN_SAFE_INTEGER) ? Number.NaN : Number(timestamp);
    return [safe, buffer.readInt32BE(position + 8)];
  }
  protected isValidNext(key: number, value: number): boolean {
    if (Number.isNaN(key) || value < 0) return false;
    return this.count === 0 || (key > this.keys[this.count - 1] && value >= this.values[this.count - 1]);
  }

  /** Appends `(timestamp, offset)` if `timestamp` is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    if (this.count > 0 && timestamp <= this.keys[this.count - 1]) return;
    if (this.isFull) return;
    const relative = offset - this.baseOffset;
    assert(relative >= 0 && relative <= 0x7fffffff, 'time index entry out of relative range');
    const lastRelative = this.count === 0 ? 0 : this.values[this.count - 1];
    this.push(timestamp, Math.max(relative, lastRelative));
  }

  /**
   * Offset of the last entry whose timestamp is strictly below `timestamp`, or undefined. Every
   * record at or before that offset has a smaller timestamp, so a scan for the first record with
   * timestamp ≥ `timestamp` may start at that offset's batch.
   */
  lookupBelow(timestamp: number): number | undefined {
    const found = this.floor(timestamp, true);
    return found < 0 ? undefined : this.baseOffset + this.values[found];
  }

  /** The last entry whose timestamp is strictly below `timestamp` (absolute offset), or undefined. */
  entryBelow(timestamp: number): { timestamp: number; offset: number } | undefined {
    const found = this.floor(timestamp, true);
    return found < 0 ? undefined : { timestamp: this.keys[found], offset: this.baseOffset + this.values[found] };
  }

  get lastEntry(): { timestamp: number; offset: number } | undefined {
    if (this.count === 0) return undefined;
    return { timestamp: this.keys[this.count - 1], offset: this.baseOffset + this.values[this.count - 1] };
  }

  /** Drops entries whose offset is ≥ `offset` (the log was truncated there). */
  truncateToOffset(offset: number): void {
    let keepCount = this.count;
    while (keepCount > 0 && this.baseOffset + this.values[keepCount - 1] >= offset) keepCount--;
    this.keep(keepCount);
  }

  entries(): { timestamp: number; offset: number }[] {
    return Array.from({ length: this.count }, (_, i) => ({ timestamp: this.keys[i], offset: this.baseOffset + this.values[i] }));
  }
}
