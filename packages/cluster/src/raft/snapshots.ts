/**
 * Snapshot files of the metadata log, in Kafka's format and naming: `<endOffset>-<epoch>.checkpoint`
 * (20 and 10 zero-padded digits) in the partition directory, holding record batches whose first is
 * a SnapshotHeader control batch and whose last is a SnapshotFooter control batch; offsets inside a
 * snapshot start at 0 and every batch carries the snapshot's epoch. The id `(endOffset, epoch)`
 * says the snapshot holds the state after every record below `endOffset`, the last of which was
 * written in `epoch`. A snapshot is written to `<name>.checkpoint.part`, fsynced, and renamed on
 * freeze, so a `.checkpoint` file is always whole; `.part` files left by a crash are deleted on open.
 * Writers and readers are owned by one RaftClient; not safe for concurrent use.
 */
import path from 'node:path';
import type { Clock, File, FileSystem } from '@gregor/log';
import { batchesIn, isBatchCrcValid, readBatchHeader } from '@gregor/records';
import { InvalidSnapshotError } from './errors.js';
import { dataBatch, type RaftBatch, snapshotFooterBatch, snapshotHeaderBatch, toRaftBatch } from './records.js';

export interface SnapshotId {
  /** Offset after the last record the snapshot contains. */
  endOffset: number;
  /** Epoch of the last record the snapshot contains. */
  epoch: number;
}

export const SNAPSHOT_SUFFIX = '.checkpoint';
export const PARTIAL_SUFFIX = '.checkpoint.part';
export const DELETED_SUFFIX = '.checkpoint.deleted';

const NAME = /^(\d{20})-(\d{10})\.checkpoint(\.part|\.deleted)?$/;

export function snapshotFileName(id: SnapshotId): string {
  return `${String(id.endOffset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}${SNAPSHOT_SUFFIX}`;
}

/** The id and state of a snapshot file name, or undefined for other files. */
export function parseSnapshotFileName(name: string): { id: SnapshotId; state: 'frozen' | 'partial' | 'deleted' } | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const state = match[3] === '.part' ? 'partial' : match[3] === '.deleted' ? 'deleted' : 'frozen';
  return { id: { endOffset: Number(match[1]), epoch: Number(match[2]) }, state };
}

export function compareSnapshotIds(a: SnapshotId, b: SnapshotId): number {
  return a.endOffset !== b.endOffset ? a.endOffset - b.endOffset : a.epoch - b.epoch;
}

/**
 * Frozen snapshots in `dir`, oldest first. Partial and deleted ones (a crash while writing,
 * fetching or deleting) are removed.
 */
export function listSnapshots(fs: FileSystem, dir: string): SnapshotId[] {
  const ids: SnapshotId[] = [];
  for (const name of fs.readdir(dir)) {
    const parsed = parseSnapshotFileName(name);
    if (!parsed) continue;
    if (parsed.state === 'frozen') ids.push(parsed.id);
    else fs.unlink(path.join(dir, name));
  }
  return ids.sort(compareSnapshotIds);
}

/**
 * Checks a whole snapshot's bytes: back-to-back batches with valid CRCs, each of the snapshot's
 * epoch, the first a control batch whose only record is a SnapshotHeader, the last one whose only
 * record is a SnapshotFooter, no other control batch. Returns the header's lastContainedLogTimestamp.
 */
export function validateSnapshotBytes(bytes: Buffer, id: SnapshotId): number {
  const positions = [...batchesIn(bytes)];
  const total = positions.reduce((sum, batch) => sum + batch.sizeBytes, 0);
  if (positions.length < 2 || total !== bytes.length) throw new InvalidSnapshotError(`snapshot ${snapshotFileName(id)}: not a whole sequence of batches`);
  let timestamp = -1;
  positions.forEach(({ position }, index) => {
    if (!isBatchCrcValid(bytes, position)) throw new InvalidSnapshotError(`snapshot ${snapshotFileName(id)}: batch at ${position} fails its CRC check`);
    const header = readBatchHeader(bytes, position);
    if (header.partitionLeaderEpoch !== id.epoch) throw new InvalidSnapshotError(`snapshot ${snapshotFileName(id)}: batch at ${position} has epoch ${header.partitionLeaderEpoch}`);
    const first = index === 0;
    const last = index === positions.length - 1;
    if (header.isControl !== (first || last)) throw new InvalidSnapshotError(`snapshot ${snapshotFileName(id)}: control batches only at the start and the end`);
    if (!header.isControl) return;
    const batch = toRaftBatch(bytes, position);
    const expected = first ? 'SnapshotHeader' : 'SnapshotFooter';
    if (batch.controlRecords.length !== 1 || batch.controlRecords[0].type !== expected) {
      throw new InvalidSnapshotError(`snapshot ${snapshotFileName(id)}: expected a ${expected} record at ${position}`);
    }
    const record = batch.controlRecords[0];
    if (record.type === 'SnapshotHeader') timestamp = record.lastContainedLogTimestamp;
  });
  return timestamp;
}

/**
 * What `handleLoadSnapshot` receives: the snapshot's id and its data batches in order (the header
 * and footer are checked and left out). Batches are decoded lazily from the file's bytes.
 */
export class SnapshotReader {
  readonly snapshotId: SnapshotId;
  readonly lastContainedLogTimestamp: number;
  private readonly bytes: Buffer;

  constructor(snapshotId: SnapshotId, bytes: Buffer) {
    this.snapshotId = { ...snapshotId };
    this.lastContainedLogTimestamp = validateSnapshotBytes(bytes, snapshotId);
    this.bytes = bytes;
  }

  /** The offset of the last record the snapshot contains (`endOffset - 1`). */
  get lastContainedOffset(): number {
    return this.snapshotId.endOffset - 1;
  }

  get sizeInBytes(): number {
    return this.bytes.length;
  }

  *batches(): Generator<RaftBatch> {
    for (const { position } of batchesIn(this.bytes)) {
      const batch = toRaftBatch(this.bytes, position);
      if (!batch.control) yield batch;
    }
  }

  /** Every value of the snapshot, in order. */
  *values(): Generator<Buffer> {
    for (const batch of this.batches()) yield* batch.records;
  }
}

/** Reads a frozen snapshot's file whole and checks it. */
export function readSnapshot(fs: FileSystem, dir: string, id: SnapshotId): SnapshotReader {
  return new SnapshotReader(id, fs.readFile(path.join(dir, snapshotFileName(id))));
}

interface WriterOptions {
  fs: FileSystem;
  dir: string;
  id: SnapshotId;
  clock: Clock;
  batchMaxBytes: number;
  /** Called once the snapshot is frozen (renamed to `.checkpoint`). */
  onFrozen: (id: SnapshotId) => void;
}

/** Writes bytes to `<name>.checkpoint.part`; `commit` fsyncs and renames it; `abandon` deletes it. */
class PartialSnapshotFile {
  private file: File | undefined;
  readonly partialPath: string;
  readonly frozenPath: string;

  constructor(
    private readonly fs: FileSystem,
    dir: string,
    id: SnapshotId,
  ) {
    this.frozenPath = path.join(dir, snapshotFileName(id));
    this.partialPath = `${this.frozenPath.slice(0, -SNAPSHOT_SUFFIX.length)}${PARTIAL_SUFFIX}`;
    this.file = fs.openFile(this.partialPath, { create: true, truncate: true });
  }

  get isOpen(): boolean {
    return this.file !== undefined;
  }

  write(bytes: Buffer, position: number): void {
    if (!this.file) throw new InvalidSnapshotError(`${this.partialPath} is no longer open`);
    this.file.write(bytes, 0, bytes.length, position);
  }

  get size(): number {
    return this.file?.size() ?? 0;
  }

  readAll(): Buffer {
    const file = this.file;
    if (!file) throw new InvalidSnapshotError(`${this.partialPath} is no longer open`);
    const bytes = Buffer.alloc(file.size());
    file.read(bytes, 0, bytes.length, 0);
    return bytes;
  }

  commit(): void {
    const file = this.file;
    if (!file) throw new InvalidSnapshotError(`${this.partialPath} is no longer open`);
    file.sync();
    file.close();
    this.file = undefined;
    this.fs.rename(this.partialPath, this.frozenPath);
  }

  abandon(): void {
    if (!this.file) return;
    this.file.close();
    this.file = undefined;
    if (this.fs.exists(this.partialPath)) this.fs.unlink(this.partialPath);
  }
}

/**
 * Writes a snapshot of the state machine: `append(values)` any number of times, then `freeze()`.
 * Values are gathered into batches of at most `batchMaxBytes`, framed by the header and footer
 * batches. `close()` without `freeze()` abandons it (the partial file is deleted).
 */
export class SnapshotWriter {
  readonly snapshotId: SnapshotId;
  private readonly file: PartialSnapshotFile;
  private readonly options: WriterOptions;
  private position = 0;
  private nextOffset = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private frozen = false;

  constructor(options: WriterOptions, lastContainedLogTimestamp: number) {
    this.options = options;
    this.snapshotId = { ...options.id };
    this.file = new PartialSnapshotFile(options.fs, options.dir, options.id);
    this.writeBatch(snapshotHeaderBatch(lastContainedLogTimestamp, this.placement()), 1);
  }

  /** The offset of the last record the snapshot contains. */
  get lastContainedOffset(): number {
    return this.snapshotId.endOffset - 1;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  private placement() {
    return { baseOffset: this.nextOffset, epoch: this.snapshotId.epoch, timestampMs: this.options.clock.now() };
  }

  private writeBatch(batch: Buffer, recordCount: number): void {
    this.file.write(batch, this.position);
    this.position += batch.length;
    this.nextOffset += recordCount;
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.writeBatch(dataBatch(this.pending, this.placement()), this.pending.length);
    this.pending = [];
    this.pendingBytes = 0;
  }

  append(values: readonly Buffer[]): void {
    if (this.frozen || !this.file.isOpen) throw new InvalidSnapshotError(`snapshot ${snapshotFileName(this.snapshotId)} is ${this.frozen ? 'frozen' : 'closed'}`);
    for (const value of values) {
      // A record costs its value plus at most ~20 bytes of varints; the batch header is 61.
      const cost = value.length + 24;
      if (this.pending.length > 0 && this.pendingBytes + cost + 61 > this.options.batchMaxBytes) this.flushPending();
      this.pending.push(value);
      this.pendingBytes += cost;
    }
  }

  /** Writes the footer, fsyncs and renames the file: the snapshot exists from now on. Returns its id. */
  freeze(): SnapshotId {
    if (this.frozen) return this.snapshotId;
    this.flushPending();
    this.writeBatch(snapshotFooterBatch(this.placement()), 1);
    this.file.commit();
    this.frozen = true;
    this.options.onFrozen(this.snapshotId);
    return this.snapshotId;
  }

  /** Abandons an unfrozen snapshot; no effect after `freeze`. */
  close(): void {
    if (!this.frozen) this.file.abandon();
  }
}

/**
 * A snapshot arriving in byte ranges from the leader (FetchSnapshot): ranges are written at their
 * position; `freeze` checks the whole file (`validateSnapshotBytes`) before renaming it.
 */
export class FetchedSnapshotWriter {
  readonly snapshotId: SnapshotId;
  private readonly file: PartialSnapshotFile;
  private readonly onFrozen: (id: SnapshotId) => void;

  constructor(fs: FileSystem, dir: string, id: SnapshotId, onFrozen: (id: SnapshotId) => void) {
    this.snapshotId = { ...id };
    this.file = new PartialSnapshotFile(fs, dir, id);
    this.onFrozen = onFrozen;
  }

  /** Bytes received so far (the next position to fetch). */
  get size(): number {
    return this.file.size;
  }

  write(position: number, bytes: Buffer): void {
    if (position !== this.size) throw new InvalidSnapshotError(`snapshot bytes at ${position}, expected ${this.size}`);
    this.file.write(bytes, position);
  }

  freeze(): void {
    validateSnapshotBytes(this.file.readAll(), this.snapshotId);
    this.file.commit();
    this.onFrozen(this.snapshotId);
  }

  close(): void {
    this.file.abandon();
  }
}

/** Reads `maxBytes` of a frozen snapshot's file from `position` (FetchSnapshot on the leader). */
export function readSnapshotRange(fs: FileSystem, dir: string, id: SnapshotId, position: number, maxBytes: number): { size: number; bytes: Buffer } {
  const file = fs.openFile(path.join(dir, snapshotFileName(id)));
  try {
    const size = file.size();
    const length = Math.max(0, Math.min(maxBytes, size - position));
    const bytes = Buffer.alloc(length);
    if (length > 0) file.read(bytes, 0, length, position);
    return { size, bytes };
  } finally {
    file.close();
  }
}

export function deleteSnapshot(fs: FileSystem, dir: string, id: SnapshotId): void {
  const file = path.join(dir, snapshotFileName(id));
  if (fs.exists(file)) fs.unlink(file);
}
